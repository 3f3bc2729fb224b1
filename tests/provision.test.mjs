// The extension provisioning security keys end to end against the
// simulator: automatic mode with the vault's attestation (verified by
// webauthn-rs in the simulator), every failure scenario ending in its named
// error and the next job succeeding, every locale and DOM variant, the queue.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

const ADELE = 'adele.vance@contoso.com';
const JONAS = 'jonas.mueller@contoso.com';
const YUKI = 'yuki.tanaka@contoso.com';
const MALLORY = 'mallory@contoso.com';

describe('automatic provisioning (extension + simulator + vault)', () => {
  let sim, api, browser, panel, page, tenantId, users;
  before(async () => {
    sim = await startSim({ seed: testSeed(14) });
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

  // One multi-use TAP per user (Entra allows one TAP per user at a time),
  // reused by every job of that user.
  const taps = new Map();
  async function tapFor(u, tapOptions) {
    if (tapOptions || !taps.has(u.id)) {
      taps.set(u.id, (await api.createTap(u.id, { isUsableOnce: false, ...tapOptions })).pass);
    }
    return taps.get(u.id);
  }

  /** Sends `provision` for `upn` with a TAP, and returns the final report. */
  async function provision(upn, opts = {}) {
    const u = user(upn);
    const pass = await tapFor(u, opts.tapOptions);
    const msg = panel.provisionMessage(u, { tap: opts.tap ?? pass, tenantId, verify: opts.verify });
    const accepted = await browser.sendFrom(page, msg);
    assert.equal(accepted.type, 'accepted', JSON.stringify(accepted));
    try {
      return { msg, final: await panel.finalReport(msg.requestId, opts.timeoutMs ?? 60_000) };
    } catch (e) {
      // Say where the extension thinks the job is.
      const status = await browser.sendFrom(page, { type: 'status', requestId: msg.requestId }).catch((x) => x.message);
      throw new Error(`${e.message}; extension status: ${JSON.stringify(status)}`);
    }
  }

  async function keyCount(upn) {
    return (await api.keys(user(upn).id)).length;
  }

  test('a TAP and one message give the user a listed, verified security key', async () => {
    const { msg, final } = await provision(ADELE);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    assert.match(final.result.keyName, /^IDM-[0-9a-f]{8}-[A-Z0-9]{6}-\d{8}$/);
    const keys = await api.keys(user(ADELE).id);
    assert.equal(keys.length, 1, JSON.stringify(keys));
    assert.equal(keys[0].credentialId, final.result.credentialId);
    assert.equal(keys[0].displayName, final.result.keyName);
    assert.equal(panel.attestations(msg.requestId), 1);
    const reports = panel.reports(msg.requestId);
    const seqs = reports.map((r) => r.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'reports in order');
    assert.ok(reports.some((r) => r.state === 'running' && r.step === 'register.webauthn'), JSON.stringify(reports.map((r) => [r.seq, r.state, r.step])));
  });

  test('with a sign-in check, the job ends by signing in with the new key', async () => {
    const upn = 'scenario11@contoso.com';
    const { msg, final } = await provision(upn, { verify: true });
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    assert.equal(final.result.signInVerified, true);
    assert.equal(panel.assertions(msg.requestId), 1);
    const events = await api.events(`?kind=signin&user=${user(upn).id}`);
    const viaKey = events.filter((e) => e.success && /fido|security key/i.test(e.detail));
    assert.equal(viaKey.length, 1, JSON.stringify(events));
    const [key] = await api.keys(user(upn).id);
    assert.ok(key.lastUsedAt, 'the simulator recorded that the key was used');
  });

  for (const [upn, lang] of [[JONAS, 'de'], [YUKI, 'ja'], [MALLORY, 'fr']]) {
    test(`locale ${lang}: ${upn}`, async () => {
      const before = await keyCount(upn);
      const { final } = await provision(upn);
      assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
      assert.equal(await keyCount(upn), before + 1);
    });
  }

  for (const [variant, upn] of [['passwd', 'scenario5@contoso.com'], ['otc', 'scenario6@contoso.com']]) {
    test(`DOM variant: the TAP goes in the ${variant} box`, async () => {
      await api.scenarios(upn, { domVariant: variant });
      const { final } = await provision(upn);
      assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    });
  }

  test('a user whose vault key is already registered gets alreadyRegistered, not a second key', async () => {
    const before = await keyCount(ADELE);
    const { final } = await provision(ADELE);
    assert.equal(final.state, 'failed');
    assert.equal(final.error.code, 'alreadyRegistered', final.error.message);
    assert.match(final.error.hint, /Revoke/);
    assert.equal(await keyCount(ADELE), before);
  });

  test('legacy Security info protocol (AddSecurityInfo Type 12)', async () => {
    await api.patchTenant({ securityInfoProtocol: 'legacy' });
    try {
      const upn = 'scenario7@contoso.com';
      const { final } = await provision(upn);
      assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
      assert.equal(await keyCount(upn), 1);
    } finally {
      await api.patchTenant({ securityInfoProtocol: 'v2026' });
    }
  });

  test('a TAP that propagates after a few seconds is waited out, not failed', async () => {
    const { final } = await provision('lee.propagation@contoso.com', { tapOptions: { propagationDelaySecs: 3 } });
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
  });

  const failures = [
    ['wrong TAP', { wrongTap: true }, 'tapNotFound'],
    ['organization needs more information', { proofUpRequired: true }, 'proofUpRequired'],
    ['10-key limit', { keyLimitReached: true }, 'keyLimitReached'],
    ['two-factor sign-in required', { twoFactorRequired: true }, 'twoFactorRequired'],
    ['attestation rejected by policy', { attestationRejected: true }, 'attestationRejected'],
  ];
  for (const [i, [name, scenario, code]] of failures.entries()) {
    test(`${name} ends as ${code} with a hint, and the next job succeeds`, async () => {
      const upn = `scenario${i}@contoso.com`;
      await api.scenarios(upn, scenario);
      let final;
      try {
        ({ final } = await provision(upn));
      } finally {
        await api.scenarios(upn, Object.fromEntries(Object.entries(scenario).map(([k, v]) => [k, typeof v === 'boolean' ? false : null])));
      }
      assert.equal(final.state, 'failed');
      assert.equal(final.error.code, code, final.error.message);
      assert.ok(final.error.hint.length > 20);
      // The same named error in Show Logs.
      const { logs } = await (await browser.serviceWorker()).evaluate(() => chrome.storage.local.get('logs'));
      const entry = logs.find((l) => l.requestId === final.requestId);
      assert.equal(entry?.state, 'failed');
      assert.equal(entry.error.code, code);
      assert.equal(entry.error.message, final.error.message);
      const next = await provision(upn);
      assert.equal(next.final.state, 'succeeded', JSON.stringify(next.final.error));
    });
  }

  test('a Security info page whose DOM never stops changing is still looked at and driven', async () => {
    const upn = 'scenario12@contoso.com';
    await api.scenarios(upn, { busyPage: true });
    let final;
    try {
      ({ final } = await provision(upn));
    } finally {
      await api.scenarios(upn, { busyPage: false });
    }
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
  });

  test('a tenant whose FIDO2 policy forbids adding keys: policyDisallows with a hint; once allowed, the next job succeeds', async () => {
    const upn = 'scenario13@contoso.com';
    const { fido2Policy: policy } = await api.tenant();
    const keysBefore = await keyCount(upn);
    await api.patchTenant({ fido2Policy: { ...policy, allowSelfServiceSetup: false } });
    let final;
    try {
      ({ final } = await provision(upn));
    } finally {
      await api.patchTenant({ fido2Policy: policy });
    }
    assert.equal(final.state, 'failed');
    assert.equal(final.error.code, 'policyDisallows', final.error.message);
    assert.match(final.error.hint, /Authentication methods|policy/i);
    assert.equal(await keyCount(upn), keysBefore);
    const next = await provision(upn);
    assert.equal(next.final.state, 'succeeded', JSON.stringify(next.final.error));
  });

  test('pages slower than the step timeout end as stepTimeout naming the step; the next job succeeds', async () => {
    const upn = 'scenario9@contoso.com';
    const worker = await browser.serviceWorker();
    const { settings: saved } = await worker.evaluate(() => chrome.storage.local.get('settings'));
    // The shortest step timeout the Options page allows, and pages slower than it.
    await worker.evaluate((s) => chrome.storage.local.set({ settings: { ...(s || {}), stepTimeoutS: 5 } }), saved);
    await api.scenarios(upn, { slowMs: 6000 });
    let final;
    try {
      ({ final } = await provision(upn));
    } finally {
      await api.scenarios(upn, { slowMs: 0 });
      await worker.evaluate((s) => (s ? chrome.storage.local.set({ settings: s }) : chrome.storage.local.remove('settings')), saved);
    }
    assert.equal(final.state, 'failed');
    assert.equal(final.error.code, 'stepTimeout', final.error.message);
    assert.match(final.error.message, /^Step signIn\.\w+ did not finish within 5 s/, final.error.message);
    assert.equal(await keyCount(upn), 0);
    const next = await provision(upn);
    assert.equal(next.final.state, 'succeeded', JSON.stringify(next.final.error));
  });

  test('a wrong TAP never appears in reports or the log', async () => {
    const tap = 'NotTheRealPass-9f3Q';
    const { msg, final } = await provision(ADELE, { tap });
    assert.equal(final.error.code, 'tapNotFound');
    assert.ok(!JSON.stringify(panel.reports(msg.requestId)).includes(tap));
    const worker = await browser.serviceWorker();
    const stored = await worker.evaluate(() => chrome.storage.local.get(null));
    assert.ok(!JSON.stringify(stored).includes(tap), 'TAP found in chrome.storage.local');
  });
});
