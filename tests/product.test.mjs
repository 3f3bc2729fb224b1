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
