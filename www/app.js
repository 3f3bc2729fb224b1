// The admin panel's front end. Plain JS, no build step. Everything the
// server or Microsoft sends is rendered with textContent (display names may
// hold markup); the CSP forbids inline script anyway.
'use strict';

const EXTENSION_ID = 'hecbpkpmfjdaabfmannfjnghmhoijkgp';
const PAGE_SIZE = 50;
const POLL_MS = 1000;

const $ = (id) => document.getElementById(id);

const state = {
  account: null,
  csrf: '',
  users: [],
  total: 0,
  offset: 0,
  selected: new Set(),
  user: null,
  polling: null,
  request: null,
  tap: null,
};

// ---------- helpers ----------

/** Makes an element; children are nodes or strings (as text). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function when(value) {
  if (value === null || value === undefined || value === '') return '—';
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

function duration(seconds) {
  if (seconds <= 0) return 'expired';
  const days = Math.floor(seconds / 86400);
  if (days >= 2) return `${days} days`;
  const hours = Math.floor(seconds / 3600);
  if (hours >= 1) return `${hours} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.max(1, Math.floor(seconds / 60))} min`;
}

class ApiError extends Error {
  constructor(status, code, message, hint) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

/** Calls the panel's API; JSON in and out; the CSRF token on every call. */
async function api(method, path, body) {
  const headers = { 'X-CSRF-Token': state.csrf };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The panel could not be reached. Check that it is running.');
  }
  const text = await resp.text();
  let data = null;
  if (text && (resp.headers.get('content-type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    const err = data && data.error ? data.error : { code: 'http', message: `HTTP ${resp.status}` };
    const e = new ApiError(resp.status, err.code, err.message, err.hint);
    if (resp.status === 401 && path !== '/api/login') {
      showLogin(err.code === 'sessionExpired' ? 'Your session has expired; sign in again.' : '');
    }
    throw e;
  }
  return data !== null ? data : text;
}

function flash(message, kind = '') {
  const f = $('flash');
  f.textContent = message;
  f.className = `banner ${kind}`;
  f.hidden = !message;
}

function errorText(e) {
  return e.hint ? `${e.message} — ${e.hint}` : e.message;
}

// ---------- views ----------

const VIEWS = ['login', 'users', 'user', 'tenant', 'audit', 'accounts'];

function show(view) {
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === view || (view === 'user' && a.dataset.nav === 'users')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  $('top').hidden = view === 'login';
}

function showLogin(message) {
  stopPolling();
  state.account = null;
  show('login');
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  $('login-user').focus();
}

async function route() {
  if (!state.account) return;
  const hash = location.hash.replace(/^#/, '') || 'users';
  const [name, arg] = hash.split('/');
  try {
    if (name === 'user' && arg) await openUser(decodeURIComponent(arg));
    else if (name === 'tenant') await openTenant();
    else if (name === 'audit') await openAudit();
    else if (name === 'accounts' && state.account.role === 'owner') await openAccounts();
    else await openUsers();
  } catch (e) {
    if (e.status !== 401) flash(errorText(e), 'danger');
  }
}

// ---------- session ----------

async function startSession(data) {
  state.account = data.account;
  state.csrf = data.csrfToken;
  $('who-name').textContent = `${data.account.username} (${data.account.role === 'owner' ? 'Owner' : 'Admin'})`;
  $('nav-accounts').hidden = data.account.role !== 'owner';
  for (const b of [$('sync-users'), $('add-passkey')]) b.disabled = !data.account.editUsers;
  $('tls-warning').hidden = !data.insecureTls;
  await route();
  $('main').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  try {
    const data = await api('POST', '/api/login', {
      username: $('login-user').value,
      password: $('login-password').value,
    });
    $('login-password').value = '';
    const info = await api('GET', '/api/session');
    await startSession(info || data);
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
});

$('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/logout'); } catch { /* signed out anyway */ }
  showLogin('');
});

// ---------- users ----------

