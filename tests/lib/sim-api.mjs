// Client for the simulator's loopback control API (/__sim/...), over HTTPS
// with the simulator's CA, addressed by a Microsoft hostname as Chromium does.
import https from 'node:https';
import { readFileSync } from 'node:fs';

const TIMEOUT_MS = 10_000;

export function simApi(sim) {
  const ca = readFileSync(sim.ca);
  const call = (method, path, body) => new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request({
      host: '127.0.0.1', port: sim.port, method, path, ca,
      servername: 'login.microsoftonline.com',
      headers: { host: 'login.microsoftonline.com', 'content-type': 'application/json', ...(data ? { 'content-length': data.length } : {}) },
      timeout: TIMEOUT_MS,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        if (res.statusCode >= 400) reject(new Error(`sim ${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
        else resolve(json);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`SimApiTimeout: ${method} ${path} took over ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
  const u = (user) => encodeURIComponent(user);
  return {
    tenant: () => call('GET', '/__sim/tenant'),
    patchTenant: (patch) => call('PATCH', '/__sim/tenant', patch),
    users: () => call('GET', '/__sim/users'),
    user: (user) => call('GET', `/__sim/users/${u(user)}`),
    scenarios: (user, patch) => call('PATCH', `/__sim/users/${u(user)}/scenarios`, patch),
    createTap: (user, opts = {}) => call('POST', `/__sim/users/${u(user)}/taps`, { lifetimeMinutes: 60, isUsableOnce: true, propagationDelaySecs: 0, ...opts }),
    keys: (user) => call('GET', `/__sim/users/${u(user)}/keys`),
    events: (query = '') => call('GET', `/__sim/events${query}`),
    /** The events of one kind for one user (id or UPN). */
    eventsOf: (user, kind) => call('GET', `/__sim/events?kind=${encodeURIComponent(kind)}&user=${u(user)}`),
    /** When the simulator was serving Microsoft-side requests ending after `sinceMs` (Unix ms). */
    timings: (sinceMs) => call('GET', `/__sim/timings?since=${sinceMs}`),
  };
}
