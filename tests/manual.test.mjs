// Manual mode: the extension opens Security info in a private window and
// fills the TAP; a person (here Playwright, attached to the private window
// over CDP) clicks through and uses a security key (a CDP virtual
// authenticator, which makes real packed attestation). The extension
// watches, detects the new key and reports it like the automatic mode.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

const FIND_PAGE_TIMEOUT_MS = 20_000;

/** The page of another (private) context whose URL matches, via CDP. */
async function findPage(cdpBrowser, re) {
  const deadline = Date.now() + FIND_PAGE_TIMEOUT_MS;
  for (;;) {
    for (const c of cdpBrowser.contexts()) {
      const p = c.pages().find((pg) => re.test(pg.url()));
      if (p) return p;
    }
    if (Date.now() > deadline) throw new Error(`FindPageTimeout: no page matching ${re}`);
    await new Promise((r) => setTimeout(r, 100)); // the test's own polling of the browser, not the product's
  }
}

describe('manual mode', () => {
  let sim, api, browser, cdp, panel, page, tenantId, users;
  before(async () => {
    sim = await startSim({ seed: testSeed(2) });
    api = simApi(sim);
    tenantId = (await api.tenant()).id;
    users = await api.users();
    panel = await startFakePanel();
    browser = await launchBrowser({ sim, extraArgs: ['--remote-debugging-port=0'] });
    const port = readFileSync(path.join(browser.userDataDir, 'DevToolsActivePort'), 'utf8').split('\n')[0];
    cdp = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
    page = await browser.context.newPage();
    await page.goto(panel.origin);
  });
  after(async () => {
    await cdp?.close();
    await browser?.close();
    await panel?.close();
    await sim?.stop();
  });

  test('the administrator registers a key with an authenticator of their own; the extension reports it', async () => {
    const u = users.find((x) => x.userPrincipalName === 'scenario0@contoso.com');
    const { pass } = await api.createTap(u.id);
    const msg = panel.provisionMessage(u, { tap: pass, tenantId, mode: 'manual' });
    assert.equal((await browser.sendFrom(page, msg)).type, 'accepted');

    // The extension filled the username and the TAP; the person signs in.
    const win = await findPage(cdp, /login\.microsoftonline\.com/);
    const session = await win.context().newCDPSession(win);
    await session.send('WebAuthn.enable');
    await session.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await win.locator('input[name=accesspass]').waitFor();
    await win.waitForFunction(() => document.querySelector('input[name=accesspass]').value.length > 0);
    await win.locator('#idSIButton9').click();
    await win.locator('#idBtn_Back').click(); // Stay signed in? No
    await win.locator('button[name="Add method"]').click();
    await win.locator('[role=combobox][aria-label="Authentication method options"]').click();
    await win.locator('[role=option][data-value=securityKey]').click();
    await win.locator('button[name=Add]').click();
    await win.locator('button[name="USB device"]').click();
    await win.locator('button[name=Next]').click();
    // fido/create → the browser's authenticator → back to Security info.
    const name = 'YubiKey of the helpdesk';
    await win.locator('input[id^=TextField]').fill(name, { timeout: 20_000 });
    await win.locator('button[name=Next]').click();
    await win.locator('button[name=Done]').click();

    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    assert.match(final.result.keyName, new RegExp(name));
    const keys = await api.keys(u.id);
    assert.equal(keys.length, 1);
    assert.equal(final.result.credentialId, keys[0].credentialId, 'the bridge observed the credential id');
    assert.equal(panel.attestations(msg.requestId), 0, 'the vault was not asked in manual mode');
  });
});
