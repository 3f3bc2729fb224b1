// Launches Debian's Chromium with the built extension, the Microsoft hostnames
// mapped to the simulator, and the simulator's certificate accepted.
import { chromium } from 'playwright-core';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, DIST, EXTENSION_ID } from './paths.mjs';

const WORKER_TIMEOUT_MS = 15_000;

/**
 * @param {{sim?: {hostResolverRules: string, spki: string}, incognito?: boolean, headful?: boolean, extensionDir?: string}} opts
 *   incognito: turn on "Allow in Incognito" (default true).
 *   extensionDir: the unpacked extension to load (default the build in dist/).
 */
export async function launchBrowser({ sim, incognito = true, headful = !!process.env.HEADFUL, extraArgs = [], extensionDir = DIST } = {}) {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pp-profile-'));
  const args = [
    `--disable-extensions-except=${extensionDir}`,
    `--load-extension=${extensionDir}`,
    // Quiet on a closed network: no background fetches to Google.
    '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--disable-gpu',
  ];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  args.push(...extraArgs);
  if (sim) {
    args.push(`--host-resolver-rules=${sim.hostResolverRules}`);
    args.push(`--ignore-certificate-errors-spki-list=${sim.spki}`);
  }
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: !headful,
    args,
    ignoreDefaultArgs: ['--disable-extensions'],
  });
  // DEBUG_SW=1: the service worker's console on stderr (never secrets: the
  // worker logs none).
  if (process.env.DEBUG_SW) {
    const tap = (w) => w.on('console', (m) => process.stderr.write(`[sw] ${m.text()}\n`));
    context.serviceWorkers().forEach(tap);
    context.on('serviceworker', tap);
  }
  const b = new Browser(context, userDataDir);
  await b.serviceWorker();
  if (incognito) await b.setIncognitoAccess(true);
  return b;
}

export class Browser {
  constructor(context, userDataDir) {
    this.context = context;
    this.userDataDir = userDataDir;
    this.extensionId = EXTENSION_ID;
  }

  /** The extension's current service worker, waiting for one to start. */
  async serviceWorker() {
    const mine = (w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`);
    const found = this.context.serviceWorkers().find(mine);
    if (found) return found;
    return this.context.waitForEvent('serviceworker', { predicate: mine, timeout: WORKER_TIMEOUT_MS });
  }

  /** A page on chrome://extensions, where chrome.developerPrivate exists. */
  async extensionsPage() {
    const page = await this.context.newPage();
    await page.goto('chrome://extensions');
    await page.waitForFunction(() => !!chrome.developerPrivate);
    return page;
  }

  /**
   * Turns "Allow in Incognito" on or off the way an administrator does
   * (developer mode first, else the reloaded unpacked extension is disabled),
   * then waits for the reloaded extension's new service worker.
   */
  async setIncognitoAccess(allowed) {
    const page = await this.extensionsPage();
    const old = await this.serviceWorker();
    const restarted = this.context.waitForEvent('serviceworker', {
      predicate: (w) => w !== old && w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`),
      timeout: WORKER_TIMEOUT_MS,
    });
    await page.evaluate(async ([id, allowed]) => {
      await chrome.developerPrivate.updateProfileConfiguration({ inDeveloperMode: true });
      await chrome.developerPrivate.updateExtensionConfiguration({ extensionId: id, incognitoAccess: allowed });
    }, [EXTENSION_ID, allowed]);
    await restarted;
    await page.close();
  }

  /** Errors Chrome recorded for the extension (shown on chrome://extensions). */
  async extensionErrors() {
    const page = await this.extensionsPage();
    const info = await page.evaluate((id) => chrome.developerPrivate.getExtensionInfo(id), EXTENSION_ID);
    await page.close();
    return { manifest: info.manifestErrors, runtime: info.runtimeErrors, disableReasons: info.disableReasons };
  }

  /** Opens one of the extension's pages (popup.html, options.html, ...). */
  async openExtensionPage(file) {
    const page = await this.context.newPage();
    await page.goto(`chrome-extension://${EXTENSION_ID}/${file}`);
    return page;
  }

  /** Sends a message to the extension from `page`, as a panel page does. */
  async sendFrom(page, message) {
    return page.evaluate(([id, msg]) => chrome.runtime.sendMessage(id, msg), [EXTENSION_ID, message]);
  }

  async close() {
    await this.context.close();
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

/**
 * A copy of the built extension with optional host permissions already
 * granted, as if the administrator had accepted Chrome's prompt (headless
 * Chromium cannot show it). The `key` stays, so the id is the same.
 */
export function extensionWithGrantedHosts(hosts) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pp-ext-'));
  cpSync(DIST, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.host_permissions = [...(manifest.host_permissions || []), ...hosts];
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}
