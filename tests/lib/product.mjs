// The whole product on one machine: simulator, panel, Chromium with the
// extension; and the administrator's path through the panel's UI. Shared by
// the product test and `make demo`.
import { launchBrowser } from './browser.mjs';
import { startSim } from './sim.mjs';
import { startPanel, signIn, connectTenant } from './panel.mjs';

const JOB_TIMEOUT_MS = 90_000;

export async function startProduct({ seed, headful } = {}) {
  const sim = await startSim({ seed });
  const panel = await startPanel({ sim });
  const browser = await launchBrowser({ sim, headful });
  const page = await browser.context.newPage();
  return {
    sim, panel, browser, page,
    async stop() {
      await browser.close();
      await panel.stop();
      await sim.stop();
    },
  };
}

/** Signs in to the panel, connects the simulated tenant and imports its users. */
export async function prepareTenant({ page, panel, sim }) {
  await signIn(page, panel);
  await connectTenant(page, sim);
  await page.getByRole('link', { name: 'Users' }).first().click();
  await page.getByRole('button', { name: /Sync|Import/ }).first().click();
  await page.locator('#users-body tr').first().waitFor();
}

/**
 * "+ Passkey ▸ Microsoft ▸ Next ▸ Create" for one user, as an administrator
 * does, and waits for the dialog's verdict. Returns what the panel shows.
 */
export async function provisionFromPanel(page, displayName) {
  await page.goto(new URL('/#users', page.url()).toString());
  await page.getByRole('link', { name: displayName, exact: true }).click();
  await page.locator('#user-name').filter({ hasText: displayName }).waitFor();
  const t0 = performance.now();
  await page.getByRole('button', { name: '+ Passkey ▸' }).click();
  await page.getByRole('menuitem', { name: 'Microsoft' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a Microsoft passkey' });
  await dialog.getByRole('button', { name: 'Next' }).click();
  await dialog.getByRole('button', { name: 'Create' }).click();
  const result = page.locator('#ms-result:not([hidden])');
  await result.waitFor({ timeout: JOB_TIMEOUT_MS });
  const ms = performance.now() - t0;
  const ok = (await result.getAttribute('class')) === 'ok';
  const text = (await result.textContent()).trim();
  await dialog.getByRole('button', { name: 'Close' }).click();
  return { ok, text, ms };
}
