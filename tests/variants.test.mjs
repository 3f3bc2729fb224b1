// The extension provisioning through every page variant the simulator
// models (issue 10): Microsoft's newer sign-in layout, ARIA-only dialog
// controls, a Next that waits for the name, skippable interrupts, transient
// errors with "Try again", the passkey flow and its labels, the key-model
// refusal after naming, more languages, and all of them at once in Arabic.
// Each switch is a scenario of its own user (PATCH /__sim/users/{id}/scenarios).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

const JOB_TIMEOUT_MS = 60_000;
/** Events that mean the job pressed a button a person must never press here. */
const TRAPS = ['campaignAccepted', 'moreInfoAccepted', 'authenticatorPasskeyChosen'];

describe('page variants (extension + simulator + vault)', () => {
  let sim, api, browser, panel, page, tenantId, users;
  let next = 0;
  before(async () => {
    sim = await startSim({ seed: testSeed(40) });
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

  /** A fresh user of the seed with these scenario switches. */
  async function freshUser(scenario) {
    const upn = `scenario${next++}@contoso.com`;
    const u = users.find((x) => x.userPrincipalName === upn);
    assert.ok(u, `the seed has ${upn}`);
    await api.scenarios(u.id, scenario);
    return u;
  }

  /** Provisions `u` with a fresh TAP; returns the final report. */
  async function provision(u, opts = {}) {
    const { pass } = await api.createTap(u.id, { isUsableOnce: false });
    const msg = panel.provisionMessage(u, { tap: pass, tenantId, verify: opts.verify });
    const accepted = await browser.sendFrom(page, msg);
    assert.equal(accepted.type, 'accepted', JSON.stringify(accepted));
    try {
      return await panel.finalReport(msg.requestId, opts.timeoutMs ?? JOB_TIMEOUT_MS);
    } catch (e) {
      const status = await browser.sendFrom(page, { type: 'status', requestId: msg.requestId }).catch((x) => x.message);
      throw new Error(`${e.message}; extension status: ${JSON.stringify(status)}`);
    }
  }

  async function assertNoTraps(u) {
    for (const kind of TRAPS) {
      const evs = await api.eventsOf(u.id, kind);
      assert.equal(evs.length, 0, `${kind} happened: ${JSON.stringify(evs)}`);
    }
  }

  /** Provisions through `scenario` and expects a listed key and no trap pressed. */
  async function succeeds(scenario, opts = {}) {
    const u = await freshUser(scenario);
    const final = await provision(u, opts);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    const keys = await api.keys(u.id);
    assert.equal(keys.length, 1, JSON.stringify(keys));
    assert.equal(keys[0].credentialId, final.result.credentialId);
    assert.equal(keys[0].displayName, final.result.keyName, 'the default name was replaced');
    await assertNoTraps(u);
    return { u, final };
  }

  test('fluent sign-in layout: no ids, data-testid buttons, No before Yes', async () => {
    await api.patchTenant({ signInLayout: 'fluent' });
    try {
      await succeeds({ signInLayout: 'fluent' });
    } finally {
      await api.patchTenant({ signInLayout: 'classic' });
    }
  });

  test('fluent sign-in layout with the TAP in the password box (data-testid i0118)', async () => {
    await succeeds({ signInLayout: 'fluent', domVariant: 'passwd' });
  });

  test('ARIA-only Security info controls (div role=button/option, aria-disabled, labelled combobox)', async () => {
    await succeeds({ dialogControls: 'aria' });
  });

  test('naming step: Next disabled until the name box has text', async () => {
    await succeeds({ nameNextDisabled: true });
  });

  test('skippable "More information required": Ask later, never Next', async () => {
    const { u } = await succeeds({ interrupts: ['moreInfoSkippable'] });
    assert.equal((await api.eventsOf(u.id, 'moreInfoSkipped')).length, 1);
  });

  test('registration campaign: Skip for now, never Next', async () => {
    const { u } = await succeeds({ interrupts: ['registrationCampaign'] });
    assert.equal((await api.eventsOf(u.id, 'campaignSkipped')).length, 1);
  });

  test('a transient 500 behind Next: Try again, then success', async () => {
    const { u } = await succeeds({ wizardTransientErrors: 1 });
    assert.equal((await api.eventsOf(u.id, 'transientError')).length, 1);
  });

  test('three 500s behind Next: two retries, then a failure with the page text', async () => {
    const u = await freshUser({ wizardTransientErrors: 3 });
    const final = await provision(u);
    assert.equal(final.state, 'failed');
    assert.notEqual(final.error.code, 'stepTimeout', final.error.message);
    assert.match(final.error.message, /Something went wrong/, final.error.message);
    assert.equal((await api.eventsOf(u.id, 'transientError')).length, 3);
    assert.equal((await api.keys(u.id)).length, 0);
    await assertNoTraps(u);
  });

  for (const label of ['Passkey (preview)', 'Passkey (FIDO2)', 'Passkey']) {
    test(`passkey flow labelled "${label}": never Passkey in Microsoft Authenticator`, async () => {
      await succeeds({ passkeyFlow: 'passkey', passkeyLabel: label });
    });
  }

  test('a key model the tenant does not allow, refused after naming: attestationRejected or policyDisallows', async () => {
    const u = await freshUser({ aaguidRestricted: true, locale: 'ja' });
    const final = await provision(u);
    assert.equal(final.state, 'failed');
    assert.ok(['attestationRejected', 'policyDisallows'].includes(final.error.code), `${final.error.code}: ${final.error.message}`);
    assert.ok(final.error.hint, 'a hint');
    assert.equal((await api.keys(u.id)).length, 0);
  });

  for (const locale of ['es', 'ko', 'ar', 'he', 'zh-Hans', 'pt-BR', 'ru', 'it', 'nl', 'pl', 'tr']) {
    test(`language ${locale}`, async () => {
      await succeeds({ locale });
    });
  }

  test('fluent layout, sign-in check through Sign-in options ▸ Face, fingerprint, PIN or security key', async () => {
    await api.patchTenant({ signInLayout: 'fluent' });
    try {
      const { final } = await succeeds({ signInLayout: 'fluent' }, { verify: true });
      assert.equal(final.result.signInVerified, true);
    } finally {
      await api.patchTenant({ signInLayout: 'classic' });
    }
  });

  test('all variants at once, in Arabic (right to left)', async () => {
    await api.patchTenant({ signInLayout: 'fluent' });
    try {
      const { u } = await succeeds({
        locale: 'ar',
        signInLayout: 'fluent',
        dialogControls: 'aria',
        nameNextDisabled: true,
        interrupts: ['moreInfoSkippable', 'registrationCampaign'],
        wizardTransientErrors: 1,
        passkeyFlow: 'passkey',
        passkeyLabel: 'Passkey (FIDO2)',
      });
      assert.equal((await api.eventsOf(u.id, 'transientError')).length, 1);
      assert.equal((await api.eventsOf(u.id, 'campaignSkipped')).length, 1);
      assert.equal((await api.eventsOf(u.id, 'moreInfoSkipped')).length, 1);
    } finally {
      await api.patchTenant({ signInLayout: 'classic' });
    }
  });
});
