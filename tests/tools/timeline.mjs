// One automatic provisioning, laid out on one clock: when the simulator was
// serving, when the panel got reports, and the job's own steps. For finding
// where the time of a provisioning goes (`node tools/timeline.mjs`).
import { testSeed } from '../lib/sim.mjs';
import { startStack } from '../lib/stack.mjs';

const RUNS = Number(process.env.RUNS || 2);
const latencyMs = Number(process.env.LATENCY_MS || 0);
const { api, panel, browser, page, tenantId, user, close } = await startStack({ seed: testSeed(RUNS), latencyMs });
try {
  for (let i = 0; i < RUNS; i++) {
    const u = user(`scenario${i}@contoso.com`);
    const { pass } = await api.createTap(u.id);
    const msg = panel.provisionMessage(u, { tap: pass, tenantId, visible: !!process.env.VISIBLE });
    const t0 = Date.now();
    await browser.sendFrom(page, msg);
    const final = await panel.finalReport(msg.requestId);
    const t1 = Date.now();
    const rows = [];
    for (const [a, b, what] of (await api.timings(t0)).intervals) rows.push([a, `sim ${(b - a).toFixed(1).padStart(6)} ms  ${what}`]);
    for (const r of panel.reports(msg.requestId)) rows.push([r.atMs, `report ${r.state} ${r.step}`]);
    const { logs = [] } = await (await browser.serviceWorker()).evaluate(() => chrome.storage.local.get('logs'));
    const log = logs.find((l) => l.requestId === msg.requestId);
    for (const s of log?.steps || []) rows.push([s.startedMs, `step ${s.step} (${s.endedMs - s.startedMs} ms) ${s.page || ''}`]);
    rows.sort((x, y) => x[0] - y[0]);
    console.log(`\nrun ${i}: ${final.state} in ${t1 - t0} ms, ${log?.views} page views; idle before each action (ms) ${JSON.stringify(log?.overheadMs)}`);
    for (const [t, text] of rows) console.log(`  +${String(Math.round(t - t0)).padStart(5)} ms  ${text}`);
  }
} finally {
  await close();
}
