// In-page actuator for the Microsoft sign-in and Security info pages.
//
// Plain JavaScript on purpose: Entra's CSP forbids WebAssembly in these pages
// (see DESIGN.md), so every decision is made by Rust in the service worker.
// This script only
//   * reports what the page shows (a compact snapshot) whenever the DOM
//     settles, and on request;
//   * carries out primitive commands (click, fill) on elements it reported,
//     answering an outcome per command instead of throwing, so the driver can
//     decide to retry (as Playwright's injected script does);
//   * relays the WebAuthn bridge's requests (MAIN world, bridge.js) to the
//     worker and the answers back.
// It never reports the value of an input: a TAP typed into a box must not
// travel back.
(() => {
  'use strict';
  if (window.__passkeyActuator) return; // injected twice into one document
  window.__passkeyActuator = true;

  // How long the DOM must stay quiet before a snapshot is sent. Not a sleep:
  // the timer restarts on every mutation, so it measures "settled".
  const SETTLE_MS = 10;
  // A page that never stops changing (a script-driven spinner) still gets
  // looked at: a snapshot at least this often while mutations go on.
  const MAX_WAIT_MS = 250;
  const MAX_TEXT = 200;
  const MAX_CLASS = 120;
  const MAX_ELEMENTS = 400;
  const SELECTOR = [
    'input:not([type=hidden])', 'button', 'select', 'textarea', 'a[href]', '[role]',
    'h1', 'h2', 'h3', 'label', '[id$="Description"]', '[id$="Error"]', '#ms-banner', '#errorMessage',
  ].join(',');
  const documentId = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

  const handles = new WeakMap();
  const elements = new Map(); // handle -> WeakRef(element)
  let nextHandle = 1;
  const handleOf = (el) => {
    let h = handles.get(el);
    if (!h) {
      h = nextHandle++;
      handles.set(el, h);
      elements.set(h, new WeakRef(el));
    }
    return h;
  };

  const isVisible = (el) => {
    if (!el.isConnected) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };

  const textOf = (el) => {
    // Inputs: their label-ish attributes, never their value.
    const raw = el.tagName === 'INPUT'
      ? (el.type === 'submit' || el.type === 'button' ? el.value : (el.placeholder || ''))
      : (el.innerText || el.textContent || '');
    return raw.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);
  };

  const attr = (el, name) => {
    const v = el.getAttribute(name);
    return v === null || v === '' ? undefined : v.slice(0, MAX_TEXT);
  };

  // The sign-in pages' `$Config={...}` lives in an inline script; the
  // isolated world cannot read page variables, but it can read the text.
  function pageConfig() {
    for (const s of document.scripts) {
      const t = s.textContent || '';
      const i = t.indexOf('$Config=');
      if (i < 0) continue;
      const pick = (key) => {
        const m = t.slice(i).match(new RegExp(`"${key}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|-?\\d+)`));
        if (!m) return undefined;
        try { return String(JSON.parse(m[1])).slice(0, MAX_TEXT); } catch { return undefined; }
      };
      return { pgid: pick('pgid'), errorCode: pick('iErrorCode'), serviceException: pick('strServiceExceptionMessage') };
    }
    return undefined;
  }

  function snapshot() {
    const list = [];
    for (const el of document.querySelectorAll(SELECTOR)) {
      if (list.length >= MAX_ELEMENTS) break;
      const dialog = el.closest('[role=dialog],[role=alertdialog]');
      list.push({
        handle: handleOf(el),
        tag: el.tagName.toLowerCase(),
        id: attr(el, 'id'),
        name: attr(el, 'name'),
        type: attr(el, 'type'),
        role: attr(el, 'role'),
        ariaLabel: attr(el, 'aria-label'),
        text: textOf(el),
        visible: isVisible(el),
        enabled: !el.disabled && el.getAttribute('aria-disabled') !== 'true',
        class: (el.getAttribute('class') || '').slice(0, MAX_CLASS),
        dialog: dialog && dialog !== el ? handleOf(dialog) : undefined,
      });
    }
    return {
      document: documentId,
      url: location.href,
      title: document.title,
      lang: document.documentElement.lang || '',
      httpStatus: performance.getEntriesByType('navigation')[0]?.responseStatus || 0,
      elements: list,
      config: pageConfig(),
    };
  }

  let timer = 0;
  let reason = 'load';
  // When the DOM last changed: the page was ready to act on from then.
  let lastMutationAt = performance.now();
  function send() {
    timer = 0;
    const msg = { type: 'snapshot', reason, snapshot: snapshot() };
    reason = 'mutation';
    // The worker may be restarting; a lost snapshot is replaced by the next.
    chrome.runtime.sendMessage(msg).catch(() => {});
  }
  let pendingSince = 0;
  function schedule() {
    const now = performance.now();
    lastMutationAt = now;
    if (timer) clearTimeout(timer);
    else pendingSince = now;
    // Sent from here, not from a timer: a page changing every few
    // milliseconds would clear a timer before it fired (the browser clamps
    // nested timers to 4 ms).
    if (now - pendingSince >= MAX_WAIT_MS) {
      send();
      return;
    }
    timer = setTimeout(send, SETTLE_MS);
  }

  // --- primitives ---------------------------------------------------------

  function target(handle) {
    const el = elements.get(handle)?.deref();
    if (!el) return [null, 'notFound'];
    if (!el.isConnected) return [null, 'notConnected'];
    if (!isVisible(el)) return [null, 'notVisible'];
    if (el.disabled || el.getAttribute('aria-disabled') === 'true') return [null, 'disabled'];
    return [el, 'ok'];
  }

  function click(handle) {
    const [el, outcome] = target(handle);
    if (!el) return outcome;
    el.scrollIntoView({ block: 'center', inline: 'center' });
    el.focus?.();
    el.click();
    return 'ok';
  }

  function fill(handle, value) {
    const [el, outcome] = target(handle);
    if (!el) return outcome;
    const proto = el instanceof HTMLInputElement ? HTMLInputElement.prototype
      : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : null;
    if (!proto || el.readOnly) return 'notFillable';
    el.focus();
    // The native setter, so frameworks that track the value (React) see the
    // change; then the events real typing fires.
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText' }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    return 'ok';
  }

  function run(commands) {
    const idleMs = performance.now() - lastMutationAt;
    const outcomes = [];
    for (const c of commands) {
      const outcome = c.op === 'click' ? click(c.handle)
        : c.op === 'fill' ? fill(c.handle, String(c.value ?? ''))
        : 'notFound';
      outcomes.push(outcome);
      if (outcome !== 'ok') break;
    }
    schedule();
    return { outcomes, idleMs };
  }

  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id) return false;
    if (msg?.type === 'run' && Array.isArray(msg.commands)) {
      sendResponse(run(msg.commands));
    } else if (msg?.type === 'snapshot') {
      sendResponse(snapshot());
    }
    return false;
  });

  // --- WebAuthn relay -----------------------------------------------------
  // bridge.js (page world) posts {__passkeyBridge: 'create', options} with a
  // MessagePort; the answer goes back on that port. Only same-window,
  // same-origin messages count.
  window.addEventListener('message', (event) => {
    const data = event.data;
    if (event.source !== window || event.origin !== location.origin) return;
    if (!data || typeof data !== 'object' || !('__passkeyBridge' in data)) return;
    const port = event.ports[0];
    if ((data.__passkeyBridge === 'create' || data.__passkeyBridge === 'get') && port) {
      const type = data.__passkeyBridge === 'create' ? 'webauthnCreate' : 'webauthnGet';
      chrome.runtime.sendMessage({ type, options: data.options })
        .then((answer) => port.postMessage(answer ?? { answer: 'fallback' }))
        .catch(() => port.postMessage({ answer: 'fallback' }));
      // The bridge closes the channel once it has the answer.
    } else if (data.__passkeyBridge === 'observed' && typeof data.credentialId === 'string') {
      chrome.runtime.sendMessage({ type: 'webauthnObserved', credentialId: data.credentialId.slice(0, 1024) }).catch(() => {});
    }
  });

  function start() {
    new MutationObserver(schedule).observe(document.documentElement, {
      subtree: true, childList: true, attributes: true, characterData: true,
    });
    schedule();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
  } else {
    start();
  }
})();
