// What goes wrong around a job: another private window keeping a Microsoft
// session, the administrator closing the job's window, the browser stopping
// the service worker mid-job, the panel being down, transient Microsoft 5xx,
// and the queue's rules (one request per user, idempotent ids, cancel).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

describe('resilience', () => {
  let sim, api, browser, panel, page, tenantId, users, worker;
  before(async () => {
    sim = await startSim({ seed: testSeed(13) });
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
  const user = (n) => users.find((u) => u.userPrincipalName === `scenario${n}@contoso.com`);
  const taps = new Map();
  async function tapFor(u) {
    if (!taps.has(u.id)) taps.set(u.id, (await api.createTap(u.id, { isUsableOnce: false })).pass);
    return taps.get(u.id);
  }
  async function start(u, extra = {}) {
    const msg = panel.provisionMessage(u, { tap: await tapFor(u), tenantId, ...extra });
    const accepted = await browser.sendFrom(page, msg);
    assert.equal(accepted.type, 'accepted', JSON.stringify(accepted));
    return msg;
  }
  /** Waits until the panel got a running report for one of `steps`. */
  async function reached(requestId, steps, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (panel.reports(requestId).some((r) => steps.includes(r.step))) return;
      if (Date.now() > deadline) throw new Error(`StepTimeout: ${requestId} never reached ${steps}`);
      await panel.nextReport(requestId, deadline - Date.now());
    }
  }
  const incognitoWindows = async () => (await browser.serviceWorker()).evaluate(
    async () => (await chrome.windows.getAll()).filter((w) => w.incognito).map((w) => w.id));

  test('two users in a row share no session, even with another private window open', async () => {
    // An administrator's own private window keeps the incognito profile (and
    // its cookies) alive across jobs.
    worker = await browser.serviceWorker();
    await worker.evaluate(() => chrome.windows.create({ incognito: true, url: 'https://mysignins.microsoft.com/', focused: false }));
    const [a, b] = [user(0), user(1)];
    const ma = await start(a);
    assert.equal((await panel.finalReport(ma.requestId)).state, 'succeeded');
    const mb = await start(b);
    const fb = await panel.finalReport(mb.requestId);
    assert.equal(fb.state, 'succeeded', JSON.stringify(fb.error));
    assert.equal((await api.keys(a.id)).length, 1, 'A got exactly one key');
    assert.equal((await api.keys(b.id)).length, 1, 'B got its own key');
    // B's job signed in from the username page: nothing of A's session was left.
    assert.ok(panel.reports(mb.requestId).some((r) => r.step === 'signIn.username'));
  });

  test('the administrator closing the job window cancels it; the next job succeeds', async () => {
    const u = user(2);
    await api.scenarios(u.id, { slowMs: 400 });
    const before = new Set(await incognitoWindows());
    const msg = await start(u);
    await reached(msg.requestId, ['signIn.accessPass', 'signIn.staySignedIn', 'securityInfo.open']);
    const jobWindow = (await incognitoWindows()).find((id) => !before.has(id));
    assert.ok(jobWindow, 'the job has its own window');
    await (await browser.serviceWorker()).evaluate((id) => chrome.windows.remove(id), jobWindow);
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'cancelled');
    assert.equal(final.error.code, 'cancelled');
    assert.match(final.error.message, /window was closed/);
    await api.scenarios(u.id, { slowMs: 0 });
    const next = await start(u);
    assert.equal((await panel.finalReport(next.requestId)).state, 'succeeded');
  });

  test('a service worker stopped mid-job resumes the job', async () => {
    const u = user(3);
    await api.scenarios(u.id, { slowMs: 300 });
    const msg = await start(u);
    await reached(msg.requestId, ['securityInfo.open', 'securityInfo.addMethod']);
    const ext = await browser.openExtensionPage('options.html');
    const cdp = await browser.context.newCDPSession(ext);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const final = await panel.finalReport(msg.requestId);
    await api.scenarios(u.id, { slowMs: 0 });
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    assert.equal((await api.keys(u.id)).length, 1);
    await ext.close();
  });

  test('a report the panel missed is re-sent later, never lost', async () => {
    const u = user(4);
    panel.setDown(true);
    const msg = await start(u);
    // The job runs (the vault answers) while reports bounce; wait for the key.
    const deadline = Date.now() + 30_000;
    while ((await api.keys(u.id)).length === 0) {
      assert.ok(Date.now() < deadline, 'the key was never registered');
      await new Promise((r) => setTimeout(r, 200)); // polling the simulator's state from the test, not the product
    }
    const status = async () => (await browser.sendFrom(page, { type: 'status', requestId: msg.requestId })).job;
    for (let s = await status(); !s || s.state !== 'succeeded'; s = await status()) {
      assert.ok(Date.now() < deadline, 'the job never finished');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(panel.reports(msg.requestId).length, 0, 'the panel was down');
    panel.setDown(false);
    // The next job's first report flushes the outbox.
    const next = await start(user(5));
    await panel.finalReport(next.requestId);
    const final = await panel.finalReport(msg.requestId, 5_000);
    assert.equal(final.state, 'succeeded');
  });

  test('a panel that takes reports and never answers holds no job up; its reports arrive once it answers again', async () => {
    const [u, v, w] = [user(10), user(11), user(12)];
    const status = async (requestId) => (await browser.sendFrom(page, { type: 'status', requestId })).job;
    const finished = async (requestId, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (let s = await status(requestId); s?.state !== 'succeeded'; s = await status(requestId)) {
        assert.ok(Date.now() < deadline, `${requestId} did not finish within ${timeoutMs} ms: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 100)); // polling the extension's status from the test
      }
    };
    panel.setHanging(true);
    const t0 = Date.now();
    const mu = await start(u);
    const mv = await start(v);
    // Each report the panel holds would take the browser's 20 s fetch
    // timeout; two jobs of a dozen reports finish well before one of them.
    await finished(mu.requestId, 15_000);
    await finished(mv.requestId, 15_000);
    assert.ok(Date.now() - t0 < 15_000, `two jobs took ${Date.now() - t0} ms`);
    assert.equal((await api.keys(v.id)).length, 1);
    panel.setHanging(false);
    // The next job's first report sends what the outbox kept.
    const mw = await start(w);
    assert.equal((await panel.finalReport(mw.requestId)).state, 'succeeded');
    assert.equal((await panel.finalReport(mu.requestId, 5_000)).state, 'succeeded');
    assert.equal((await panel.finalReport(mv.requestId, 5_000)).state, 'succeeded');
  });

  test('one request per user at a time; the same request id is accepted once; queued requests can be cancelled', async () => {
    const [u, v] = [user(6), user(7)];
    await api.scenarios(u.id, { slowMs: 300 });
    const first = await start(u);
    const again = await browser.sendFrom(page, panel.provisionMessage(u, { tap: await tapFor(u), tenantId }));
    assert.equal(again.type, 'error');
    assert.equal(again.code, 'alreadyQueued');
    const same = await browser.sendFrom(page, { ...first });
    assert.equal(same.type, 'accepted');
    assert.equal(same.position, 0, 'the running request keeps its place');
    const queued = await start(v);
    const cancelled = await browser.sendFrom(page, { type: 'cancel', requestId: queued.requestId });
    assert.equal(cancelled.type, 'status');
    assert.equal((await panel.finalReport(queued.requestId)).state, 'cancelled');
    assert.equal((await panel.finalReport(first.requestId)).state, 'succeeded');
    await api.scenarios(u.id, { slowMs: 0 });
    assert.equal((await api.keys(v.id)).length, 0, 'a cancelled request registers nothing');
    const unknown = await browser.sendFrom(page, { type: 'cancel', requestId: 'nope' });
    assert.equal(unknown.code, 'unknownRequest');
  });

  test('a transient Microsoft 500 is retried; a persistent one ends as serverError', async () => {
    const u = user(8);
    await api.scenarios(u.id, { failStep: 'security-info', failTimes: 1 });
    const ok = await start(u);
    assert.equal((await panel.finalReport(ok.requestId)).state, 'succeeded');
    const w = user(9);
    await api.scenarios(w.id, { failStep: 'security-info', failTimes: null });
    const bad = await start(w);
    const final = await panel.finalReport(bad.requestId);
    await api.scenarios(w.id, { failStep: null });
    assert.equal(final.error.code, 'serverError', final.error.message);
    assert.match(final.error.message, /HTTP 500/);
  });
});