async function openUsers() {
  show('users');
  await loadUsers();
}

async function loadUsers() {
  const q = $('user-search').value.trim();
  const waiting = $('only-waiting').checked ? '&waiting=true' : '';
  const data = await api('GET', `/api/users?q=${encodeURIComponent(q)}&limit=${PAGE_SIZE}&offset=${state.offset}${waiting}`);
  state.users = data.users;
  state.total = data.total;
  renderUsers();
}

function renderUsers() {
  const body = $('users-body');
  // A refresh keeps keyboard focus where it was (the same user's link or
  // check box), instead of dropping it to the page.
  const focused = document.activeElement;
  const focusedUser = body.contains(focused) ? focused.closest('tr')?.dataset.user : undefined;
  const focusedTag = focused?.tagName;
  clear(body);
  for (const u of state.users) {
    const checked = state.selected.has(u.id);
    const box = el('input', {
      type: 'checkbox',
      'aria-label': `Select ${u.displayName}`,
      onchange: (ev) => {
        if (ev.target.checked) state.selected.add(u.id); else state.selected.delete(u.id);
        ev.target.closest('tr').classList.toggle('selected', ev.target.checked);
        updateSelection();
      },
    });
    box.checked = checked;
    body.append(el('tr', { class: checked ? 'selected' : '', 'data-user': u.id },
      el('td', { class: 'check' }, box),
      el('td', {}, el('a', { href: `#user/${encodeURIComponent(u.id)}`, text: u.displayName })),
      el('td', { text: u.upn }),
      el('td', { text: String(u.passkeys) }),
      el('td', {}, u.lastRequestState ? el('span', { class: `status ${u.lastRequestState}`, text: u.lastRequestState }) : '—'),
    ));
  }
  if (!state.users.length) {
    body.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: state.total === 0 && !$('user-search').value
      ? 'No users yet. Connect the tenant, then press "Sync from Entra ID".'
      : ($('only-waiting').checked ? 'Every user shown by the search has a passkey.' : 'No user matches the search.') })));
  }
  const from = state.total ? state.offset + 1 : 0;
  const to = state.offset + state.users.length;
  $('page-info').textContent = `${from}–${to} of ${state.total}`;
  $('prev-page').disabled = state.offset === 0;
  $('next-page').disabled = to >= state.total;
  updateSelection();
  if (focusedUser) {
    const row = [...body.rows].find((r) => r.dataset.user === focusedUser);
    row?.querySelector(focusedTag === 'INPUT' ? 'input' : 'a')?.focus();
  }
}

function updateSelection() {
  const n = state.selected.size;
  $('users-count').textContent = n ? `${n} selected` : `${state.total} users`;
  $('export-users').textContent = n ? `Export users.csv (${n} selected)` : 'Export users.csv';
  const all = $('select-all');
  const shown = state.users.filter((u) => state.selected.has(u.id)).length;
  all.checked = shown > 0 && shown === state.users.length;
  all.indeterminate = shown > 0 && shown < state.users.length;
}

$('select-all').addEventListener('change', (ev) => {
  for (const u of state.users) {
    if (ev.target.checked) state.selected.add(u.id); else state.selected.delete(u.id);
  }
  renderUsers();
});

let searchTimer = null;
$('user-search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => { state.offset = 0; loadUsers().catch((e) => flash(errorText(e), 'danger')); }, 200);
});
$('only-waiting').addEventListener('change', () => {
  state.offset = 0;
  loadUsers().catch((e) => flash(errorText(e), 'danger'));
});
$('prev-page').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadUsers(); });
$('next-page').addEventListener('click', () => { state.offset += PAGE_SIZE; loadUsers(); });

