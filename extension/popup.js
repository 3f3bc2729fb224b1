// Loads the UI WASM and hands the popup to it.
import init, { popup_main } from './wasm/ext_ui.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/ext_ui_bg.wasm') });
await popup_main();
