// Loads the UI WASM and hands the Show Logs page to it.
import init, { logs_main } from './wasm/ext_ui.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/ext_ui_bg.wasm') });
await logs_main();
