// The extension's own pages in a real browser: Show Logs (table, filter,
// search, detail, export, clear, live updates, markup in names stays text),
// the popup (running job, progress, queue, live updates, Show Logs) and
// Options (saves valid settings, refuses invalid ones field by field).
// Storage is seeded directly; no job runs, so no simulator or panel is needed.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchBrowser } from './lib/browser.mjs';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // 2026-11-22T09:00:00Z
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const step = (name, from, to, page) => ({ step: name, startedMs: T0 + from, endedMs: T0 + to, page });

/** Four finished jobs, in the order the worker appends them (oldest first). */
const ENTRIES = [
  {
    requestId: 'req-adele', upn: 'adele.vance@contoso.com', displayName: 'Adele Vance', mode: 'automatic',
    startedMs: T0, endedMs: T0 + 4_250, state: 'succeeded', keyName: 'IDM-8b4f3a21-K7Q2XM-20261122',
    credentialId: 'q1w2e3r4', steps: [step('open', 0, 300, 'blank'), step('signIn.accessPass', 300, 1_800, 'accessPass'),
      step('register.webauthn', 1_800, 4_250, 'fidoCreate')],
  },
  {
    requestId: 'req-megan', upn: 'megan.bowen@contoso.com', displayName: 'Bowen, Megan "MB"', mode: 'automatic',
    startedMs: T0 + 60_000, endedMs: T0 + 95_000, state: 'failed',
    error: { code: 'tapNotFound', message: 'The Temporary Access Pass was not accepted.', hint: 'Issue a new Temporary Access Pass and try again.' },
    steps: [step('open', 60_000, 60_400, 'blank'), step('signIn.username', 60_400, 61_000, 'username'),
      step('signIn.accessPass', 61_000, 95_000, 'accessPass')],
    lastPage: { url: 'https://login.microsoftonline.com/common/login', title: 'Sign in to your account',
      elements: ['div#usernameError[role=alert] "Your access pass could not be verified"', 'input#i0118[name=passwd]'] },
    screenshot: PNG,
  },
  {
    requestId: 'req-xss', upn: 'lee.gu@contoso.com', displayName: '<script>alert(1)</script>', mode: 'manual',
    startedMs: T0 + 120_000, endedMs: T0 + 185_000, state: 'cancelled',
    error: { code: 'windowClosed', message: 'Cancelled by the administrator: the window was closed.' },
    steps: [step('manual.watch', 120_000, 185_000, 'securityInfo')],
  },
  {
    requestId: 'req-img', upn: 'nestor@contoso.com', displayName: '<img src=x onerror="window.__pwned=1">Nestor', mode: 'automatic',
    startedMs: T0 + 180_000, endedMs: T0 + 181_500, state: 'failed',
    error: { code: 'keyLimitReached', message: 'The user already has 10 security keys.', hint: 'Delete a key on Security info.' },
    steps: [],
  },
];

/** Display names as the table should show them, newest first. */
const NEWEST_FIRST = ['<img src=x onerror="window.__pwned=1">Nestor', '<script>alert(1)</script>', 'Bowen, Megan "MB"', 'Adele Vance'];

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Writes `value` under `key` in an extension storage area, from `page`. */
async function seed(page, area, key, value) {
  await page.evaluate(([a, k, v]) => chrome.storage[a].set({ [k]: v }), [area, key, value]);
}
async function stored(page, area, key) {
  return page.evaluate(([a, k]) => chrome.storage[a].get(k).then((r) => r[k]), [area, key]);
}

/** Opens an extension page and fails the test on any script error or dialog. */
async function open(file) {
  const page = await browser.openExtensionPage(file);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('dialog', (d) => { page.errors.push(`dialog: ${d.message()}`); d.dismiss(); });
  return page;
}

const names = (page) => page.locator('#log-rows th[scope=row] .name').allTextContents();

