// A stand-in for the admin panel's extension endpoints, for browser tests of
// the extension alone: it serves a page on loopback (an allowed origin),
// answers the vault calls with the real vault code (the `vault_stdio`
// example of crates/vault) and records every report.
//
// Not the product's panel (crates/panel): no accounts, no database. Tests of
// the whole product use the real panel.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { BIN, EXTENSION_ID } from './paths.mjs';

const VAULT_TIMEOUT_MS = 20_000;

/** One long-lived `vault_stdio` process: a JSON line in, a JSON line out. */
function startVault(stateDir) {
  const child = spawn(path.join(path.dirname(BIN('x')), 'examples', 'vault_stdio'), [stateDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const p = pending.shift();
    if (!p) return;
    clearTimeout(p.timer);
    try { p.resolve(JSON.parse(line)); } catch { p.reject(new Error(`vault_stdio printed ${line}`)); }
  });
  return {
    call: (req) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('VaultTimeout: vault_stdio did not answer')), VAULT_TIMEOUT_MS);
      pending.push({ resolve, reject, timer });
      child.stdin.write(JSON.stringify(req) + '\n');
    }),
    stop: () => child.kill(),
  };
}

export async function startFakePanel() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fake-panel-'));
  const vault = startVault(stateDir);
  const requests = new Map(); // requestId -> {token, userId, reports: [], attestations: 0, waiters: []}
  let down = false; // simulate an unreachable panel for the report endpoint
  let hanging = false; // ... or one that takes reports and never answers
  const held = [];
  const cors = {
    'access-control-allow-origin': `chrome-extension://${EXTENSION_ID}`,
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-allow-methods': 'POST',
  };
  const server = http.createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', ...cors });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors); return res.end(); }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><title>Panel (test stand-in)</title><h1>Panel</h1>');
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString()); } catch { return send(400, { error: { code: 'badJson', message: 'malformed JSON' } }); }
    const m = req.url.match(/^\/ext\/([^/]+)\/(attest|assert|report)$/);
    const r = m && requests.get(m[1]);
    if (!r) return send(404, { error: { code: 'unknownRequest', message: 'no such request' } });
    if (req.headers.authorization !== `Bearer ${r.token}`) return send(401, { error: { code: 'badToken', message: 'bad token' } });
    if (m[2] === 'attest') {
      r.attestations += 1;
      if (r.attestations > 1) return send(409, { error: { code: 'alreadyAttested', message: 'this request already has its credential' } });
      const out = await vault.call({ op: 'create', userId: r.userId, origin: body.origin, publicKey: body.publicKey });
      // The same error codes as the panel's (crates/panel/src/error.rs).
      if (out.error) return send(/excludeCredentials/.test(out.error) ? 409 : 422, { error: { code: /excludeCredentials/.test(out.error) ? 'credentialExcluded' : 'vault', message: out.error } });
      return send(200, out);
    }
    if (m[2] === 'assert') {
      r.assertions += 1;
      const out = await vault.call({ op: 'get', userId: r.userId, origin: body.origin, publicKey: body.publicKey });
      return out.error ? send(422, { error: { code: 'vault', message: out.error } }) : send(200, out);
    }
    if (down) { res.destroy(); return; }
    if (hanging) { held.push(res); return; } // never answered, until released
    r.reports.push(body);
    for (const w of r.waiters.splice(0)) w();
    return res.writeHead(204, cors), res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    /** A `provision` message for `user`, registered with the stand-in. */
    provisionMessage(user, { mode = 'automatic', tap, tenantId, keyName, visible = false, verify = false } = {}) {
      const requestId = randomUUID();
      const token = randomBytes(24).toString('base64url');
      requests.set(requestId, { token, userId: user.id, reports: [], attestations: 0, assertions: 0, waiters: [] });
      return {
        type: 'provision', requestId, mode, tenantId,
        user: { objectId: user.id, upn: user.userPrincipalName ?? user.upn, displayName: user.displayName },
        ...(tap ? { tap } : {}),
        ...(keyName ? { keyName } : {}),
        visible,
        panel: {
          attestationUrl: `${origin}/ext/${requestId}/attest`,
          reportUrl: `${origin}/ext/${requestId}/report`,
          ...(verify ? { assertionUrl: `${origin}/ext/${requestId}/assert` } : {}),
          token,
        },
      };
    },
    reports: (requestId) => requests.get(requestId)?.reports ?? [],
    attestations: (requestId) => requests.get(requestId)?.attestations ?? 0,
    assertions: (requestId) => requests.get(requestId)?.assertions ?? 0,
    setDown(v) { down = v; },
    /** Holds report requests unanswered; turning it off drops the held ones. */
    setHanging(v) {
      hanging = v;
      if (!v) for (const res of held.splice(0)) res.destroy();
    },
    /** Resolves when the next report of a request arrives (or after `timeoutMs`). */
    nextReport(requestId, timeoutMs) {
      const r = requests.get(requestId);
      return new Promise((resolve) => { const t = setTimeout(resolve, Math.max(0, timeoutMs)); r.waiters.push(() => { clearTimeout(t); resolve(); }); });
    },
    /** Resolves with the final report of a request, or rejects after `timeoutMs`. */
    async finalReport(requestId, timeoutMs = 60_000) {
      const r = requests.get(requestId);
      const final = () => r.reports.find((x) => ['succeeded', 'failed', 'cancelled'].includes(x.state));
      const deadline = Date.now() + timeoutMs;
      while (!final()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`FinalReportTimeout: no final report for ${requestId} within ${timeoutMs} ms; got ${JSON.stringify(r.reports.map((x) => [x.state, x.step]))}`);
        await new Promise((resolve) => { const t = setTimeout(resolve, left); r.waiters.push(() => { clearTimeout(t); resolve(); }); });
      }
      return final();
    },
    close: () => new Promise((resolve) => { vault.stop(); server.closeAllConnections(); server.close(resolve); }),
  };
}
