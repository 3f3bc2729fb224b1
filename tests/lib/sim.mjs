// Starts the Entra ID simulator (crates/entra-sim) as a child process and
// reads the one JSON line it prints when ready.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BIN, ROOT } from './paths.mjs';

/**
 * Writes a seed: the simulator's demo tenant plus `extra` users of the tests'
 * own (`scenario0@contoso.com` ..., and `lee.propagation@contoso.com`), so
 * each scenario has a user whose state no other test touches.
 */
export function testSeed(extra = 0) {
  const seed = JSON.parse(readFileSync(path.join(ROOT, 'crates/entra-sim/seeds/demo.json'), 'utf8'));
  const hex = (n, len) => n.toString(16).padStart(len, '0');
  const add = (upn, displayName, n) => seed.users.push({
    ...seed.users[1], scenarios: undefined,
    id: `${hex(0xa0000000 + n, 8)}-0000-4000-8000-${hex(n, 12)}`,
    userPrincipalName: upn, displayName, mail: upn,
  });
  for (let i = 0; i < extra; i++) add(`scenario${i}@contoso.com`, `Scenario User ${i}`, i);
  add('lee.propagation@contoso.com', 'Lee Propagation', 999);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sim-seed-'));
  const file = path.join(dir, 'seed.json');
  writeFileSync(file, JSON.stringify(seed));
  return file;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * @returns {Promise<{listen: string, spki: string, ca: string, hostResolverRules: string,
 *   stateDir: string, stop: () => Promise<void>}>}
 */
export async function startSim({ stateDir, seed, latencyMs } = {}) {
  stateDir ??= mkdtempSync(path.join(os.tmpdir(), 'entra-sim-'));
  const args = ['--listen', '127.0.0.1:0', '--state', stateDir];
  if (seed) args.push('--seed', seed);
  if (latencyMs) args.push('--latency-ms', String(latencyMs));
  const child = spawn(BIN('entra-sim'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  child.stderr.on('data', (d) => { stderr.push(d); if (process.env.SIM_LOG) process.stderr.write(d); });

  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SimReadyTimeout: entra-sim printed no ready line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`entra-sim did not start: ${e.message}`)); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`entra-sim exited (${code}) before it was ready:\n${Buffer.concat(stderr)}`)); });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try { resolve(JSON.parse(line)); } catch (e) { reject(new Error(`entra-sim ready line is not JSON: ${line}`)); }
    });
  });
  child.removeAllListeners('exit');

  return {
    ...info,
    stateDir,
    port: Number(info.listen.split(':').pop()),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