describe('Show Logs', () => {
  let page;
  before(async () => {
    page = await open('logs.html');
    await seed(page, 'local', 'logs', ENTRIES);
    await page.reload();
    await page.locator('#log-rows tr').nth(3).waitFor();
  });
  after(async () => { await page.close(); });

  test('shows every entry newest first, markup in names as text', async () => {
    assert.deepEqual(await names(page), NEWEST_FIRST);
    const first = page.locator('#log-rows tr').first();
    assert.equal(await first.locator('th .upn').textContent(), 'nestor@contoso.com');
    assert.deepEqual(await page.locator('#log-rows tr').nth(2).locator('td').allTextContents().then((c) => c.slice(1, 5)),
      ['Automatic', '35 s', 'Failed', 'tapNotFound']);
    assert.equal(await page.locator('#log-rows tr').nth(3).locator('td').nth(4).textContent(), 'IDM-8b4f3a21-K7Q2XM-20261122');
    // Nothing from a name became an element or ran.
    assert.equal(await page.locator('#log-rows script, #log-rows img').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(page.errors, []);
    assert.equal(await page.locator('#count').textContent(), '4 entries');
    // A real table: column headers and a row header per entry.
    assert.equal(await page.locator('#log-table thead th[scope=col]').count(), 7);
    assert.equal(await page.locator('#log-rows th[scope=row]').count(), 4);
  });

  test('filters by result and searches by user', async () => {
    await page.getByLabel('Result', { exact: true }).selectOption('failed');
    assert.deepEqual(await names(page), [NEWEST_FIRST[0], NEWEST_FIRST[2]]);
    assert.equal(await page.locator('#count').textContent(), 'Showing 2 of 4 entries');
    await page.getByLabel('Search users').fill('MEGAN');
    assert.deepEqual(await names(page), ['Bowen, Megan "MB"']);
    await page.getByLabel('Result', { exact: true }).selectOption('succeeded');
    assert.deepEqual(await names(page), []);
    assert.equal(await page.locator('#empty').textContent(), 'No entries match the filter and search.');
    await page.getByLabel('Result', { exact: true }).selectOption('all');
    await page.getByLabel('Search users').fill('adele vance');
    assert.deepEqual(await names(page), ['Adele Vance']);
    await page.getByLabel('Search users').fill('');
    assert.equal((await names(page)).length, 4);
  });

  test('detail view: timeline, error, hint, last page, screenshot; keyboard operable', async () => {
    const details = page.getByRole('button', { name: /^Details for Bowen, Megan/ });
    await details.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Bowen, Megan "MB"' });
    await dialog.waitFor();
    assert.equal(await page.locator('#detail-close').evaluate((b) => b === document.activeElement), true);
    const text = await dialog.textContent();
    for (const want of ['The Temporary Access Pass was not accepted.', 'What to do: Issue a new Temporary Access Pass and try again.',
      'tapNotFound', 'Entering the user name', 'Signing in with the Temporary Access Pass', 'signIn.accessPass',
      'Sign in to your account', 'input#i0118[name=passwd]', 'megan.bowen@contoso.com', '35 s']) {
      assert.ok(text.includes(want), `detail shows ${want}`);
    }
    const rows = dialog.locator('table.timeline tbody tr');
    assert.equal(await rows.count(), 3);
    assert.deepEqual(await rows.nth(2).locator('td').allTextContents(), ['+1.0 s', '34 s', '', 'accessPass']);
    assert.equal(await dialog.locator('img.screenshot').getAttribute('src'), PNG);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await details.evaluate((b) => b === document.activeElement), true, 'focus returns to the row');

    // An entry with markup in its name: the dialog shows it as text too.
    await page.getByRole('button', { name: /^Details for <script>/ }).click();
    assert.equal(await page.locator('#detail-title').textContent(), '<script>alert(1)</script>');
    assert.equal(await page.locator('#detail-body script').count(), 0);
    await page.locator('#detail-close').click();
    assert.deepEqual(page.errors, []);
  });

  test('exports CSV and JSON of the entries shown', async () => {
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    assert.match(csvDownload.suggestedFilename(), /^passkey-logs-\d{8}-\d{6}\.csv$/);
    const csv = await readFile(await csvDownload.path(), 'utf8');
    const lines = csv.split('\r\n');
    assert.equal(lines.length, 6, 'BOM+header, four rows, empty tail');
    assert.equal(lines[0], '\ufeffrequestId,startedUtc,endedUtc,durationS,upn,displayName,mode,result,keyName,credentialId,errorCode,errorMessage,errorHint,lastStep,steps');
    assert.equal(lines[3], 'req-megan,2026-11-22T09:01:00Z,2026-11-22T09:01:35Z,35.000,megan.bowen@contoso.com,"Bowen, Megan ""MB""",automatic,failed,,,'
      + 'tapNotFound,The Temporary Access Pass was not accepted.,Issue a new Temporary Access Pass and try again.,signIn.accessPass,open=400;signIn.username=600;signIn.accessPass=34000');
    assert.equal(lines[4], 'req-adele,2026-11-22T09:00:00Z,2026-11-22T09:00:04Z,4.250,adele.vance@contoso.com,Adele Vance,automatic,succeeded,'
      + 'IDM-8b4f3a21-K7Q2XM-20261122,q1w2e3r4,,,,register.webauthn,open=300;signIn.accessPass=1500;register.webauthn=2450');
    assert.ok(lines[1].startsWith('req-img,') && lines[1].includes(',"<img src=x onerror=""window.__pwned=1"">Nestor",'));

    // JSON of what the filter shows: the failed ones, newest first, as stored.
    await page.getByLabel('Result', { exact: true }).selectOption('failed');
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.locator('#export-json').click()]);
    assert.match(jsonDownload.suggestedFilename(), /\.json$/);
    const json = JSON.parse(await readFile(await jsonDownload.path(), 'utf8'));
    assert.deepEqual(json, [ENTRIES[3], ENTRIES[1]]);
    await page.getByLabel('Result', { exact: true }).selectOption('all');
  });

  test('a new entry appears without reloading', async () => {
    const newer = { ...ENTRIES[0], requestId: 'req-new', displayName: 'Patti Fernandez', upn: 'patti@contoso.com',
      startedMs: T0 + 600_000, endedMs: T0 + 603_000 };
    const adele = page.getByRole('button', { name: /^Details for Adele Vance/ });
    await adele.focus();
    await seed(page, 'local', 'logs', [...ENTRIES, newer]);
    await page.locator('#log-rows tr').nth(4).waitFor();
    assert.equal(await adele.evaluate((b) => b === document.activeElement), true, 'keyboard focus survives the update');
    assert.equal((await names(page))[0], 'Patti Fernandez');
    assert.equal(await page.locator('#count').textContent(), '5 entries');
  });

  test('Clear asks first, then empties the log', async () => {
    await page.locator('#clear').click();
    const confirm = page.getByRole('dialog', { name: 'Clear the log?' });
    await confirm.waitFor();
    assert.match(await confirm.textContent(), /deletes all 5 entries/);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    assert.equal((await stored(page, 'local', 'logs')).length, 5, 'Cancel keeps everything');

    await page.locator('#clear').click();
    await page.getByRole('button', { name: 'Delete all entries' }).click();
    await page.locator('#log-rows tr').first().waitFor({ state: 'detached' });
    assert.deepEqual(await stored(page, 'local', 'logs'), []);
    assert.equal(await page.locator('#empty').isVisible(), true);
    assert.equal(await page.locator('#count').textContent(), 'No entries');
    assert.equal(await page.locator('#clear').isDisabled(), true);
    assert.equal(await page.locator('#export-csv').isDisabled(), true);
    assert.deepEqual(page.errors, []);
  });
});

