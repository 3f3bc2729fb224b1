// "Ask Microsoft for English pages": automatic jobs ask for English with
// declarativeNetRequest session rules scoped to the job's tab
// (Accept-Language on the Microsoft hosts, ui_locales/mkt added to the
// sign-in request). The browser here speaks German; the simulator picks the
// page language from a user's forced locale, else from Accept-Language.
// Pages outside the job stay German; a user's forced locale wins; the
// setting off and manual mode leave the browser's language alone; the rules
// go when the job ends, and stale ones when the worker starts.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { startSim, testSeed } from './lib/sim.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startFakePanel } from './lib/fake-panel.mjs';

const MS_HOSTS = ['login.microsoftonline.com', 'login.microsoft.com', 'mysignins.microsoft.com', 'account.activedirectory.windowsazure.com'];
const CONDITION_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

/** Resolves with `fn()`'s first truthy value, or throws `name` after `timeoutMs`. */
async function until(name, fn, timeoutMs = CONDITION_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${name}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

describe('English hint (declarativeNetRequest, job tab only)', () => {
  let sim, api, browser, panel, page, tenantId, users;
  before(async () => {
    sim = await startSim({ seed: testSeed(5) });
    api = simApi(sim);
    tenantId = (await api.tenant()).id;
    users = await api.users();
    panel = await startFakePanel();
    // Headless Chromium takes its Accept-Language from --accept-lang
    // (--lang alone leaves it en-US there).
    browser = await launchBrowser({ sim, extraArgs: ['--lang=de', '--accept-lang=de-DE,de'] });
    page = await browser.context.newPage();
    await page.goto(panel.origin);
  });
  after(async () => {
    await browser?.close();
    await panel?.close();
    await sim?.stop();
  });
  const user = (n) => users.find((u) => u.userPrincipalName === `scenario${n}@contoso.com`);
  const sw = () => browser.serviceWorker();

  async function setSettings(settings) {
    await (await sw()).evaluate((s) => chrome.storage.local.set({ settings: s, snapshots: [] }), settings);
  }
  async function snapshots() {
    const { snapshots: all = [] } = await (await sw()).evaluate(() => chrome.storage.local.get('snapshots'));
    return all.filter((s) => MS_HOSTS.includes(new URL(s.snapshot.url).host));
  }
  const sessionRules = async () => (await sw()).evaluate(() => chrome.declarativeNetRequest.getSessionRules());

  /** The language of a Microsoft page opened in a tab of its own, outside any job. */
  async function outsideLang() {
    const p = await browser.context.newPage();
    try {
      await p.goto('https://login.microsoftonline.com/');
      return await p.evaluate(() => document.documentElement.lang);
    } finally {
      await p.close();
    }
  }

  async function provision(n, opts = {}) {
    const u = user(n);
    const { pass } = await api.createTap(u.id, { isUsableOnce: false });
    const msg = panel.provisionMessage(u, { tap: pass, tenantId, ...opts });
    assert.equal((await browser.sendFrom(page, msg)).type, 'accepted');
    return msg;
  }

  test('outside a job the browser is German', async () => {
    assert.equal(await outsideLang(), 'de');
  });

  test('an automatic job gets English pages, its sign-in asks for en-US, nothing loops, the rules go at the end', async () => {
    await setSettings({ recordSnapshots: true });
    const t0 = Date.now();
    const msg = await provision(0);
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    assert.equal((await api.keys(user(0).id)).length, 1);

    const seen = await snapshots();
    assert.ok(seen.length >= 5, `the job's pages were recorded: ${seen.length}`);
    const langs = seen.filter((s) => s.snapshot.lang).map((s) => `${s.page}:${s.snapshot.lang}`);
    assert.ok(langs.length > 0);
    assert.deepEqual(langs.filter((l) => !l.endsWith(':en')), [], 'every page in English');
    const signIn = seen.map((s) => new URL(s.snapshot.url)).filter((u) => /\/oauth2\/(v2\.0\/)?authorize$/.test(u.pathname));
    assert.ok(signIn.length > 0, `the sign-in request was seen: ${seen.map((s) => s.snapshot.url).join(' ')}`);
    for (const u of signIn) {
      assert.equal(u.searchParams.get('ui_locales'), 'en-US', u.href);
      assert.equal(u.searchParams.get('mkt'), 'en-US', u.href);
      assert.equal(u.searchParams.getAll('ui_locales').length, 1, `replaced, not repeated: ${u.href}`);
    }
    // The redirected request matches the rule again, unchanged: Chrome does
    // not redirect it a second time. The simulator served only a handful of
    // sign-in requests (a loop would end in ERR_TOO_MANY_REDIRECTS).
    const { intervals } = await api.timings(t0);
    const authorizeGets = intervals.filter(([, , what]) => /^GET login\.microsoftonline\.com\/[^ ]+\/oauth2\/(v2\.0\/)?authorize$/.test(what));
    assert.ok(authorizeGets.length >= 1 && authorizeGets.length <= 4, `sign-in requests served: ${authorizeGets.length}`);

    assert.deepEqual(await sessionRules(), [], 'the rules went with the job');
    assert.equal(await outsideLang(), 'de', 'a page outside the job is still German');
  });

  test("a user whose locale is forced keeps it", async () => {
    await api.scenarios(user(1).id, { locale: 'fr' });
    await setSettings({ recordSnapshots: true });
    const msg = await provision(1);
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    const seen = await snapshots();
    const securityInfo = seen.filter((s) => new URL(s.snapshot.url).host === 'mysignins.microsoft.com' && s.snapshot.lang);
    assert.ok(securityInfo.length > 0);
    assert.deepEqual([...new Set(securityInfo.map((s) => s.snapshot.lang))], ['fr'], 'Security info in the user\'s French');
    assert.ok(!seen.some((s) => s.snapshot.lang === 'de'), 'nothing in the browser\'s German');
  });

  test('with the setting off, the job follows the browser (German)', async () => {
    await setSettings({ recordSnapshots: true, askForEnglish: false });
    const msg = await provision(2);
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'succeeded', JSON.stringify(final.error));
    const seen = await snapshots();
    const langs = [...new Set(seen.filter((s) => s.snapshot.lang).map((s) => s.snapshot.lang))];
    assert.deepEqual(langs, ['de']);
    assert.ok(!seen.some((s) => new URL(s.snapshot.url).searchParams.has('ui_locales')));
  });

  test('manual mode leaves the administrator\'s language alone', async () => {
    await setSettings({ recordSnapshots: true });
    const msg = await provision(3, { mode: 'manual' });
    const first = await until('ManualFirstPage', async () => (await snapshots()).find((s) => s.snapshot.lang));
    assert.equal(first.snapshot.lang, 'de', first.snapshot.url);
    assert.ok(!new URL(first.snapshot.url).searchParams.has('ui_locales'), first.snapshot.url);
    assert.deepEqual(await sessionRules(), [], 'no rules for a manual job');
    await browser.sendFrom(page, { type: 'cancel', requestId: msg.requestId });
    const final = await panel.finalReport(msg.requestId);
    assert.equal(final.state, 'cancelled', JSON.stringify(final));
  });

  test('a rule left for a tab that is gone is removed when the worker starts', async () => {
    await (await sw()).evaluate(() => chrome.declarativeNetRequest.updateSessionRules({
      removeRuleIds: [1001],
      addRules: [{
        id: 1001, priority: 1,
        action: { type: 'modifyHeaders', requestHeaders: [{ header: 'accept-language', operation: 'set', value: 'en-US' }] },
        condition: { tabIds: [2_000_000_000], requestDomains: ['login.microsoftonline.com'] },
      }],
    }));
    assert.equal((await sessionRules()).length, 1);
    const ext = await browser.openExtensionPage('options.html');
    const cdp = await browser.context.newCDPSession(ext);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    // Any message starts a fresh worker.
    assert.equal((await browser.sendFrom(page, { type: 'ping' })).type, 'pong');
    // Only the worker's start removes it; read the rules from the page.
    await until('StaleRulesRemoved', async () => (await ext.evaluate(() => chrome.declarativeNetRequest.getSessionRules())).length === 0);
    await ext.close();
  });
});
