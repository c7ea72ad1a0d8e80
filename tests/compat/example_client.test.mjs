// The compose file's example client (docker/example-client) against flareq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFlareq } from './flareq.mjs';

const run = promisify(execFile);
const clientJs = fileURLToPath(new URL('../../docker/example-client/client.mjs', import.meta.url));

test('the example client pushes, pulls and acknowledges through the SDK', async () => {
  const server = await startFlareq();
  try {
    const env = {
      ...process.env,
      CLOUDFLARE_BASE_URL: server.baseURL,
      CLOUDFLARE_API_TOKEN: 'local-token',
      FLAREQ_QUEUE: 'example',
    };
    const first = await run(process.execPath, [clientJs], { env, timeout: 60000 });
    assert.match(first.stdout, /pulled first, second, third/);
    assert.match(first.stdout, /backlog now 0/);
    // A second run finds the queue it made the first time.
    const second = await run(process.execPath, [clientJs], { env, timeout: 60000 });
    assert.match(second.stdout, /acknowledged 3/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
