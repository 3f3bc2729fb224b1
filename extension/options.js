// Loads the UI WASM and hands the Options page to it.
import init, { options_main } from './wasm/ext_ui.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/ext_ui_bg.wasm') });
await options_main();
