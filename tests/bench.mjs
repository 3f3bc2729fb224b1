// `make bench`: prints figures; never fails on a slow machine (only on a
// broken one). Each timing is a median over repeated runs.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { DIST } from './lib/paths.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { servePage } from './lib/http.mjs';
import { median, ms, kb } from './lib/report.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 15);

console.log('WASM sizes');
for (const f of readdirSync(path.join(DIST, 'wasm')).filter((f) => f.endsWith('.wasm'))) {
  const bytes = readFileSync(path.join(DIST, 'wasm', f));
  console.log(`  ${f.padEnd(24)} raw ${kb(bytes.length).padStart(10)}   gzip ${kb(gzipSync(bytes, { level: 9 }).length).padStart(10)}`);
}

const browser = await launchBrowser();
const panel = await servePage('<!doctype html><title>Panel</title>');
try {
  const page = await browser.context.newPage();
  await page.goto(panel.origin);
  // Stopping every service worker through CDP makes the next message start a
  // fresh one: that is the cold start a panel sees after 30 s of idling.
  const ext = await browser.openExtensionPage('options.html');
  const cdp = await browser.context.newCDPSession(ext);
  await cdp.send('ServiceWorker.enable');
  const cold = [];
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    await cdp.send('ServiceWorker.stopAllWorkers');
    let t0 = performance.now();
    const r = await browser.sendFrom(page, { type: 'ping' });
    cold.push(performance.now() - t0);
    if (r.type !== 'pong') throw new Error(`ping failed: ${JSON.stringify(r)}`);
    t0 = performance.now();
    await browser.sendFrom(page, { type: 'ping' });
    warm.push(performance.now() - t0);
  }
  console.log(`Service worker (median of ${RUNS})`);
  console.log(`  cold start to first answered ping   ${ms(median(cold))}`);
  console.log(`  warm ping round trip                ${ms(median(warm))}`);
} finally {
  await browser.close();
  await panel.close();
}
