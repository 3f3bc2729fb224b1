// The product as an administrator uses it: the panel's "+ Passkey ▸
// Microsoft ▸ Create" button, the extension provisioning in a private window
// against the simulator, the key verified by webauthn-rs there, shown on the
// panel without a reload, and used once to sign in (the job's sign-in check).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { simApi } from './lib/sim-api.mjs';
import { startProduct, prepareTenant, provisionFromPanel } from './lib/product.mjs';

const ADELE = { id: '1c7b6a1f-8e5d-4d2f-8b72-4a2e3d0f9b12', name: 'Adele Vance' };
const YUKI = { id: '3e9d8c3b-0a7f-4f4b-8d94-6c4a5f2b1d34', name: '田中 由紀' };
const JONAS = { id: '2d8c7b2a-9f6e-4e3a-9c83-5b3f4e1a0c23', name: 'Jonas Müller' };
const MALLORY = { id: '4fae9d4c-1b80-4a5c-9ea5-7d5b6a3c2e45', name: 'Mallory <script>alert(1)</script> "O\'Brien"' };

/** The newest row of the extension's Show Logs page: [user, time, mode, duration, result, code or key]. */
async function newestLogRow(browser) {
  const logs = await browser.openExtensionPage('logs.html');
  try {
    const row = logs.locator('#log-rows tr').first();
    await row.waitFor();
    return [await row.locator('th').textContent(), ...(await row.locator('td').allTextContents())];
  } finally {
    await logs.close();
  }
}

describe('the product: panel button → extension → Microsoft (simulated) → panel', () => {
  let p;
  let api;
  before(async () => {
    p = await startProduct();
    api = simApi(p.sim);
    await prepareTenant(p);
  });
  after(async () => { await p?.stop(); });

  test('a failure shows its named error and hint in the panel; the next click succeeds', async () => {
    await api.scenarios(JONAS.id, { keyLimitReached: true });
    const r = await provisionFromPanel(p.page, JONAS.name);
    await api.scenarios(JONAS.id, { keyLimitReached: false });
    assert.equal(r.ok, false);
    assert.match(r.text, /keyLimitReached/);
    assert.match(r.text, /Delete an unused security key/);
    const again = await provisionFromPanel(p.page, JONAS.name);
    assert.ok(again.ok, again.text);
  });

  // Every failure the simulator can stage on Microsoft's side, through the
  // real panel: its named error and hint in the panel's dialog and in Show
  // Logs, nothing registered; then the same user's next click succeeds.
  const failures = [
    ['wrong TAP', { wrongTap: true }, 'tapNotFound'],
    ['organization needs more information', { proofUpRequired: true }, 'proofUpRequired'],
    ['two-factor sign-in required', { twoFactorRequired: true }, 'twoFactorRequired'],
    ['attestation rejected by policy', { attestationRejected: true }, 'attestationRejected'],
    ['Security info answering HTTP 500 every time', { failStep: 'security-info', failTimes: null }, 'serverError'],
  ];
  for (const [name, scenario, code] of failures) {
    test(`${name}: ${code} in the panel and in Show Logs, no key, the next click succeeds`, async () => {
      const before = (await api.keys(MALLORY.id)).length;
      await api.scenarios(MALLORY.id, scenario);
      let r;
      try {
        r = await provisionFromPanel(p.page, MALLORY.name);
      } finally {
        await api.scenarios(MALLORY.id, Object.fromEntries(Object.entries(scenario).map(([k, v]) => [k, typeof v === 'boolean' ? false : null])));
      }
      assert.equal(r.ok, false, r.text);
      assert.ok(r.text.includes(code), r.text);
      const [user, , , , result, shown] = await newestLogRow(p.browser);
      assert.ok(user.includes('mallory@contoso.com'), user);
      assert.equal(result, 'Failed');
      assert.equal(shown, code);
      assert.equal((await api.keys(MALLORY.id)).length, before, 'nothing registered');
      // The next job for the user registers a key (and is revoked by the
      // next round, so every round starts from the same state).
      const again = await provisionFromPanel(p.page, MALLORY.name);
      assert.ok(again.ok, again.text);
      assert.equal((await api.keys(MALLORY.id)).length, before + 1);
      await revokeAll(MALLORY.id);
    });
  }

  test('a user no longer synced to Entra: the panel says to sync, and no job starts', async () => {
    await api.scenarios(MALLORY.id, { notSynced: true });
    let r;
    try {
      r = await provisionFromPanel(p.page, MALLORY.name);
    } finally {
      await api.scenarios(MALLORY.id, { notSynced: false });
    }
    assert.equal(r.ok, false, r.text);
    // Microsoft answers "does not exist" for the user; the panel says what to do.
    assert.match(r.text, /Request_ResourceNotFound/);
    assert.match(r.text, /sync the users again/);
    const status = await p.browser.sendFrom(p.page, { type: 'status' });
    assert.equal(status.busy, false, JSON.stringify(status));
  });

  /** Revokes every key of the user through the panel's API, as its Passkeys tab does. */
  async function revokeAll(userId) {
    const failed = await p.page.evaluate(async (id) => {
      const { csrfToken } = await (await fetch('/api/session')).json();
      const { passkeys } = await (await fetch(`/api/users/${id}/passkeys`)).json();
      const errors = [];
      for (const k of passkeys.filter((x) => x.status !== 'revoked')) {
        const key = k.credentialId || k.methodId;
        const res = await fetch(`/api/users/${id}/passkeys/${encodeURIComponent(key)}`, { method: 'DELETE', headers: { 'X-CSRF-Token': csrfToken } });
        if (!res.ok) errors.push(`${res.status} ${await res.text()}`);
      }
      return errors;
    }, userId);
    assert.deepEqual(failed, []);
  }

  for (const user of [ADELE, YUKI]) {
    test(`${user.name}: one click gives a working, listed key`, async () => {
      const r = await provisionFromPanel(p.page, user.name);
      assert.ok(r.ok, r.text);
      const keys = await api.keys(user.id);
      assert.equal(keys.length, 1, JSON.stringify(keys));
      // Shown on the Passkeys tab without a reload.
      await p.page.locator('#passkeys-body').filter({ hasText: keys[0].displayName }).waitFor();
      // The job signed in with it: the simulator saw the key used.
      assert.ok(keys[0].lastUsedAt, 'the key was used for a sign-in');
      const signins = await api.events(`?kind=signin&user=${user.id}`);
      assert.ok(signins.some((e) => e.success && /fido|security key/i.test(e.detail)), JSON.stringify(signins));
      const { request } = await p.page.evaluate(async (id) => {
        const { requests } = await (await fetch(`/api/users/${id}/requests`)).json();
        return (await fetch(`/api/requests/${requests[0].id}`)).json();
      }, user.id);
      assert.equal(request.state, 'succeeded');
    });
  }
});
