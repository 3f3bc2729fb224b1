// "Unknown pages become regression tests": a job that fails on a page the
// engine does not know keeps the page's last snapshot in its log entry, and
// Show Logs exports it as `page-snapshot-<requestId>.json` in the engine's
// fixture format ({page, step, snapshot}), the file an administrator drops
// into crates/engine/tests/fixtures/<case>/.
//
// The unknown page is the test's own: Security info's hostname is mapped to
// a small HTTPS server here, with the simulator's certificate, so the job's
// first page is one no Microsoft stand-in has. It shows the job's TAP as
// text and holds a pre-filled box: neither may reach the file.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

const DOWNLOAD_TIMEOUT_MS = 15_000;
const BOX_VALUE = 'prefilled-box-value-7f3a';

/** An HTTPS server with the simulator's leaf certificate that answers every path with `html()`. */
async function startUnknownPage(sim, html) {
  const server = https.createServer({
    cert: readFileSync(path.join(sim.stateDir, 'leaf.pem')),
    key: readFileSync(path.join(sim.stateDir, 'leaf-key.pem')),
  }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

describe('export a failed job\'s page snapshot from Show Logs', () => {
  let sim, api, panel, browser, unknown, page, tenantId, users;
  let shownTap = '';
  before(async () => {
    sim = await startSim({ seed: testSeed(1) });
    api = simApi(sim);
    tenantId = (await api.tenant()).id;
    users = await api.users();
    panel = await startFakePanel();
    unknown = await startUnknownPage(sim, () => `<!doctype html><html lang="en"><head><meta charset="utf-8">
      <title>Something Microsoft has not shown before</title></head><body>
      <h1>A brand-new interstitial</h1>
      <h2>Your pass is ${shownTap}</h2>
      <label for="box">Box</label><input id="box" name="mystery" value="${BOX_VALUE}">
      <button type="button" id="frobnicate">Frobnicate</button>
      </body></html>`);
    // Security info on the test's server; the other Microsoft hosts on the simulator.
    const rules = [`MAP mysignins.microsoft.com 127.0.0.1:${unknown.port}`,
      ...sim.hostResolverRules.split(',').map((r) => r.trim()).filter((r) => !r.includes('mysignins.microsoft.com '))];
    browser = await launchBrowser({ sim: { hostResolverRules: rules.join(', '), spki: sim.spki } });
    page = await browser.context.newPage();
    await page.goto(panel.origin);
  });
  after(async () => {
    await browser?.close();
    await unknown?.close();
    await panel?.close();
    await sim?.stop();
  });

  test('an unknownPage failure exports {page, step, snapshot}, with no TAP and no typed value', async () => {
    const u = users.find((x) => x.userPrincipalName === 'scenario0@contoso.com');
    const { pass } = await api.createTap(u.id);
    shownTap = pass;
    const msg = panel.provisionMessage(u, { tap: pass, tenantId });
    assert.equal((await browser.sendFrom(page, msg)).type, 'accepted');
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.error?.code, 'unknownPage', JSON.stringify(final));

    const logs = await browser.openExtensionPage('logs.html');
    const button = logs.getByRole('button', { name: /^Export page snapshot for Scenario User 0/ });
    await button.waitFor();
    const downloaded = logs.waitForEvent('download', { timeout: DOWNLOAD_TIMEOUT_MS });
    await button.click();
    const download = await downloaded;
    assert.equal(download.suggestedFilename(), `page-snapshot-${msg.requestId}.json`);
    const text = readFileSync(await download.path(), 'utf8');
    const file = JSON.parse(text);

    // The engine's fixture format.
    assert.deepEqual(Object.keys(file).sort(), ['page', 'snapshot', 'step']);
    assert.equal(file.page, 'unknown');
    assert.equal(typeof file.step, 'string');
    assert.ok(file.step.length > 0);
    assert.match(file.snapshot.url, /^https:\/\/mysignins\.microsoft\.com\/security-info/);
    assert.equal(file.snapshot.title, 'Something Microsoft has not shown before');
    assert.ok(Array.isArray(file.snapshot.elements) && file.snapshot.elements.length >= 3, text);
    const texts = file.snapshot.elements.map((e) => `${e.tag}#${e.id ?? ''}[${e.name ?? ''}] ${e.text ?? ''}`);
    assert.ok(texts.some((t) => /Frobnicate/.test(t)), texts.join('\n'));
    assert.ok(texts.some((t) => /mystery/.test(t)), texts.join('\n'));
    assert.ok(file.snapshot.elements.every((e) => Number.isInteger(e.handle) && typeof e.tag === 'string'));

    // Structure only.
    assert.ok(!text.includes(pass), 'no TAP in the file');
    assert.ok(texts.some((t) => /Your pass is \[redacted\]/.test(t)), `the TAP the page showed is redacted: ${texts.join('\n')}`);
    assert.ok(!text.includes(BOX_VALUE), 'no input value in the file');
    const { logs: stored = [] } = await (await browser.serviceWorker()).evaluate(() => chrome.storage.local.get('logs'));
    const entry = stored.find((l) => l.requestId === msg.requestId);
    assert.ok(entry?.pageSnapshot, 'the log entry keeps the snapshot');
    assert.ok(!JSON.stringify(entry).includes(pass), 'no TAP in the log entry');
    await logs.locator('#notice').filter({ hasText: `page-snapshot-${msg.requestId}.json` }).waitFor();
    await logs.close();
  });

  test('a successful entry offers no page snapshot, even with one stored', async () => {
    const sw = await browser.serviceWorker();
    await sw.evaluate(async () => {
      const { logs = [] } = await chrome.storage.local.get('logs');
      const failed = logs.find((l) => l.pageSnapshot);
      logs.push({ ...failed, requestId: 'ok-1', displayName: 'Succeeded User', state: 'succeeded', error: undefined, startedMs: failed.startedMs + 1 });
      await chrome.storage.local.set({ logs });
    });
    const logs = await browser.openExtensionPage('logs.html');
    await logs.getByRole('button', { name: /^Details for Succeeded User/ }).waitFor();
    assert.equal(await logs.getByRole('button', { name: /^Export page snapshot for Succeeded User/ }).count(), 0);
    assert.equal(await logs.getByRole('button', { name: /^Export page snapshot for Scenario User 0/ }).count(), 1);
    await logs.close();
  });
});
