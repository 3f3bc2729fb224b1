// The admin panel in Chromium with the extension loaded, against the Entra
// ID simulator: sign-in, tenant connection and user import, the user list
// and export, the Passkeys tab, and the "+ Passkey ▸ Microsoft" dialog up to
// handing the request to the extension (and what it says when it cannot).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchBrowser } from './lib/browser.mjs';
import { startSim } from './lib/sim.mjs';
import { startPanel, signIn, connectTenant, DEMO_ADMIN } from './lib/panel.mjs';

const ADELE = { id: '1c7b6a1f-8e5d-4d2f-8b72-4a2e3d0f9b12', name: 'Adele Vance', upn: 'adele.vance@contoso.com' };
const JONAS = { id: '2d8c7b2a-9f6e-4e3a-9c83-5b3f4e1a0c23', name: 'Jonas Müller' };
const YUKI = { id: '3e9d8c3b-0a7f-4f4b-8d94-6c4a5f2b1d34', name: '田中 由紀' };
const MALLORY_NAME = 'Mallory <script>alert(1)</script> "O\'Brien"';

/** The panel's API from the page, with the session the page holds. */
async function apiFrom(page, path) {
  return page.evaluate(async (p) => (await fetch(p)).json(), path);
}

describe('admin panel with the extension, against the simulator', () => {
  let sim;
  let panel;
  let browser;
  let page;
  before(async () => {
    sim = await startSim();
    panel = await startPanel({ sim });
    browser = await launchBrowser({ sim });
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await panel?.stop();
    await sim?.stop();
  });

  test('sign-in refuses a wrong password, then the demo Owner signs in', async () => {
    await page.goto(panel.url);
    await page.locator('#login-form').getByLabel('User name').fill(DEMO_ADMIN.username);
    await page.locator('#login-form').getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error').filter({ hasText: 'wrong user name or password' }).waitFor();
    await signIn(page, panel);
    assert.match(await page.locator('#who-name').textContent(), /admin \(Owner\)/);
    // The page runs under a strict CSP.
    const resp = await page.request.get(panel.url);
    assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
  });

  test('connect the tenant with Microsoft sign-in and consent, then import its users', async () => {
    await connectTenant(page, sim);
    await page.locator('#tenant-status').filter({ hasText: 'Connected' }).waitFor();
    assert.equal(await page.locator('#tenant-id').textContent(), '8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13');
    assert.match(await page.locator('#tenant-valid').textContent(), /days/);

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Sync from Entra ID' }).click();
    await page.locator('#users-message').filter({ hasText: 'Imported 5 users' }).waitFor();
    assert.equal(await page.locator('#users-body tr').count(), 5);
    // A display name with markup is shown as text, not run.
    const mallory = page.locator('#users-body a', { hasText: 'Mallory' });
    assert.equal(await mallory.textContent(), MALLORY_NAME);
    assert.equal(await page.locator('#users-body script').count(), 0);
  });

  test('search, multi-select and export users.csv', async () => {
    // Nobody has a passkey yet: the "waiting" filter shows everyone.
    await page.getByLabel('Only users without a passkey').check();
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr[data-user]').length === 5);
    await page.getByLabel('Only users without a passkey').uncheck();
    await page.getByLabel('Search users').fill('contoso.com');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 5);
    await page.getByLabel('Search users').fill('adele');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 1);
    await page.getByLabel(`Select ${ADELE.name}`).check();
    await page.getByLabel('Search users').fill('');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 5);
    await page.getByLabel(`Select ${MALLORY_NAME}`).check();
    assert.equal(await page.locator('#users-count').textContent(), '2 selected');

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: /Export users\.csv/ }).click();
    const download = await downloading;
    assert.equal(download.suggestedFilename(), 'users.csv');
    const lines = (await readFile(await download.path(), 'utf8')).split('\r\n').filter(Boolean);
    assert.equal(lines[0], 'objectId,userPrincipalName,displayName,passkeys,lastRequestState');
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.ok(lines.includes(`${ADELE.id},${ADELE.upn},${ADELE.name},0,`), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('"Mallory <script>alert(1)</script> ""O\'Brien"""')), lines.join('\n'));
  });

  test('the Passkeys tab and "+ Passkey ▸ Microsoft" hand the request to the extension', async () => {
    await page.getByRole('link', { name: ADELE.name }).click();
    await page.locator('#user-name').filter({ hasText: ADELE.name }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Passkeys' }).getAttribute('aria-selected'), 'true');
    await page.locator('#passkeys-body').filter({ hasText: 'No passkeys yet.' }).waitFor();

    await page.getByRole('button', { name: '+ Passkey ▸' }).click();
    await page.getByRole('menuitem', { name: 'Microsoft' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Microsoft passkey' });
    await dialog.getByRole('button', { name: 'Next' }).click();
    await dialog.getByRole('button', { name: 'Create' }).click();
    // The extension accepted it; the dialog follows its reports.
    await page.waitForFunction(() => /Waiting for the extension|Running|Done|Failed/.test(document.querySelector('#ms-step-text').textContent));
    const { requests } = await apiFrom(page, `/api/users/${ADELE.id}/requests`);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].mode, 'automatic');
    assert.notEqual(requests[0].state, 'created', 'the handoff was recorded');
    assert.ok(!(requests[0].error?.code || '').startsWith('extension'), JSON.stringify(requests[0]));
    const audit = await apiFrom(page, '/api/audit');
    assert.ok(audit.entries.some((e) => e.action === 'tap.issue' && e.targetUpn === ADELE.upn));
    // Whatever the job does next is the extension's business (tests of
    // issue 5); close the dialog and leave it running.
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('keyboard only: menu, dialog steps, Escape, focus comes back', async () => {
    await page.goto(`${panel.url}/#users`);
    const link = page.getByRole('link', { name: JONAS.name });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.locator('#user-name').filter({ hasText: JONAS.name }).waitFor();
    const active = () => page.evaluate(() => document.activeElement?.id);
    await page.getByRole('button', { name: '+ Passkey ▸' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await active(), 'add-microsoft', 'the menu takes focus');
    await page.keyboard.press('Escape');
    assert.equal(await active(), 'add-passkey', 'Escape closes the menu');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    assert.equal(await active(), 'ms-next', 'the dialog focuses its first action');
    await page.keyboard.press('Enter');
    assert.equal(await active(), 'ms-create');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('#ms-dialog').open);
    assert.equal(await active(), 'add-passkey', 'focus returns to the button that opened it');
  });

  test('register manually: the Temporary Access Pass is shown once with a copy button', async () => {
    await page.goto(`${panel.url}/#user/${JONAS.id}`);
    await page.locator('#user-name').filter({ hasText: JONAS.name }).waitFor();
    await page.getByRole('button', { name: '+ Passkey ▸' }).click();
    await page.getByRole('menuitem', { name: 'Microsoft' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Microsoft passkey' });
    await dialog.getByRole('button', { name: 'Next' }).click();
    await dialog.getByText('or register manually').click();
    await dialog.getByRole('button', { name: 'Get Temporary Access Pass' }).click();
    const tap = dialog.getByLabel(/Temporary Access Pass \(shown once/);
    await page.waitForFunction(() => document.querySelector('#ms-tap').value.length > 0);
    assert.ok((await tap.inputValue()).length >= 8);
    assert.match(await dialog.locator('#ms-tap-meta').textContent(), /One-time use, valid 60 minutes/);
    assert.equal(await dialog.getByRole('button', { name: 'Get Temporary Access Pass' }).isDisabled(), true);
    await dialog.getByRole('button', { name: 'Copy' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await dialog.isVisible(), false);
  });

  test('register through Microsoft Graph, see the key on the Passkeys tab, revoke it', async () => {
    await page.goto(`${panel.url}/#user/${YUKI.id}`);
    await page.locator('#user-name').filter({ hasText: YUKI.name }).waitFor();
    await page.getByRole('button', { name: '+ Passkey ▸' }).click();
    await page.getByRole('menuitem', { name: 'Microsoft' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Microsoft passkey' });
    await dialog.getByRole('button', { name: 'Next' }).click();
    await dialog.getByRole('button', { name: 'register through Microsoft Graph' }).click();
    await dialog.locator('#ms-result.ok').filter({ hasText: 'was registered' }).waitFor();
    // The list updated without a reload.
    const row = page.locator('#passkeys-body tr').filter({ hasText: /^IDM-/ });
    await row.locator('.status', { hasText: 'Active' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    page.once('dialog', (d) => d.accept());
    await row.getByRole('button', { name: /^Revoke / }).click();
    await row.locator('.status', { hasText: 'Revoked' }).waitFor();
    assert.equal(await row.getByRole('button', { name: /^Revoke / }).count(), 0);
  });

  test('without the extension the dialog says how to install it, and no request is made', async () => {
    const bare = await browser.context.newPage();
    // As on a browser without the extension: no chrome.runtime for this page.
    await bare.addInitScript(() => { delete globalThis.chrome; });
    // Same browser profile: the session cookie is already there.
    await bare.goto(`${panel.url}/#user/${JONAS.id}`);
    await bare.locator('#user-name').filter({ hasText: JONAS.name }).waitFor();
    await bare.getByRole('button', { name: '+ Passkey ▸' }).click();
    await bare.getByRole('menuitem', { name: 'Microsoft' }).click();
    await bare.getByRole('button', { name: 'Next' }).click();
    await bare.getByRole('button', { name: 'Create' }).click();
    const result = bare.locator('#ms-result');
    await result.filter({ hasText: 'not reachable' }).waitFor();
    assert.match(await result.textContent(), /Load unpacked/);
    assert.match(await result.textContent(), /Allowed panel origins/);
    const { requests } = await apiFrom(bare, `/api/users/${JONAS.id}/requests`);
    assert.equal(requests.length, 0);
    await bare.close();
  });

  test('with "Allow in Incognito" off the dialog says exactly what to turn on', async () => {
    await browser.setIncognitoAccess(false);
    await page.goto(`${panel.url}/#user/${JONAS.id}`);
    await page.locator('#user-name').filter({ hasText: JONAS.name }).waitFor();
    await page.getByRole('button', { name: '+ Passkey ▸' }).click();
    await page.getByRole('menuitem', { name: 'Microsoft' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Create' }).click();
    const result = page.locator('#ms-result');
    await result.filter({ hasText: 'Allow in Incognito' }).waitFor();
    assert.match(await result.textContent(), /chrome:\/\/extensions/);
    assert.match(await result.textContent(), /Details/);
    const { requests } = await apiFrom(page, `/api/users/${JONAS.id}/requests`);
    assert.equal(requests.length, 0, 'no TAP issued for a job that cannot run');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  });

  test('an ended session sends the page back to sign-in with the reason', async () => {
    await page.goto(`${panel.url}/#users`);
    await page.locator('#users-body tr').first().waitFor();
    // The session ends on the server (as when it expires) while the
    // browser still holds its cookie.
    const cookies = await browser.context.cookies(panel.url);
    await page.evaluate(async () => {
      const { csrfToken } = await (await fetch('/api/session')).json();
      await fetch('/api/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrfToken } });
    });
    await browser.context.addCookies(cookies);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('#login-error').filter({ hasText: 'Your session has expired; sign in again.' }).waitFor();
    assert.equal(await page.locator('#top').isVisible(), false);
  });
});
