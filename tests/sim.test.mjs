// The simulator's pages as a person uses them, in Chromium with a CDP
// virtual security key: TAP sign-in → "Stay signed in?" → Security info →
// Add sign-in method → Security key → USB device → Next → fido/create →
// name → Done → the key listed; then "Sign in with a security key".
//
// Chromium's virtual authenticator answers `attestation: "direct"` with full
// `packed` attestation and an x5c certificate of its own test CA, so the
// default policy (attestation not enforced) accepts it, exactly as Entra
// would. The refusal path is walked with attestation enforced and a trusted
// CA that is not Chromium's: the page must show Entra's rejection banner.
//
// Run: cargo build -p entra-sim && cd tests && node --test --test-concurrency=1 sim.test.mjs
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startSim } from './lib/sim.mjs';
import { CHROMIUM } from './lib/paths.mjs';

const STEP_TIMEOUT_MS = 15_000;

/** The loopback control API (/__sim/...), addressed by a Microsoft hostname. */
function control(sim) {
  const ca = readFileSync(sim.ca);
  return (method, p, body) => new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request({
      host: '127.0.0.1', port: sim.port, method, path: p, ca, servername: 'login.microsoftonline.com',
      headers: { host: 'login.microsoftonline.com', 'content-type': 'application/json', ...(data ? { 'content-length': data.length } : {}) },
      timeout: 10_000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 400) return reject(new Error(`${method} ${p}: HTTP ${res.statusCode} ${text}`));
        resolve(text ? JSON.parse(text) : null);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p} timed out`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function launch(sim, locale) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sim-walk-'));
  const args = [
    `--host-resolver-rules=${sim.hostResolverRules}`,
    `--ignore-certificate-errors-spki-list=${sim.spki}`,
    '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--disable-gpu',
  ];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: !process.env.HEADFUL, args, locale,
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${page.url()}: console: ${m.text()}`); });
  // A security key with PIN/UV, as a person plugs in over USB.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'usb', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return {
    context, page, cdp, authenticatorId, errors,
    close: async () => { await context.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Sign-in with a TAP up to the Security info page. */
async function signInWithTap(page, upn, tap) {
  await page.goto('https://mysignins.microsoft.com/security-info');
  await page.waitForURL(/login\.microsoftonline\.com/);
  await page.locator('input[type=email][name=loginfmt]#i0116').fill(upn);
  await page.locator('#idSIButton9').click();
  await page.locator('input[name=accesspass]').fill(tap);
  await page.locator('#idSIButton9').click();
  await staySignedIn(page);
}

async function staySignedIn(page) {
  await page.locator('#KmsiDescription').waitFor();
  assert.equal(await page.locator('div[role=heading][aria-level="1"]').count(), 1);
  await page.locator('#idSIButton9').click();
  await page.waitForURL('https://mysignins.microsoft.com/security-info');
  await page.locator('button[name="Add method"]').waitFor();
}

/** Add sign-in method → Security key → Add → USB device → Next; returns at the naming step or a banner. */
async function addSecurityKey(page) {
  await page.locator('button[name="Add method"]').click();
  const dialog = page.locator('div[role=dialog]');
  await dialog.waitFor();
  await page.locator('div[role=combobox][aria-label="Authentication method options"]').click();
  await page.locator('[role=option][data-value="securityKey"]').click();
  await page.locator('button.ms-Button--primary[name="Add"]').click();
  await page.locator('button[name="USB device"]').click();
  await page.locator('button.ms-Button--primary[name="Next"]').click();
  // fido/create on login.microsoft.com, then newfido, then back here to name the key.
  await page.waitForURL(/login\.microsoft\.com\/[^/]+\/fido\/create/);
  await page.waitForURL(/mysignins\.microsoft\.com\/security-info/);
  await page.locator('input[id^="TextField"]').waitFor();
}

async function nameKey(page, name) {
  await page.locator('input[id^="TextField"]').fill(name);
  await page.locator('div[role=dialog] button.ms-Button--primary[name="Next"]').click();
}

async function strings(page) {
  return page.evaluate(() => window.$Strings);
}

for (const { locale, upn, lang, accept } of [
  { locale: 'en-US', upn: 'adele.vance@contoso.com', lang: 'en', accept: 'en-US' },
  { locale: 'de-DE', upn: 'jonas.mueller@contoso.com', lang: 'de', accept: 'de-DE' },
]) {
  describe(`Security info walk in Chromium (${lang})`, () => {
    let sim, api, b;
    before(async () => {
      sim = await startSim();
      api = control(sim);
      b = await launch(sim, accept);
    });
    after(async () => { await b?.close(); await sim?.stop(); });

    test('with attestation enforced, a key from an untrusted vendor is refused on the page', async () => {
      // Trust only a CA that did not make Chromium's attestation certificate.
      const unrelatedCa = readFileSync(sim.ca, 'utf8');
      await api('PATCH', '/__sim/tenant', { fido2Policy: { enforceAttestation: true, trustedAttestationCas: [unrelatedCa] } });
      const tap = (await api('POST', `/__sim/users/${upn}/taps`, { lifetimeMinutes: 60, isUsableOnce: false })).pass;
      await signInWithTap(b.page, upn, tap);
      assert.equal(await b.page.locator('html').getAttribute('lang'), lang);
      await addSecurityKey(b.page);
      await nameKey(b.page, 'Refused key');
      const banner = b.page.locator('#ms-banner');
      await banner.waitFor({ state: 'visible' });
      const S = await strings(b.page);
      assert.equal((await banner.textContent()).trim(), S.reg_rejected);
      assert.deepEqual(await api('GET', `/__sim/users/${upn}/keys`), []);
      const ev = await api('GET', `/__sim/events?kind=registration&user=${encodeURIComponent(upn)}`);
      assert.ok(ev.some((e) => !e.success && /attestation/.test(e.detail)), JSON.stringify(ev));
    });

    test('with the default policy the key is added, named and listed', async () => {
      await api('PATCH', '/__sim/tenant', { fido2Policy: {} });
      await addSecurityKey(b.page);
      // Next stays disabled while the name is empty (Fluent UI's way), and
      // enables once the name is typed.
      const next = b.page.locator('div[role=dialog] button.ms-Button--primary[name="Next"]');
      await next.waitFor();
      assert.equal(await next.isDisabled(), true, 'Next is disabled while the name is empty');
      const S = await strings(b.page);
      await nameKey(b.page, `Walk key ${lang}`);
      await b.page.locator('div[role=dialog]').filter({ hasText: S.all_set }).waitFor();
      await b.page.locator('button.ms-Button--primary[name="Done"]').click();
      await b.page.locator('div[role=dialog]').waitFor({ state: 'detached' });
      const item = b.page.locator('#methodsList [role=listitem][data-method-type="18"]');
      await item.waitFor();
      assert.equal(await item.locator('.si-method-name').textContent(), `Walk key ${lang}`);
      assert.equal(await item.locator('.si-method-type').textContent(), S.m_security_key);
      const keys = await api('GET', `/__sim/users/${upn}/keys`);
      assert.equal(keys.length, 1);
      assert.equal(keys[0].displayName, `Walk key ${lang}`);
      assert.equal(keys[0].registeredVia, 'securityInfo');
      const { credentials } = await b.cdp.send('WebAuthn.getCredentials', { authenticatorId: b.authenticatorId });
      assert.ok(credentials.some((c) => c.rpId === 'login.microsoft.com' && c.isResidentCredential), JSON.stringify(credentials));
    });

    test('the key signs the user in through "Sign in with a security key"', async () => {
      await b.context.clearCookies();
      await b.page.goto('https://mysignins.microsoft.com/security-info');
      await b.page.locator('#i0116').waitFor();
      await b.page.locator('#idA_PWD_SwitchToFido').click();
      // fido/get calls navigator.credentials.get; the virtual key answers.
      await staySignedIn(b.page);
      assert.equal(await b.page.locator('html').getAttribute('lang'), lang);
      await b.page.locator('#methodsList [role=listitem][data-method-type="18"]').waitFor();
      const ev = await api('GET', `/__sim/events?kind=signin&user=${encodeURIComponent(upn)}`);
      assert.ok(ev.some((e) => e.success && /fido2/.test(e.detail)), JSON.stringify(ev));
      const keys = await api('GET', `/__sim/users/${upn}/keys`);
      assert.ok(keys[0].lastUsedAt, 'the key records its use');
      assert.deepEqual(b.errors, [], 'no script errors on any page');
    });
  });
}
