// Foundation scenarios: the built extension loads in a real Chromium, its
// popup tells both incognito states apart, it answers an allowed panel page,
// refuses others, and opens an incognito window on a Microsoft hostname
// (served by the simulator over HTTPS) where its content script reports.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { startSim } from './lib/sim.mjs';
import { servePage } from './lib/http.mjs';

const PANEL_HTML = '<!doctype html><title>Panel stand-in</title><h1>Panel</h1>';

describe('extension without "Allow in Incognito"', () => {
  let browser;
  let panel;
  before(async () => {
    browser = await launchBrowser({ incognito: false });
    panel = await servePage(PANEL_HTML);
  });
  after(async () => { await browser?.close(); await panel?.close(); });

  test('popup says Allow in Incognito is off and offers the fix', async () => {
    const page = await browser.openExtensionPage('popup.html');
    await page.locator('#status[data-state="warn"]').waitFor();
    assert.equal(await page.locator('#status').textContent(), 'Allow in Incognito is off');
    assert.equal(await page.locator('#fix').isVisible(), true);
    // The fix opens the extension's details, where the toggle is.
    const opened = browser.context.waitForEvent('page');
    await page.locator('#fix').click();
    const details = await opened;
    await details.waitForURL(/^chrome:\/\/extensions\/\?id=/);
    assert.equal(details.url(), `chrome://extensions/?id=${browser.extensionId}`);
    await page.close();
    await details.close();
  });

  test('ping reports incognito not allowed; self-test refuses with a hint', async () => {
    const page = await browser.context.newPage();
    await page.goto(panel.origin);
    const pong = await browser.sendFrom(page, { type: 'ping' });
    assert.equal(pong.type, 'pong');
    assert.equal(pong.incognitoAllowed, false);
    const refused = await browser.sendFrom(page, { type: 'selfTest' });
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'incognitoNotAllowed');
    assert.match(refused.hint, /Allow in Incognito/);
    await page.close();
  });
});

describe('extension allowed in incognito, against the simulator', () => {
  let browser;
  let sim;
  let panel;
  let other;
  before(async () => {
    sim = await startSim();
    browser = await launchBrowser({ sim });
    panel = await servePage(PANEL_HTML);
    other = await servePage(PANEL_HTML, { host: 'localhost' });
  });
  after(async () => {
    await browser?.close();
    await sim?.stop();
    await panel?.close();
    await other?.close();
  });

  test('popup says Ready', async () => {
    const page = await browser.openExtensionPage('popup.html');
    await page.locator('#status[data-state="ok"]').waitFor();
    assert.equal(await page.locator('#status').textContent(), 'Ready');
    assert.equal(await page.locator('#fix').isVisible(), false);
    assert.match(await page.locator('#version').textContent(), /^Version \d+\.\d+\.\d+$/);
    await page.close();
  });

  test('a page on an allowed panel origin gets pong', async () => {
    const page = await browser.context.newPage();
    await page.goto(panel.origin);
    const pong = await browser.sendFrom(page, { type: 'ping' });
    assert.deepEqual(pong, {
      type: 'pong', version: '0.1.0', protocolVersion: 1,
      incognitoAllowed: true, busy: false, queueLength: 0,
    });
    await page.close();
  });

  test('malformed requests get specific refusals', async () => {
    const page = await browser.context.newPage();
    await page.goto(panel.origin);
    const cases = [
      [{ type: 'launchMissiles' }, 'unknownType'],
      [{ kind: 'ping' }, 'missingType'],
      [{ type: 'ping', extra: 1 }, 'malformed'],
      [[1, 2, 3], 'notAnObject'],
      [{ type: 'ping', pad: 'x'.repeat(20_000) }, 'tooLarge'],
    ];
    for (const [msg, code] of cases) {
      const r = await browser.sendFrom(page, msg);
      assert.equal(r.type, 'error', JSON.stringify(msg).slice(0, 60));
      assert.equal(r.code, code, r.message);
      assert.ok(r.message.length > 10, 'a message a person can read');
    }
    await page.close();
  });

  test('Options page validates origins; a page on a removed origin is refused', async () => {
    const options = await browser.openExtensionPage('options.html');
    const box = options.locator('#allowed-origins');
    await options.waitForFunction(() => document.querySelector('#allowed-origins').value.includes('127.0.0.1'));
    // A bad line is named and nothing is saved.
    await box.fill('http://127.0.0.1:*\nhttp://panel.contoso.com');
    await options.locator('#save').click();
    await options.locator('#origins-error').filter({ hasText: 'Line 2' }).waitFor();
    assert.match(await options.locator('#origins-error').textContent(), /only https/);
    // Keep only 127.0.0.1: localhost is no longer obeyed.
    await box.fill('http://127.0.0.1:*');
    await options.locator('#save').click();
    await options.locator('#saved').filter({ hasText: 'Saved.' }).waitFor();
    await options.close();

    const page = await browser.context.newPage();
    await page.goto(other.origin);
    const refused = await browser.sendFrom(page, { type: 'ping' });
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'originNotAllowed');
    assert.match(refused.message, new RegExp(other.origin.replace(/[.]/g, '\\.')));
    assert.match(refused.hint, /Options/);
    // The allowed origin still works.
    await page.goto(panel.origin);
    assert.equal((await browser.sendFrom(page, { type: 'ping' })).type, 'pong');
    await page.close();
  });

  test('pages outside externally_connectable cannot reach the extension at all', async () => {
    const page = await browser.context.newPage();
    await page.goto('https://login.microsoftonline.com/');
    const reachable = await page.evaluate(() => typeof globalThis.chrome?.runtime?.sendMessage);
    assert.equal(reachable, 'undefined');
    await page.close();
  });

  test('self-test opens an incognito window on login.microsoftonline.com and the actuator reports', async () => {
    const page = await browser.context.newPage();
    await page.goto(panel.origin);
    const r = await browser.sendFrom(page, { type: 'selfTest' });
    assert.equal(r.type, 'selfTestResult', JSON.stringify(r));
    assert.match(r.url, /^https:\/\/login\.microsoftonline\.com\//);
    assert.equal(r.incognito, true);
    assert.ok(r.title.length > 0, 'the page has a title');
    assert.ok(r.elapsedMs > 0 && r.elapsedMs < 20_000);
    await page.close();
  });

  test('the service worker recorded no errors', async () => {
    const errors = await browser.extensionErrors();
    assert.deepEqual(errors.manifest, []);
    assert.deepEqual(errors.runtime, []);
    assert.deepEqual(Object.entries(errors.disableReasons).filter(([, on]) => on), []);
  });
});
