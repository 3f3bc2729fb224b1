// Service worker entry. It only loads the WASM and forwards events to it.
//
// Every listener is registered synchronously, at the top level, before the
// WASM is ready: Manifest V3 delivers the event that woke a stopped worker
// only to listeners that exist when the script's first run ends. Each
// listener then waits for the WASM and hands the event over.
import init, * as worker from './wasm/ext_worker.js';

// start() loads the persisted queue and resumes a job a stopped worker left
// running; every handler waits for it.
const ready = init({ module_or_path: chrome.runtime.getURL('wasm/ext_worker_bg.wasm') })
  .then(() => worker.start());

// Turns a failure of the glue itself into the protocol's error shape, so a
// caller always gets one answer.
function internalError(err) {
  return { type: 'error', code: 'internal', message: `the extension failed: ${err && err.message || err}` };
}

chrome.runtime.onMessageExternal.addListener((message, sender, sendResponse) => {
  ready
    .then(() => worker.on_external_message(message, sender))
    .then(sendResponse, (err) => sendResponse(internalError(err)));
  return true; // the answer comes asynchronously
});

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  ready
    .then(() => worker.on_internal_message(message, sender))
    .then(sendResponse, (err) => sendResponse(internalError(err)));
  return true;
});

chrome.windows.onRemoved.addListener((windowId) => {
  ready.then(() => worker.on_window_removed(windowId));
});

chrome.alarms.onAlarm.addListener((alarm) => {
  ready.then(() => worker.on_alarm(alarm.name));
});
