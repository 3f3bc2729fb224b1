// The offline demo (`make demo`): the simulator (Microsoft, on its real
// hostnames), the admin panel, and Chromium with the extension. An
// administrator signs in to the panel, connects the tenant, imports its users
// and clicks "+ Passkey ▸ Microsoft ▸ Create" for three users in three
// languages; each job registers a vault key on Security info and signs in
// with it. Prints a report; exits 0 only if every user ended with a working
// key. Headless unless HEADFUL=1.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './lib/paths.mjs';
import { simApi } from './lib/sim-api.mjs';
import { startProduct, prepareTenant, provisionFromPanel } from './lib/product.mjs';
import { ms } from './lib/report.mjs';

const USERS = [
  { id: '1c7b6a1f-8e5d-4d2f-8b72-4a2e3d0f9b12', name: 'Adele Vance', upn: 'adele.vance@contoso.com', lang: 'English' },
  { id: '2d8c7b2a-9f6e-4e3a-9c83-5b3f4e1a0c23', name: 'Jonas Müller', upn: 'jonas.mueller@contoso.com', lang: 'German' },
  { id: '3e9d8c3b-0a7f-4f4b-8d94-6c4a5f2b1d34', name: '田中 由紀', upn: 'yuki.tanaka@contoso.com', lang: 'Japanese' },
];
const SHOTS = path.join(ARTIFACTS, 'demo');
mkdirSync(SHOTS, { recursive: true });

const t0 = performance.now();
const rows = [];
let product;
let setupError;
try {
  product = await startProduct({ headful: !!process.env.HEADFUL });
  const api = simApi(product.sim);
  console.log(`simulator on ${product.sim.listen} (login.microsoftonline.com, mysignins.microsoft.com, graph.microsoft.com, …)`);
  console.log(`panel on ${product.panel.url} (admin / demo-password-2026)`);
  await prepareTenant(product);
  console.log('panel: signed in, tenant connected with Microsoft sign-in and consent, users imported\n');
  for (const u of USERS) {
    let row = { ...u, ok: false, detail: '' };
    try {
      const r = await provisionFromPanel(product.page, u.name);
      const [key] = await api.keys(u.id);
      const shot = path.join(SHOTS, `${u.upn.split('@')[0]}.png`);
      await product.page.screenshot({ path: shot });
      row = {
        ...row,
        ok: r.ok && !!key && !!key.lastUsedAt,
        ms: r.ms,
        key: key?.displayName,
        signedIn: !!key?.lastUsedAt,
        detail: r.ok ? '' : r.text,
        shot,
      };
    } catch (e) {
      row.detail = e.message;
    }
    rows.push(row);
    console.log(`${row.ok ? '✔' : '✖'} ${u.name} <${u.upn}> (${u.lang})${row.ms ? ` in ${ms(row.ms)}` : ''}`);
    if (row.key) console.log(`    key ${row.key}; verified by the simulator (webauthn-rs); sign-in with the key: ${row.signedIn ? 'yes' : 'NO'}`);
    if (row.detail) console.log(`    ${row.detail}`);
  }
} catch (e) {
  setupError = e;
  console.error(`✖ demo set-up failed: ${e.message}`);
} finally {
  await product?.stop();
}

const ok = rows.filter((r) => r.ok).length;
console.log(`\nscreenshots of the panel: ${SHOTS}`);
console.log(`demo: ${ok} of ${USERS.length} users got a working security key in ${ms(performance.now() - t0)}${ok === USERS.length && !setupError ? '' : ' — FAILED'}`);
process.exit(ok === USERS.length && !setupError ? 0 : 1);