$('sync-users').addEventListener('click', async () => {
  const b = $('sync-users');
  b.disabled = true;
  $('users-message').textContent = 'Importing users from Entra ID…';
  try {
    const r = await api('POST', '/api/users/sync');
    state.offset = 0;
    // The table first, then the message: it describes what is shown.
    await loadUsers();
    $('users-message').textContent = `Imported ${r.imported} users (${r.added} new, ${r.removed} removed${r.skipped ? `, ${r.skipped} skipped` : ''}).`;
  } catch (e) {
    $('users-message').textContent = '';
    flash(errorText(e), 'danger');
  } finally {
    b.disabled = !state.account?.editUsers;
  }
});

$('export-users').addEventListener('click', async () => {
  const ids = [...state.selected];
  const path = ids.length ? `/api/users/export.csv?ids=${ids.map(encodeURIComponent).join(',')}` : '/api/users/export.csv';
  try {
    const csv = await api('GET', path);
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = el('a', { href: url, download: 'users.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    flash(errorText(e), 'danger');
  }
});

// ---------- user details ----------

async function openUser(id) {
  show('user');
  const data = await api('GET', `/api/users/${encodeURIComponent(id)}`);
  state.user = data.user;
  $('user-name').textContent = data.user.displayName;
  $('user-upn').textContent = data.user.upn;
  $('user-id').textContent = data.user.id;
  selectTab('passkeys');
  await loadPasskeys();
}

function selectTab(name) {
  for (const t of ['passkeys', 'requests']) {
    const tab = $(`tab-${t}`);
    const on = t === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${t}`).hidden = !on;
  }
  if (name === 'requests') loadRequests().catch((e) => flash(errorText(e), 'danger'));
}

$('tab-passkeys').addEventListener('click', () => selectTab('passkeys'));
$('tab-requests').addEventListener('click', () => selectTab('requests'));
for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
    const next = tab.id === 'tab-passkeys' ? 'requests' : 'passkeys';
    selectTab(next);
    $(`tab-${next}`).focus();
  });
}

async function loadPasskeys() {
  const user = state.user;
  const data = await api('GET', `/api/users/${encodeURIComponent(user.id)}/passkeys`);
  if (state.user !== user) return;
  const warn = $('passkeys-warning');
  warn.hidden = !data.entraError;
  warn.textContent = data.entraError ? `Entra ID could not be asked, so the list shows what the panel knows: ${data.entraError.message}` : '';
  const body = $('passkeys-body');
  clear(body);
  for (const k of data.passkeys) {
    const key = k.credentialId || k.methodId;
    const revoke = k.status === 'revoked' ? null : el('button', {
      type: 'button',
      class: 'danger',
      text: 'Revoke',
      'aria-label': `Revoke ${k.name}`,
      disabled: !state.account.editUsers,
      onclick: () => revokeKey(key, k.name),
    });
    const statusText = { active: 'Active', revoked: 'Revoked', notInEntra: 'Not in Entra ID', unverified: 'Not verified' }[k.status] || k.status;
    body.append(el('tr', { 'data-credential': key },
      el('td', { text: k.name || '(no name)' }),
      el('td', { text: when(k.created) }),
      el('td', {}, el('span', { class: 'mono', text: k.credentialId || k.methodId || '' })),
      el('td', {}, el('span', { class: `status ${k.status}`, text: statusText })),
      el('td', {}, revoke),
    ));
  }
  if (!data.passkeys.length) {
    body.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No passkeys yet.' })));
  }
}

async function revokeKey(key, name) {
  if (!window.confirm(`Revoke the passkey "${name}" of ${state.user.displayName}? It is deleted in Entra ID and in the vault.`)) return;
  try {
    await api('DELETE', `/api/users/${encodeURIComponent(state.user.id)}/passkeys/${encodeURIComponent(key)}`);
    flash(`Revoked "${name}".`);
    await loadPasskeys();
  } catch (e) {
    flash(errorText(e), 'danger');
  }
}

async function loadRequests() {
  const data = await api('GET', `/api/users/${encodeURIComponent(state.user.id)}/requests`);
  const body = $('requests-body');
  clear(body);
  for (const r of data.requests) {
    const detail = r.error ? `${r.error.code}: ${r.error.message}` : (r.keyName || r.step || '');
    body.append(el('tr', {},
      el('td', { text: when(r.createdAt) }),
      el('td', { text: r.mode }),
      el('td', { text: r.requestedBy }),
      el('td', {}, el('span', { class: `status ${r.state}`, text: r.state })),
      el('td', { text: detail }),
    ));
  }
  if (!data.requests.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No requests yet.' })));
}

// "+ Passkey ▸" menu
const menuButton = $('add-passkey');
const menu = $('add-passkey-menu');
function setMenu(open) {
  menu.hidden = !open;
  menuButton.setAttribute('aria-expanded', String(open));
  if (open) $('add-microsoft').focus();
}
menuButton.addEventListener('click', () => setMenu(menu.hidden));
menu.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') { setMenu(false); menuButton.focus(); }
});
document.addEventListener('click', (ev) => {
  if (!menu.hidden && !ev.target.closest('.menu')) setMenu(false);
});
$('add-microsoft').addEventListener('click', () => { setMenu(false); openMicrosoftDialog(); });

// ---------- "+ Passkey ▸ Microsoft" ----------

const dialog = $('ms-dialog');
const BUTTONS = ['ms-create', 'ms-graph', 'ms-get-tap', 'ms-manual-open'];

function openMicrosoftDialog() {
  stopPolling();
  state.request = null;
  state.tap = null;
  $('ms-user').textContent = `${state.user.displayName} (${state.user.upn})`;
  $('ms-step1').hidden = false;
  $('ms-step2').hidden = true;
  $('ms-progress').hidden = true;
  $('ms-result').hidden = true;
  $('ms-close-row').hidden = true;
  $('ms-tap-box').hidden = true;
  $('ms-tap').value = '';
  $('ms-manual').open = false;
  for (const id of BUTTONS) $(id).disabled = false;
  dialog.showModal();
  $('ms-next').focus();
}

function closeDialog() {
  stopPolling();
  // The pass was shown once; it does not stay in the page.
  $('ms-tap').value = '';
  state.tap = null;
  dialog.close();
  if (state.user) loadPasskeys().catch(() => {});
  menuButton.focus();
}

$('ms-cancel1').addEventListener('click', closeDialog);
$('ms-cancel2').addEventListener('click', closeDialog);
$('ms-close').addEventListener('click', closeDialog);
dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); closeDialog(); });
$('ms-next').addEventListener('click', () => {
  $('ms-step1').hidden = true;
  $('ms-step2').hidden = false;
  $('ms-create').focus();
});

/** What the administrator must do when the extension cannot take the job. */
const FIX = {
  missing: {
    code: 'extensionMissing',
    message: 'The Passkey Provisioner extension is not reachable from this page.',
    steps: [
      'Install the extension: open chrome://extensions (edge://extensions in Edge), turn on Developer mode, click "Load unpacked" and choose the dist/extension folder.',
      `If it is installed, make sure it is enabled and that this panel's address (${location.origin}) is in the extension's Options → Allowed panel origins.`,
      'Reload this page and press Create again.',
    ],
  },
  incognito: {
    code: 'incognitoNotAllowed',
    message: '"Allow in Incognito" is off for the extension, so it cannot open the private window it needs.',
    steps: [
      'Open chrome://extensions (edge://extensions in Edge).',
      'Find "Passkey Provisioner" and click Details.',
      'Turn on "Allow in Incognito" ("Allow in InPrivate" in Edge), then press Create again.',
    ],
  },
};

function showResult(kind, title, hint, steps) {
  const box = $('ms-result');
  clear(box);
  box.className = kind;
  box.append(el('strong', { text: title }));
  if (hint) box.append(el('p', { class: 'hint', text: hint }));
  if (steps) box.append(el('ol', {}, ...steps.map((s) => el('li', { text: s }))));
  box.hidden = false;
  $('ms-close-row').hidden = false;
  $('ms-stop').hidden = true;
}

function extensionPresent() {
  return !!(globalThis.chrome && chrome.runtime && typeof chrome.runtime.sendMessage === 'function');
}

/** One message to the extension; resolves to its answer, rejects when unreachable. */
function sendToExtension(message) {
  return new Promise((resolve, reject) => {
    try {
      chrome.runtime.sendMessage(EXTENSION_ID, message, (answer) => {
        const err = chrome.runtime.lastError;
        if (err) reject(new Error(err.message || 'the extension did not answer'));
        else if (answer === undefined) reject(new Error('the extension did not answer'));
        else resolve(answer);
      });
    } catch (e) {
      reject(e);
    }
  });
}

/** Ping first, so no TAP is issued for a job the extension cannot run. */
async function checkExtension() {
  if (!extensionPresent()) return FIX.missing;
  try {
    const pong = await sendToExtension({ type: 'ping' });
    if (pong.type === 'error') return { code: pong.code, message: pong.message, steps: pong.hint ? [pong.hint] : [] };
    if (pong.type !== 'pong') return FIX.missing;
    if (!pong.incognitoAllowed) return FIX.incognito;
    return null;
  } catch {
    return FIX.missing;
  }
}

async function startRequest(mode) {
  for (const id of BUTTONS) $(id).disabled = true;
  $('ms-result').hidden = true;
  $('ms-progress').hidden = false;
  $('ms-bar').value = 0;
  $('ms-step-text').textContent = 'Checking the extension…';
  const problem = await checkExtension();
  if (problem) {
    $('ms-progress').hidden = true;
    showResult('fail', problem.message, null, problem.steps);
    for (const id of BUTTONS) $(id).disabled = false;
    return;
  }
  let created;
  try {
    $('ms-step-text').textContent = mode === 'automatic' ? 'Issuing a Temporary Access Pass…' : 'Creating the request…';
    created = await api('POST', `/api/users/${encodeURIComponent(state.user.id)}/provision`, { mode });
  } catch (e) {
    $('ms-progress').hidden = true;
    showResult('fail', e.message, e.hint);
    for (const id of BUTTONS) $(id).disabled = false;
    return;
  }
  state.request = created.request;
  const message = created.message;
  // Manual mode: a pass fetched with "Get Temporary Access Pass" goes along,
  // so the extension can type it; the server never saw it again.
  if (mode === 'manual' && state.tap) message.tap = state.tap;
  $('ms-step-text').textContent = 'Handing the request to the extension…';
  let answer;
  try {
    answer = await sendToExtension(message);
  } catch (e) {
    answer = { type: 'error', code: 'extensionUnreachable', message: `The extension did not take the request: ${e.message}`,
      hint: FIX.missing.steps[0] };
  }
  try {
    const r = await api('POST', `/api/requests/${encodeURIComponent(created.request.id)}/handoff`, answer);
    renderRequest(r.request);
  } catch (e) {
    showResult('fail', e.message, e.hint);
    return;
  }
  if (answer.type === 'accepted') {
    $('ms-close-row').hidden = false;
    $('ms-stop').hidden = false;
    pollRequest(created.request.id);
  }
}

function renderRequest(r) {
  state.request = r;
  $('ms-progress').hidden = false;
  $('ms-bar').value = r.state === 'succeeded' ? 1 : (r.progress || 0);
  const labels = { created: 'Created', queued: 'Waiting for the extension', running: 'Running', succeeded: 'Done', failed: 'Failed', cancelled: 'Cancelled' };
  $('ms-step-text').textContent = `${labels[r.state] || r.state}${r.step ? ` — ${r.step}` : ''}`;
  if (r.state === 'succeeded') {
    stopPolling();
    showResult('ok', `The passkey "${r.keyName || ''}" was registered for ${state.user.displayName}.`);
    loadPasskeys().catch(() => {});
  } else if (r.state === 'failed' || r.state === 'cancelled') {
    stopPolling();
    const e = r.error || { message: r.state };
    showResult('fail', `${e.message}${e.code ? ` (${e.code})` : ''}`, e.hint);
  }
}

function pollRequest(id) {
  stopPolling();
  const tick = async () => {
    try {
      const r = await api('GET', `/api/requests/${encodeURIComponent(id)}`);
      renderRequest(r.request);
    } catch (e) {
      if (e.status === 401) return;
      $('ms-step-text').textContent = `Waiting for the panel… (${e.message})`;
    }
    if (state.polling !== null) state.polling = setTimeout(tick, POLL_MS);
  };
  state.polling = setTimeout(tick, POLL_MS);
}

function stopPolling() {
  if (state.polling !== null) clearTimeout(state.polling);
  state.polling = null;
}

$('ms-create').addEventListener('click', () => startRequest('automatic'));
$('ms-graph').addEventListener('click', async () => {
  for (const id of BUTTONS) $(id).disabled = true;
  $('ms-result').hidden = true;
  $('ms-progress').hidden = false;
  $('ms-bar').value = 0.3;
  $('ms-step-text').textContent = 'Registering through Microsoft Graph…';
  try {
    const r = await api('POST', `/api/users/${encodeURIComponent(state.user.id)}/provision`, { mode: 'automatic', via: 'graph' });
    renderRequest(r.request);
  } catch (e) {
    $('ms-progress').hidden = true;
    showResult('fail', e.message, e.hint);
    for (const id of BUTTONS) $(id).disabled = false;
  }
});
$('ms-manual-open').addEventListener('click', () => startRequest('manual'));
$('ms-stop').addEventListener('click', async () => {
  const r = state.request;
  if (!r) return;
  if (extensionPresent()) sendToExtension({ type: 'cancel', requestId: r.id }).catch(() => {});
  try {
    const data = await api('POST', `/api/requests/${encodeURIComponent(r.id)}/cancel`);
    renderRequest(data.request);
  } catch (e) {
    flash(errorText(e), 'danger');
  }
});

$('ms-get-tap').addEventListener('click', async () => {
  const b = $('ms-get-tap');
  b.disabled = true;
  try {
    const tap = await api('POST', `/api/users/${encodeURIComponent(state.user.id)}/tap`);
    state.tap = tap.temporaryAccessPass;
    $('ms-tap').value = tap.temporaryAccessPass;
    $('ms-tap-meta').textContent = `${tap.isUsableOnce ? 'One-time use' : 'Reusable'}, valid ${tap.lifetimeInMinutes || '?'} minutes${tap.startDateTime ? ` from ${when(tap.startDateTime)}` : ''}. It is not shown again.`;
    $('ms-tap-box').hidden = false;
    $('ms-tap').focus();
    $('ms-tap').select();
  } catch (e) {
    b.disabled = false;
    showResult('fail', e.message, e.hint);
  }
});

$('ms-copy-tap').addEventListener('click', async () => {
  const value = $('ms-tap').value;
  try {
    await navigator.clipboard.writeText(value);
    $('ms-copy-tap').textContent = 'Copied';
  } catch {
    $('ms-tap').select();
    document.execCommand('copy');
    $('ms-copy-tap').textContent = 'Copied';
  }
  setTimeout(() => { $('ms-copy-tap').textContent = 'Copy'; }, 2000);
});

// ---------- tenant ----------

async function openTenant() {
  show('tenant');
  const params = new URLSearchParams(location.search);
  const err = $('tenant-error');
  err.hidden = true;
  if (params.has('connectError')) {
    err.textContent = params.get('connectError');
    err.hidden = false;
  }
  if (params.has('connected')) flash(`Tenant ${params.get('connected')} connected.`);
  if (params.has('connectError') || params.has('connected')) {
    history.replaceState(null, '', `${location.pathname}#tenant`);
  }
  const t = await api('GET', '/api/tenant');
  const owner = state.account.role === 'owner';
  $('connect-tenant').disabled = !owner;
  $('tenant-input').disabled = !owner;
  $('disconnect-tenant').hidden = !t.connected || !owner;
  $('tenant-facts').hidden = !t.connected;
  if (!t.connected) {
    $('tenant-status').textContent = owner
      ? 'No Microsoft tenant is connected. Connect one to import users and issue passkeys.'
      : 'No Microsoft tenant is connected. An Owner can connect one.';
    return;
  }
  const left = (t.validUntil || 0) - t.now;
  $('tenant-status').textContent = t.lapsed ? 'The connection lapsed. Connect again.' : `Connected. The connection stays valid for ${duration(left)} without use (each use extends it).`;
  $('tenant-id').textContent = t.tenantId;
  $('tenant-by').textContent = `${t.connectedBy}, ${when(t.connectedAt)}`;
  $('tenant-valid').textContent = t.validUntil ? `${when(t.validUntil)} (${duration(left)})` : 'until the access token expires';
  $('tenant-sync').textContent = when(t.lastSyncAt);
  $('tenant-users').textContent = String(t.userCount);
}

$('connect-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const r = await api('POST', '/api/tenant/connect', { tenant: $('tenant-input').value.trim() || null });
    location.assign(r.authorizeUrl);
  } catch (e) {
    const err = $('tenant-error');
    err.textContent = errorText(e);
    err.hidden = false;
  }
});

