// Failure screenshots. With the optional `<all_urls>` permission granted, a
// failed job's log entry carries a PNG of its tab, and Show Logs shows it;
// without it, the entry has the page's visible structure and no picture.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './lib/paths.mjs';
import { extensionWithGrantedHosts, launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

/** Width and height from a PNG data URL's IHDR chunk. */
function pngSize(dataUrl) {
  const m = /^data:image\/png;base64,(.+)$/.exec(dataUrl);
  assert.ok(m, `a PNG data URL, got ${String(dataUrl).slice(0, 40)}`);
  const bytes = Buffer.from(m[1], 'base64');
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('failure screenshots', () => {
  let sim, api, panel, tenantId, users;
  before(async () => {
    sim = await startSim({ seed: testSeed(2) });
    api = simApi(sim);
    tenantId = (await api.tenant()).id;
    users = await api.users();
    panel = await startFakePanel();
  });
  after(async () => {
    await panel?.close();
    await sim?.stop();
  });

  /** Runs a job that fails (a wrong TAP) and returns its log entry. */
  async function failedJob(browser, n) {
    const u = users.find((x) => x.userPrincipalName === `scenario${n}@contoso.com`);
    await api.scenarios(u.id, { wrongTap: true });
    const { pass } = await api.createTap(u.id);
    const page = await browser.context.newPage();
    await page.goto(panel.origin);
    const msg = panel.provisionMessage(u, { tap: pass, tenantId });
    assert.equal((await browser.sendFrom(page, msg)).type, 'accepted');
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.error?.code, 'tapNotFound', JSON.stringify(final));
    const { logs = [] } = await (await browser.serviceWorker()).evaluate(() => chrome.storage.local.get('logs'));
    const entry = logs.find((l) => l.requestId === msg.requestId);
    assert.ok(entry, 'the job has a log entry');
    return { entry, upn: u.userPrincipalName, tap: pass };
  }

  test('with <all_urls> granted: a PNG of the tab in the log, shown in Show Logs', async () => {
    const dir = extensionWithGrantedHosts(['<all_urls>']);
    const browser = await launchBrowser({ sim, extensionDir: dir });
    try {
      const ext = await browser.openExtensionPage('options.html');
      assert.equal(await ext.evaluate(() => chrome.permissions.contains({ origins: ['<all_urls>'] })), true);
      await ext.locator('#screenshots-state').filter({ hasText: /^Allowed$/ }).waitFor();
      const { entry, tap } = await failedJob(browser, 0);
      const { width, height } = pngSize(entry.screenshot);
      assert.ok(width >= 200 && height >= 200, `a real picture of the tab, got ${width}×${height}`);
      // Kept for a person to look at.
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(path.join(ARTIFACTS, 'failure-screenshot.png'), Buffer.from(entry.screenshot.split(',')[1], 'base64'));
      assert.ok(entry.lastPage, 'the structure is kept as well');
      assert.ok(!JSON.stringify(entry).includes(tap), 'no TAP in the entry');

      const logs = await browser.openExtensionPage('logs.html');
      await logs.getByRole('button', { name: /^Details for / }).first().click();
      const img = logs.locator('dialog img.screenshot, [role=dialog] img.screenshot');
      await img.waitFor();
      assert.equal(await img.getAttribute('src'), entry.screenshot);
      const shown = await img.evaluate((i) => i.decode().then(() => i.naturalWidth));
      assert.equal(shown, width);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without it: no screenshot, the page structure stands in', async () => {
    const browser = await launchBrowser({ sim });
    try {
      const { entry } = await failedJob(browser, 1);
      assert.equal(entry.screenshot, undefined);
      assert.match(entry.lastPage?.url ?? '', /^https:\/\/login\.microsoftonline\.com\//);
      assert.ok(entry.lastPage.elements.some((e) => /passwd|accesspass/i.test(e)), JSON.stringify(entry.lastPage));
    } finally {
      await browser.close();
    }
  });
});
