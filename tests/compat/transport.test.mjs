// Node's own HTTP client against flareq's transport: a body over the limit
// gets its 413 envelope (not EPIPE or a reset), HEAD works, and answers
// carry Date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonHeaders as headers, useFlareq } from './flareq.mjs';

const flareq = useFlareq();

test('fetch posting 1.1 to 2 MB gets the 413, every time', async () => {
  for (const size of [1.1e6, 1.5e6, 2e6, 2e6, 2e6, 1.5e6, 1.1e6, 2e6]) {
    const body = JSON.stringify({ body: 'x'.repeat(size), content_type: 'text' });
    const res = await fetch(`${flareq.server.baseURL}/accounts/acc/queues/q/messages`, {
      method: 'POST',
      headers,
      body,
    });
    assert.equal(res.status, 413, `size ${size}`);
    const json = await res.json();
    assert.equal(json.success, false);
    assert.equal(json.errors[0].code, 10205);
  }
});

test('HEAD answers like GET without a body, and answers carry Date', async () => {
  const get = await fetch(`${flareq.server.baseURL}/accounts/acc/queues`, { headers });
  const head = await fetch(`${flareq.server.baseURL}/accounts/acc/queues`, { method: 'HEAD', headers });
  assert.equal(head.status, get.status);
  assert.equal(head.headers.get('content-length'), get.headers.get('content-length'));
  assert.equal(await head.text(), '');
  assert.ok(Date.parse(get.headers.get('date')) > 0);
  const health = await fetch(`http://127.0.0.1:${flareq.server.port}/healthz`, { method: 'HEAD' });
  assert.equal(health.status, 200);
});