$('disconnect-tenant').addEventListener('click', async () => {
  if (!window.confirm('Disconnect the tenant? The panel forgets its Microsoft tokens.')) return;
  try {
    await api('POST', '/api/tenant/disconnect');
    await openTenant();
  } catch (e) {
    flash(errorText(e), 'danger');
  }
});

// ---------- audit ----------

async function openAudit() {
  show('audit');
  const data = await api('GET', '/api/audit?limit=200');
  const body = $('audit-body');
  clear(body);
  for (const e of data.entries) {
    body.append(el('tr', {},
      el('td', { text: when(e.at) }),
      el('td', { text: e.actor }),
      el('td', { text: e.action }),
      el('td', { text: e.targetUpn || '' }),
      el('td', { text: e.detail }),
    ));
  }
  if (!data.entries.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'Nothing yet.' })));
}

// ---------- accounts ----------

async function openAccounts() {
  show('accounts');
  const data = await api('GET', '/api/accounts');
  const body = $('accounts-body');
  clear(body);
  for (const a of data.accounts) {
    const del = a.id === state.account.id ? null : el('button', {
      type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${a.username}`,
      onclick: async () => {
        if (!window.confirm(`Delete the account ${a.username}?`)) return;
        try { await api('DELETE', `/api/accounts/${a.id}`); await openAccounts(); } catch (e) { flash(errorText(e), 'danger'); }
      },
    });
    body.append(el('tr', {},
      el('td', { text: a.username }),
      el('td', { text: a.role === 'owner' ? 'Owner' : 'Admin' }),
      el('td', { text: a.editUsers ? 'Yes' : 'No' }),
      el('td', {}, del),
    ));
  }
}

$('account-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('account-error');
  err.hidden = true;
  try {
    await api('POST', '/api/accounts', {
      username: $('acct-name').value.trim(),
      password: $('acct-password').value,
      role: $('acct-role').value,
      editUsers: $('acct-edit').checked,
    });
    $('account-form').reset();
    await openAccounts();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
});

// ---------- start ----------

window.addEventListener('hashchange', () => route());

// The TLS warning before anyone signs in: whoever types a password here
// should know the panel's traffic to Microsoft is not verified.
async function loadPublicConfig() {
  try {
    const config = await api('GET', '/api/config');
    if (config && config.insecureTls) $('tls-warning').hidden = false;
  } catch { /* the session answer sets the banner too */ }
}

(async () => {
  loadPublicConfig();
  try {
    const info = await api('GET', '/api/session');
    await startSession(info);
  } catch (e) {
    if (e.status !== 401) showLogin(e.message);
  }
})();
