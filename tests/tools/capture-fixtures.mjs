// `make fixtures`: runs real jobs against the simulator in every locale, DOM
// variant and failure scenario with snapshot recording on, and writes one
// fixture per (case, page) to crates/engine/tests/fixtures/, where the
// engine's tests replay them. Each job here succeeded or failed exactly as
// expected, which is what vouches for the page label stored with each
// snapshot.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/paths.mjs';
import { testSeed } from '../lib/sim.mjs';
import { startStack } from '../lib/stack.mjs';

const OUT = path.join(ROOT, 'crates/engine/tests/fixtures');
const CASES = [
  // [label, user, scenario, tenant patch, expected final state, expected error code]
  ['en', 'adele.vance@contoso.com', {}, null, 'succeeded'],
  ['de', 'jonas.mueller@contoso.com', {}, null, 'succeeded'],
  ['ja', 'yuki.tanaka@contoso.com', {}, null, 'succeeded'],
  ['fr', 'mallory@contoso.com', {}, null, 'succeeded'],
  ['en-passwd', 'scenario0@contoso.com', { domVariant: 'passwd' }, null, 'succeeded'],
  ['en-otc', 'scenario1@contoso.com', { domVariant: 'otc' }, null, 'succeeded'],
  ['de-passwd', 'scenario2@contoso.com', { domVariant: 'passwd', locale: 'de' }, null, 'succeeded'],
  ['en-legacy', 'scenario3@contoso.com', {}, { securityInfoProtocol: 'legacy' }, 'succeeded'],
  ['en-wrong-tap', 'scenario4@contoso.com', { wrongTap: true }, null, 'failed', 'tapNotFound'],
  ['en-proof-up', 'scenario5@contoso.com', { proofUpRequired: true }, null, 'failed', 'proofUpRequired'],
  ['en-key-limit', 'scenario6@contoso.com', { keyLimitReached: true }, null, 'failed', 'keyLimitReached'],
  ['en-two-factor', 'scenario7@contoso.com', { twoFactorRequired: true }, null, 'failed', 'twoFactorRequired'],
  ['en-attestation-rejected', 'scenario8@contoso.com', { attestationRejected: true }, null, 'failed', 'attestationRejected'],
  ['ja-key-limit', 'scenario9@contoso.com', { keyLimitReached: true, locale: 'ja' }, null, 'failed', 'keyLimitReached'],
  ['fr-two-factor', 'scenario10@contoso.com', { twoFactorRequired: true, locale: 'fr' }, null, 'failed', 'twoFactorRequired'],
  // Page variants (issue 10): each switch alone, then all of them in Arabic.
  ['en-fluent', 'scenario11@contoso.com', { signInLayout: 'fluent' }, { signInLayout: 'fluent' }, 'succeeded'],
  ['en-aria', 'scenario12@contoso.com', { dialogControls: 'aria' }, null, 'succeeded'],
  ['es', 'scenario13@contoso.com', { locale: 'es' }, null, 'succeeded'],
  ['ko', 'scenario14@contoso.com', { locale: 'ko' }, null, 'succeeded'],
  ['ar', 'scenario15@contoso.com', { locale: 'ar' }, null, 'succeeded'],
  ['he', 'scenario16@contoso.com', { locale: 'he' }, null, 'succeeded'],
  ['zh-Hans', 'scenario17@contoso.com', { locale: 'zh-Hans' }, null, 'succeeded'],
  ['en-more-info-skip', 'scenario18@contoso.com', { interrupts: ['moreInfoSkippable'] }, null, 'succeeded'],
  ['en-campaign', 'scenario19@contoso.com', { interrupts: ['registrationCampaign'] }, null, 'succeeded'],
  ['en-transient', 'scenario20@contoso.com', { wizardTransientErrors: 1 }, null, 'succeeded'],
  ['en-passkey', 'scenario21@contoso.com', { passkeyFlow: 'passkey' }, null, 'succeeded'],
  ['en-aaguid-restricted', 'scenario22@contoso.com', { aaguidRestricted: true }, null, 'failed', 'attestationRejected'],
  ['ar-all', 'scenario23@contoso.com', {
    locale: 'ar', signInLayout: 'fluent', dialogControls: 'aria', nameNextDisabled: true,
    interrupts: ['moreInfoSkippable', 'registrationCampaign'], wizardTransientErrors: 1,
    passkeyFlow: 'passkey', passkeyLabel: 'Passkey (FIDO2)',
  }, { signInLayout: 'fluent' }, 'succeeded'],
];

const { api, panel, browser, page, tenantId, user, close } = await startStack({ seed: testSeed(24) });
let failures = 0;
try {
  const worker = await browser.serviceWorker();
  await worker.evaluate(async () => {
    const { settings = {} } = await chrome.storage.local.get('settings');
    await chrome.storage.local.set({ settings: { ...settings, recordSnapshots: true } });
  });
  rmSync(OUT, { recursive: true, force: true });
  for (const [label, upn, scenario, tenantPatch, wantState, wantCode] of CASES) {
    const u = user(upn);
    if (Object.keys(scenario).length) await api.scenarios(u.id, scenario);
    if (tenantPatch) await api.patchTenant(tenantPatch);
    const { pass } = await api.createTap(u.id, { isUsableOnce: false });
    await (await browser.serviceWorker()).evaluate(() => chrome.storage.local.set({ snapshots: [] }));
    const msg = panel.provisionMessage(u, { tap: pass, tenantId });
    await browser.sendFrom(page, msg);
    const final = await panel.finalReport(msg.requestId);
    if (tenantPatch) await api.patchTenant({ securityInfoProtocol: 'v2026', signInLayout: 'classic' });
    const ok = final.state === wantState && (!wantCode || final.error?.code === wantCode);
    if (!ok) {
      failures += 1;
      console.error(`✖ ${label}: ${final.state} ${final.error?.code ?? ''} (wanted ${wantState} ${wantCode ?? ''})`);
      continue;
    }
    const { snapshots = [] } = await (await browser.serviceWorker()).evaluate(() => chrome.storage.local.get('snapshots'));
    const dir = path.join(OUT, label);
    mkdirSync(dir, { recursive: true });
    // Per page, the last snapshot of its first visit: the state the job
    // acted on (the earlier ones of a visit may show the page half-loaded).
    const kept = new Map();
    snapshots.forEach((s, i) => {
      if (s.page === 'loading') return;
      const first = !kept.has(s.page);
      const continues = kept.get(s.page)?.index === i - 1;
      if (first || continues) kept.set(s.page, { index: i, s });
    });
    const seen = new Set(kept.keys());
    for (const [name, { s }] of kept) {
      // Stable across captures: no random document ids in checked-in files.
      s.snapshot.document = `${label}-${name}`;
      writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(s, null, 1) + '\n');
    }
    console.log(`✔ ${label}: ${final.state} ${final.error?.code ?? ''} — ${[...seen].join(', ')}`);
  }
} finally {
  await close();
}
process.exit(failures ? 1 : 0);
