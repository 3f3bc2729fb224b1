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
    'input:not([type=hidden])', 'button', 'select', 'option', 'textarea', 'a', '[role]', '[data-testid]',
    'h1', 'h2', 'h3', 'label', 'form', 'ul', 'ol', 'li', 'table', 'tr',
    '[id$="Description"]', '[id$="Error"]', '#ms-banner', '#errorMessage',
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
    // A native <select>'s options have no box of their own: they show
    // when their select does.
    if (el.tagName === 'OPTION') {
      const select = el.closest('select');
      return !!select && !el.disabled && isVisible(select);
    }
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };

  const clean = (raw) => String(raw || '').replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);

  // Lists and tables carry the methods Security info shows (a key is
  // found there by its name): a longer cut.
  const LONG_TEXT = new Set(['UL', 'OL', 'TABLE']);
  const MAX_LIST_TEXT = 2000;
  const textOf = (el) => {
    // Inputs: their label-ish attributes, never their value. A select
    // shows its chosen option, as a person sees it.
    const raw = el.tagName === 'INPUT'
      ? (el.type === 'submit' || el.type === 'button' ? el.value : (el.placeholder || ''))
      : el.tagName === 'SELECT' ? Array.from(el.selectedOptions, (o) => o.text).join(' ')
      : (el.innerText || el.textContent || '');
    const role = el.getAttribute('role');
    const long = LONG_TEXT.has(el.tagName) || role === 'list' || role === 'grid' || role === 'table';
    return String(raw || '').replace(/\s+/g, ' ').trim().slice(0, long ? MAX_LIST_TEXT : MAX_TEXT);
  };

  const attr = (el, name) => {
    const v = el.getAttribute(name);
    return v === null || v === '' ? undefined : v.slice(0, MAX_TEXT);
  };

  // The role a screen reader announces: the explicit one (first token), or
  // the one the tag implies (HTML-AAM, the cases these pages use).
  function roleOf(el) {
    const explicit = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
    if (explicit) return explicit;
    const tag = el.tagName;
    if (tag === 'BUTTON') return 'button';
    if (tag === 'A') return el.hasAttribute('href') ? 'link' : undefined;
    if (tag === 'SELECT') return el.multiple ? 'listbox' : 'combobox';
    if (tag === 'TEXTAREA') return 'textbox';
    if (/^H[1-6]$/.test(tag)) return 'heading';
    if (tag === 'OPTION') return 'option';
    if (tag === 'UL' || tag === 'OL') return 'list';
    if (tag === 'LI') return el.parentElement && /^(UL|OL|MENU)$/.test(el.parentElement.tagName) ? 'listitem' : undefined;
    if (tag === 'TABLE') return 'table';
    if (tag === 'TR') return 'row';
    if (tag === 'FORM') return 'form';
    if (tag === 'INPUT') {
      const t = (el.getAttribute('type') || 'text').toLowerCase();
      if (['submit', 'button', 'reset', 'image'].includes(t)) return 'button';
      if (t === 'checkbox') return 'checkbox';
      if (t === 'radio') return 'radio';
      return 'textbox';
    }
    return undefined;
  }

  // Text from the elements an aria-labelledby names.
  const byIds = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id))
    .filter(Boolean).map((n) => n.innerText || n.textContent || '').join(' ');

  // The accessible name, in the order the accname rules take it:
  // aria-labelledby, aria-label, <label for>/wrapping label, text content,
  // the value of input buttons, title, placeholder. Never an input's value.
  function nameOf(el) {
    const labelledby = el.getAttribute('aria-labelledby');
    if (labelledby) {
      const t = clean(byIds(labelledby));
      if (t) return t;
    }
    const aria = clean(el.getAttribute('aria-label'));
    if (aria) return aria;
    const tag = el.tagName;
    const isField = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
    if (isField && el.labels && el.labels.length) {
      const t = clean(Array.from(el.labels, (l) => l.innerText || l.textContent || '').join(' '));
      if (t) return t;
    }
    if (tag === 'INPUT') {
      const t = (el.type || '').toLowerCase();
      if (t === 'submit' || t === 'button' || t === 'reset') {
        const v = clean(el.value);
        if (v) return v;
      }
    } else if (!isField) {
      const t = clean(el.innerText || el.textContent);
      if (t) return t;
    }
    return clean(el.getAttribute('title') || el.getAttribute('placeholder') || el.getAttribute('alt'));
  }

  const isSubmit = (el) => {
    if (el.tagName === 'BUTTON') return (el.getAttribute('type') || 'submit').toLowerCase() === 'submit';
    if (el.tagName === 'INPUT') return ['submit', 'image'].includes((el.getAttribute('type') || '').toLowerCase());
    return false;
  };

  const isDisabled = (el) => !!el.disabled || !!el.closest('[aria-disabled=true]')
    || !!el.closest('fieldset[disabled]');

  // aria-checked / aria-selected / aria-expanded as a boolean, if stated.
  const state = (el, name) => {
    const v = el.getAttribute(name);
    return v === 'true' ? true : v === 'false' ? false : undefined;
  };
  const checkedOf = (el) => state(el, 'aria-checked') ?? state(el, 'aria-selected') ?? state(el, 'aria-pressed')
    ?? (el.tagName === 'OPTION' ? el.selected
      : el.type === 'checkbox' || el.type === 'radio' ? el.checked : undefined);

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
    const docLang = document.documentElement.lang || '';
    for (const el of document.querySelectorAll(SELECTOR)) {
      if (list.length >= MAX_ELEMENTS) break;
      const dialog = el.closest('[role=dialog],[role=alertdialog]');
      const form = el.form || el.closest('form');
      const langEl = el.closest('[lang]');
      const lang = langEl && langEl.lang !== docLang ? langEl.lang : undefined;
      const field = el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT'
        && !['checkbox', 'radio', 'submit', 'button', 'reset', 'image'].includes((el.type || '').toLowerCase()));
      list.push({
        handle: handleOf(el),
        tag: el.tagName.toLowerCase(),
        id: attr(el, 'id'),
        name: attr(el, 'name'),
        type: attr(el, 'type'),
        role: roleOf(el),
        ariaLabel: attr(el, 'aria-label'),
        label: nameOf(el) || undefined,
        text: textOf(el),
        visible: isVisible(el),
        enabled: !isDisabled(el),
        class: (el.getAttribute('class') || '').slice(0, MAX_CLASS),
        testid: attr(el, 'data-testid'),
        submit: isSubmit(el) || undefined,
        form: form ? handleOf(form) : undefined,
        // Whether a box has text: its length, never its value.
        filled: field ? el.value.length > 0 : undefined,
        checked: checkedOf(el),
        expanded: state(el, 'aria-expanded'),
        level: /^H[1-6]$/.test(el.tagName) ? Number(el.tagName[1]) : (Number(el.getAttribute('aria-level')) || undefined),
        lang,
        dialog: dialog && dialog !== el ? handleOf(dialog) : undefined,
      });
    }
    return {
      document: documentId,
      url: location.href,
      title: document.title,
      lang: docLang,
      dir: document.documentElement.dir || document.body?.dir || '',
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
    if (isDisabled(el)) return [el, 'disabled'];
    return [el, 'ok'];
  }

  // A button that enables once its field is filled (Fluent UI's Next) is
  // waited for, not failed: until the next DOM change that enables it, at
  // most ENABLE_WAIT_MS. An event, not a sleep.
  const ENABLE_WAIT_MS = 2000;
  function whenEnabled(handle) {
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome) => {
        if (done) return;
        done = true;
        observer.disconnect();
        clearTimeout(timeout);
        resolve(outcome);
      };
      const check = () => {
        const [, outcome] = target(handle);
        if (outcome !== 'disabled') finish(outcome);
      };
      const observer = new MutationObserver(check);
      observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true });
      const timeout = setTimeout(() => finish('disabled'), ENABLE_WAIT_MS);
      check();
    });
  }

  async function click(handle) {
    let [el, outcome] = target(handle);
    if (outcome === 'disabled') {
      outcome = await whenEnabled(handle);
      el = outcome === 'ok' ? target(handle)[0] : null;
    }
    if (outcome !== 'ok' || !el) return outcome;
    // An option of a native <select> is chosen as a person's pick would
    // be: the select's value, then its input and change events.
    if (el instanceof HTMLOptionElement) {
      const select = el.closest('select');
      if (!select) return 'notFound';
      select.focus();
      select.value = el.value;
      el.selected = true;
      select.dispatchEvent(new Event('input', { bubbles: true }));
      select.dispatchEvent(new Event('change', { bubbles: true }));
      return 'ok';
    }
    el.scrollIntoView({ block: 'center', inline: 'center' });
    el.focus?.();
    // The events a real press fires before the click: some controls
    // (dropdowns, ARIA-only buttons) act on the press, not the click.
    const r = el.getBoundingClientRect();
    const at = { bubbles: true, cancelable: true, composed: true, view: window, button: 0,
      clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 };
    el.dispatchEvent(new PointerEvent('pointerdown', { ...at, pointerType: 'mouse', isPrimary: true }));
    el.dispatchEvent(new MouseEvent('mousedown', { ...at, buttons: 1 }));
    el.dispatchEvent(new PointerEvent('pointerup', { ...at, pointerType: 'mouse', isPrimary: true }));
    el.dispatchEvent(new MouseEvent('mouseup', at));
    // The press may have changed the page (a dropdown that opens on
    // mousedown re-renders): click only what is still there.
    if (el.isConnected) el.click();
    return 'ok';
  }

  function fill(handle, value) {
    const [el, outcome] = target(handle);
    if (outcome !== 'ok') return outcome;
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

  async function run(commands) {
    const idleMs = performance.now() - lastMutationAt;
    const outcomes = [];
    for (const c of commands) {
      const outcome = c.op === 'click' ? await click(c.handle)
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
      // Answered when the commands are carried out (a click may wait for
      // its button to enable): keep the channel open.
      run(msg.commands).then(sendResponse, () => sendResponse({ outcomes: ['notFound'], idleMs: 0 }));
      return true;
    }
    if (msg?.type === 'snapshot') sendResponse(snapshot());
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
    // The parsed document is looked at at once: a server-rendered page is
    // complete now, and one that renders later sends again when it settles.
    send();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
  } else {
    start();
  }
})();