describe('popup', () => {
  const running = (step, progress, queueLength) => ({
    busy: true, queueLength, job: { requestId: 'req-42', seq: 3, state: 'running', step, progress, atMs: T0 },
  });

  test('shows the running job, its progress and the queue, and follows changes', async () => {
    const page = await open('popup.html');
    await seed(page, 'session', 'status', running('signIn.accessPass', 0.16, 2));
    await page.reload();
    await page.locator('#job-running').waitFor();
    assert.equal(await page.locator('#job-step').textContent(), 'Signing in with the Temporary Access Pass');
    const bar = page.getByRole('progressbar', { name: 'Progress of the running job' });
    assert.equal(await bar.evaluate((p) => p.value), 0.16);
    assert.equal(await page.locator('#job-percent').textContent(), '16 %');
    assert.equal(await page.locator('#queue').textContent(), '2 jobs waiting');
    assert.equal(await page.locator('#job-request').textContent(), 'Request req-42');

    // The worker writes a new status (storage.onChanged) ...
    await seed(page, 'session', 'status', running('register.webauthn', 0.65, 1));
    await page.locator('#job-step').filter({ hasText: 'Registering the passkey' }).waitFor();
    assert.equal(await bar.evaluate((p) => p.value), 0.65);
    assert.equal(await page.locator('#queue').textContent(), '1 job waiting');

    // ... and broadcasts statusChanged; either one updates the popup.
    const other = await open('options.html');
    await other.evaluate(async (s) => {
      await chrome.storage.session.set({ status: s });
      await chrome.runtime.sendMessage({ type: 'statusChanged' }).catch(() => {});
    }, { busy: false, queueLength: 0 });
    await page.locator('#job-idle').waitFor();
    assert.equal(await page.locator('#job-running').isHidden(), true);
    assert.equal(await page.locator('#queue').textContent(), 'No jobs waiting');
    await other.close();
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('Show Logs opens the logs page in a tab', async () => {
    const page = await open('popup.html');
    const [tab] = await Promise.all([browser.context.waitForEvent('page'), page.getByRole('button', { name: 'Show Logs' }).click()]);
    await tab.waitForURL(/\/logs\.html$/);
    await tab.locator('#count').filter({ hasText: /entr/ }).waitFor();
    await tab.close();
    await page.close();
  });
});

describe('Options', () => {
  test('saves valid settings, shows the example key name', async () => {
    const page = await open('options.html');
    await page.waitForFunction(() => document.querySelector('#allowed-origins').value.includes('127.0.0.1'));
    assert.match(await page.locator('#key-example').textContent(), /^IDM-8b4f3a21-K7Q2XM-\d{8}$/);
    await page.getByLabel('Key name template').fill('{name} {yyyymmdd}');
    assert.match(await page.locator('#key-example').textContent(), /^Adele Vance \d{8}$/);
    await page.getByLabel('Origins', { exact: true }).fill('http://127.0.0.1:*\nhttps://Panel.Contoso.com/');
    await page.getByLabel('Show job windows').check();
    await page.getByLabel('Each page').fill('45');
    await page.getByLabel('Security key ceremony').fill('90');
    await page.getByLabel('TAP propagation').fill('600');
    await page.locator('#save').click();
    await page.locator('#saved').filter({ hasText: 'Saved.' }).waitFor();
    const s = await stored(page, 'local', 'settings');
    assert.deepEqual(s.allowedOrigins, ['http://127.0.0.1:*', 'https://panel.contoso.com']);
    assert.equal(s.keyNameTemplate, '{name} {yyyymmdd}');
    assert.equal(s.showWindow, true);
    assert.deepEqual([s.stepTimeoutS, s.registerTimeoutS, s.tapPropagationS], [45, 90, 600]);
    // Reloaded, the page shows what was stored.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#step-timeout').value === '45');
    assert.equal(await page.getByLabel('Origins', { exact: true }).inputValue(), 'http://127.0.0.1:*\nhttps://panel.contoso.com');
    assert.equal(await page.getByLabel('Show job windows').isChecked(), true);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('refuses invalid settings field by field and saves nothing', async () => {
    const page = await open('options.html');
    await page.waitForFunction(() => document.querySelector('#step-timeout').value !== '');
    const prior = await stored(page, 'local', 'settings');
    await page.getByLabel('Origins', { exact: true }).fill('http://127.0.0.1:*\nhttp://panel.contoso.com');
    await page.getByLabel('Key name template').fill('IDM-{oid}');
    // The template is checked as it is typed, in the field's own message.
    assert.match(await page.locator('#key-template-error').textContent(), /^Unknown placeholder \{oid\}/);
    assert.equal(await page.locator('#key-example-line').isHidden(), true);
    await page.getByLabel('Each page').fill('4');
    await page.getByLabel('Security key ceremony').fill('1801');
    await page.getByLabel('TAP propagation').fill('');
    await page.getByLabel('Show job windows').uncheck();
    await page.locator('#save').click();
    await page.locator('#saved').filter({ hasText: 'Not saved: 5 fields to correct.' }).waitFor();
    assert.match(await page.locator('#origins-error').textContent(), /^Line 2: .*only https/);
    assert.match(await page.locator('#key-template-error').textContent(), /^Unknown placeholder \{oid\}/);
    assert.equal(await page.locator('#step-timeout-error').textContent(), 'Enter whole seconds from 5 to 1800; 4 is out of range.');
    assert.equal(await page.locator('#register-timeout-error').textContent(), 'Enter whole seconds from 5 to 1800; 1801 is out of range.');
    assert.equal(await page.locator('#tap-propagation-error').textContent(), 'Enter whole seconds from 5 to 1800.');
    for (const id of ['allowed-origins', 'key-template', 'step-timeout', 'register-timeout', 'tap-propagation']) {
      assert.equal(await page.locator(`#${id}`).getAttribute('aria-invalid'), 'true', id);
    }
    // Focus goes to the first field to correct; nothing was written.
    assert.equal(await page.locator('#allowed-origins').evaluate((t) => t === document.activeElement), true);
    assert.deepEqual(await stored(page, 'local', 'settings'), prior);

    // One field fixed, the others still wrong: still nothing saved, fixed one cleared.
    await page.getByLabel('Origins', { exact: true }).fill('http://127.0.0.1:*');
    await page.locator('#save').click();
    await page.locator('#saved').filter({ hasText: 'Not saved: 4 fields' }).waitFor();
    assert.equal(await page.locator('#origins-error').textContent(), '');
    assert.equal(await page.locator('#allowed-origins').getAttribute('aria-invalid'), null);
    assert.deepEqual(await stored(page, 'local', 'settings'), prior);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('failure screenshots: shows the permission state and asks on click', async () => {
    const page = await open('options.html');
    await page.locator('#screenshots-state').filter({ hasText: 'Not allowed' }).waitFor();
    assert.equal(await page.locator('#screenshots-grant').isVisible(), true);
    assert.equal(await page.locator('#screenshots-revoke').isVisible(), false);
    // The click starts chrome.permissions.request within its gesture: Chrome
    // shows its prompt (nobody answers it headless) instead of refusing.
    await page.locator('#screenshots-grant').click();
    await page.locator('#screenshots-note').filter({ hasText: "Answer Chrome's prompt" }).waitFor();
    assert.equal(await page.locator('#screenshots-error').textContent(), '');
    await page.close();
  });
});
