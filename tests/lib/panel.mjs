// Starts the admin panel (crates/panel) as a child process and reads the one
// JSON line it prints when ready. With `sim`, the panel's outgoing HTTPS to
// login.microsoftonline.com and graph.microsoft.com goes to the simulator
// (--resolve) and trusts its CA (--ca-file), as on a network with TLS
// inspection.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BIN } from './paths.mjs';

const READY_TIMEOUT_MS = 30_000;

/** The Owner account `--demo-seed` creates. */
export const DEMO_ADMIN = { username: 'admin', password: 'demo-password-2026' };
/** The simulator's demo tenant: its Global Administrator, and the panel's app secret. */
export const SIM_ADMIN = { upn: 'admin@contoso.onmicrosoft.com', password: 'Admin-Passw0rd!' };
const SIM_CLIENT_SECRET = 'demo-panel-secret';
const SIM_HOSTS = ['login.microsoftonline.com', 'graph.microsoft.com'];

/**
 * @param {{sim?: {listen: string, ca: string}, dataDir?: string, args?: string[]}} opts
 * @returns {Promise<{url: string, listen: string, dataDir: string, stderr: () => string, stop: () => Promise<void>}>}
 */
export async function startPanel({ sim, dataDir, args: extra = [] } = {}) {
  dataDir ??= mkdtempSync(path.join(os.tmpdir(), 'panel-'));
  const args = ['--listen', '127.0.0.1:0', '--db', path.join(dataDir, 'panel.db'), '--demo-seed', ...extra];
  if (sim) {
    const secretFile = path.join(dataDir, 'client-secret');
    writeFileSync(secretFile, SIM_CLIENT_SECRET, { mode: 0o600 });
    args.push('--ca-file', sim.ca, '--client-secret-file', secretFile);
    for (const host of SIM_HOSTS) args.push('--resolve', `${host}=${sim.listen}`);
  }
  const child = spawn(BIN('panel'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  child.stderr.on('data', (d) => { stderr.push(d); if (process.env.PANEL_LOG) process.stderr.write(d); });

  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PanelReadyTimeout: panel printed no ready line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`panel did not start: ${e.message}`)); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`panel exited (${code}) before it was ready:\n${Buffer.concat(stderr)}`)); });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try { resolve(JSON.parse(line)); } catch { reject(new Error(`panel ready line is not JSON: ${line}`)); }
    });
  });
  child.removeAllListeners('exit');

  return {
    ...info,
    dataDir,
    stderr: () => Buffer.concat(stderr).toString(),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** Signs in to the panel page with the demo Owner account. */
export async function signIn(page, panel, { username, password } = DEMO_ADMIN) {
  await page.goto(panel.url);
  await page.locator('#login-form').getByLabel('User name').fill(username);
  await page.locator('#login-form').getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#top:not([hidden])').waitFor();
}

/**
 * Connects the simulator's tenant from the Tenant page the way an Owner
 * does: Connect, sign in at (the simulated) Microsoft as its admin, accept
 * the consent page, land back on the panel.
 */
export async function connectTenant(page, sim, { upn, password } = SIM_ADMIN) {
  await page.getByRole('link', { name: 'Tenant' }).click();
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(/login\.microsoftonline\.com/);
  await page.locator('input[name="loginfmt"]').fill(upn);
  await page.locator('#idSIButton9').click();
  await page.locator('input[name="passwd"]').fill(password);
  await page.locator('#idSIButton9').click();
  // "Stay signed in?": Yes.
  await page.locator('#idSIButton9').click();
  // The consent page lists the permissions (the first connection only).
  await page.locator('[data-scope], #top').first().waitFor();
  if (await page.locator('[data-scope]').count()) await page.locator('#idSIButton9').click();
  await page.waitForURL((u) => u.pathname === '/' && u.hash === '#tenant');
}
