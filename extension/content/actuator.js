// In-page actuator for the Microsoft sign-in and Security info pages.
//
// Plain JavaScript on purpose: Entra's CSP forbids WebAssembly in these pages
// (see DESIGN.md), so the decisions are made by Rust in the service worker.
// This script only reports what the page shows (a compact snapshot) whenever
// the DOM settles. It never reports the value of an input: a TAP typed into a
// box must not travel back.
(() => {
  'use strict';
  if (window.__passkeyActuator) return; // injected twice into one document
  window.__passkeyActuator = true;

  // How long the DOM must stay quiet before a snapshot is sent. Not a sleep:
  // the timer restarts on every mutation, so it measures "settled".
  const SETTLE_MS = 60;
  const MAX_TEXT = 200;
  const MAX_ELEMENTS = 400;
  const SELECTOR = 'input, button, select, textarea, a[href], [role], h1, h2, h3, [aria-level], label, [id$="Description"], #ms-banner';

  const handles = new WeakMap();
  let nextHandle = 1;
  const handleOf = (el) => {
    let h = handles.get(el);
    if (!h) { h = nextHandle++; handles.set(el, h); }
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

  function snapshot() {
    const elements = [];
    for (const el of document.querySelectorAll(SELECTOR)) {
      if (elements.length >= MAX_ELEMENTS) break;
      elements.push({
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
      });
    }
    return {
      url: location.href,
      title: document.title,
      lang: document.documentElement.lang || '',
      elements,
    };
  }

  let timer = 0;
  let reason = 'load';
  function send() {
    timer = 0;
    const msg = { type: 'snapshot', reason, snapshot: snapshot() };
    reason = 'mutation';
    // The worker may be restarting; a lost snapshot is replaced by the next.
    chrome.runtime.sendMessage(msg).catch(() => {});
  }
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(send, SETTLE_MS);
  }

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
