// Starts the flareq binary (FLAREQ_BIN) on 127.0.0.1 and a free port for the
// compatibility tests, and stops it with SIGTERM.
import { spawn } from 'node:child_process';
import Cloudflare from 'cloudflare';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';

export async function startFlareq(args = []) {
  const bin = process.env.FLAREQ_BIN;
  if (!bin) throw new Error('FLAREQ_BIN must name the flareq binary');
  const child = spawn(bin, ['--port', '0', '--db', ':memory:', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flareq did not start:\n${output}`)), 20000);
    child.stderr.on('data', (chunk) => {
      output += chunk;
      const m = output.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`flareq exited with ${code}:\n${output}`));
    });
  });
  return {
    port,
    baseURL: `http://127.0.0.1:${port}/client/v4`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

// The headers of a JSON request with a token flareq accepts by default.
export const jsonHeaders = { Authorization: 'Bearer local-token', 'Content-Type': 'application/json' };

// Starts flareq before the file's tests and checks that it stops with 0
// after them; the returned object's `server` is set once it runs.
export function useFlareq(args = []) {
  const handle = { server: null };
  before(async () => {
    handle.server = await startFlareq(args);
  });
  after(async () => {
    assert.equal(await handle.server.stop(), 0);
  });
  return handle;
}

// useFlareq, with an SDK client pointed at it: `client` is set with `server`.
export function useSdk(args = []) {
  const handle = { server: null, client: null };
  before(async () => {
    handle.server = await startFlareq(args);
    handle.client = new Cloudflare({
      apiToken: 'local-token',
      baseURL: handle.server.baseURL,
      maxRetries: 0,
    });
  });
  after(async () => {
    assert.equal(await handle.server.stop(), 0);
  });
  return handle;
}

// Every item of an SDK list, across its pages.
export async function listAll(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}
