// The extension provisioning a security key end to end against the
// simulator: automatic mode with the vault's attestation (verified by
// webauthn-rs in the simulator), its failure scenarios, and the queue.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { startSim } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

describe('automatic provisioning (extension + simulator + vault)', () => {
  let sim, api, browser, panel, page, tenantId, users;
  before(async () => {
    sim = await startSim();
    api = simApi(sim);
    tenantId = (await api.tenant()).id;
    users = await api.users();
    panel = await startFakePanel();
    browser = await launchBrowser({ sim });
    page = await browser.context.newPage();
    await page.goto(panel.origin);
  });
  after(async () => {
    await browser?.close();
    await panel?.close();
    await sim?.stop();
  });
  const user = (upn) => users.find((u) => (u.userPrincipalName ?? u.upn) === upn);

  test('a TAP and one message give the user a listed, verified security key', async () => {
    const adele = user('adele.vance@contoso.com');
    const { pass } = await api.createTap(adele.id);
    const msg = panel.provisionMessage(adele, { tap: pass, tenantId });
    const accepted = await browser.sendFrom(page, msg);
    assert.equal(accepted.type, 'accepted', JSON.stringify(accepted));
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    assert.match(final.result.keyName, /^IDM-[0-9a-f]{8}-[A-Z0-9]{6}-\d{8}$/);
    const keys = await api.keys(adele.id);
    assert.equal(keys.length, 1, JSON.stringify(keys));
    assert.equal(panel.attestations(msg.requestId), 1);
    // Progress came before the end, in order.
    const seqs = panel.reports(msg.requestId).map((r) => r.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok(panel.reports(msg.requestId).some((r) => r.state === 'running'));
  });
});
