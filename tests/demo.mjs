// The offline demo (`make demo`): starts the Entra ID simulator, launches
// Chromium with the built extension, and shows the extension answering a
// panel page and working in an incognito window on the Microsoft hostnames.
// Headless unless HEADFUL=1. Exits 0 only if every step succeeded.
import { launchBrowser } from './lib/browser.mjs';
import { startSim } from './lib/sim.mjs';
import { servePage } from './lib/http.mjs';
import { ms } from './lib/report.mjs';

const steps = [];
const step = async (name, fn) => {
  const t0 = performance.now();
  try {
    const detail = await fn();
    steps.push({ name, ok: true, took: performance.now() - t0, detail });
    return detail;
  } catch (e) {
    steps.push({ name, ok: false, took: performance.now() - t0, detail: e.message });
    throw e;
  }
};

let sim, browser, panel;
let failed = false;
try {
  sim = await step('start the Entra ID simulator', async () => { const s = await startSim(); return s; });
  panel = await step('serve a panel page on loopback', () => servePage('<!doctype html><title>Panel</title><h1>Panel</h1>'));
  browser = await step('launch Chromium with the extension, allowed in incognito', () => launchBrowser({ sim }));
  const page = await browser.context.newPage();
  await page.goto(panel.origin);
  await step('panel → extension: ping', async () => {
    const pong = await browser.sendFrom(page, { type: 'ping' });
    if (pong.type !== 'pong') throw new Error(`${pong.code}: ${pong.message}`);
    return `version ${pong.version}, incognito allowed: ${pong.incognitoAllowed}`;
  });
  await step('panel → extension: self-test in an incognito window', async () => {
    const r = await browser.sendFrom(page, { type: 'selfTest' });
    if (r.type !== 'selfTestResult') throw new Error(`${r.code}: ${r.message}`);
    return `actuator reported "${r.title}" from ${r.url} (incognito: ${r.incognito}) after ${r.elapsedMs} ms`;
  });
} catch {
  failed = true;
} finally {
  await browser?.close();
  await panel?.close();
  await sim?.stop();
}

console.log('\nPasskey Provisioner — offline demo\n');
for (const s of steps) {
  const detail = s.detail && typeof s.detail === 'string' ? `  ${s.detail}` : '';
  console.log(`${s.ok ? '✔' : '✖'} ${s.name} (${ms(s.took)})${detail}`);
}
const ok = steps.filter((s) => s.ok).length;
console.log(`\ndemo: ${ok} of ${steps.length} steps succeeded${failed ? ' — FAILED' : ''}`);
process.exit(failed ? 1 : 0);
