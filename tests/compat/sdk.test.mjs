// The official `cloudflare` SDK (pinned in package.json) against flareq.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { startFlareq } from './flareq.mjs';

const account_id = '023e105f4ecef8ad9ca31a8372d0c353';
let server;
let client;

// Lenient: these push to queue ids nobody created.
before(async () => {
  server = await startFlareq(['--lenient']);
  client = new Cloudflare({ apiToken: 'local-token', baseURL: server.baseURL, maxRetries: 0 });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

test('push text and json messages and read the metrics', async () => {
  const queue = 'sdk-push';
  const before = Date.now();
  const first = await client.queues.messages.push(queue, {
    account_id,
    body: 'hello',
    content_type: 'text',
  });
  const after = Date.now();
  const m1 = first.metadata.metrics;
  assert.equal(m1.backlog_count, 1);
  assert.equal(m1.backlog_bytes, 5);
  assert.ok(m1.oldest_message_timestamp_ms >= before - 1 && m1.oldest_message_timestamp_ms <= after + 1);

  const second = await client.queues.messages.push(queue, {
    account_id,
    body: { order: 42, items: ['a', 'b'] },
    content_type: 'json',
  });
  assert.deepEqual(second.metadata.metrics, {
    backlog_bytes: 5 + JSON.stringify({ order: 42, items: ['a', 'b'] }).length,
    backlog_count: 2,
    oldest_message_timestamp_ms: m1.oldest_message_timestamp_ms,
  });

  const third = await client.queues.messages.push(queue, {
    account_id,
    body: { late: true },
    delay_seconds: 30,
  });
  assert.equal(third.metadata.metrics.backlog_count, 3);
});

test('CLOUDFLARE_BASE_URL points the SDK at flareq', async () => {
  process.env.CLOUDFLARE_BASE_URL = server.baseURL;
  try {
    const fromEnv = new Cloudflare({ apiToken: 'local-token', maxRetries: 0 });
    const res = await fromEnv.queues.messages.push('sdk-env', { account_id, body: 'x', content_type: 'text' });
    assert.equal(res.metadata.metrics.backlog_count, 1);
  } finally {
    delete process.env.CLOUDFLARE_BASE_URL;
  }
});

test('the global key pair works too', async () => {
  const keyed = new Cloudflare({
    apiEmail: 'me@example.com',
    apiKey: '0123456789abcdef0123456789abcdef01234',
    baseURL: server.baseURL,
    maxRetries: 0,
  });
  const res = await keyed.queues.messages.push('sdk-key', { account_id, body: [1, 2] });
  assert.equal(res.metadata.metrics.backlog_bytes, 5);
});

test('errors reach the SDK as its typed errors', async () => {
  await assert.rejects(
    client.queues.messages.push('sdk-err', { account_id, body: 'x', content_type: 'bytes' }),
    (err) => {
      assert.ok(err instanceof Cloudflare.BadRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.errors[0].code, 10203);
      return true;
    },
  );
  await assert.rejects(
    client.queues.messages.push('sdk-err', {
      account_id,
      body: 'x'.repeat(128001),
      content_type: 'text',
    }),
    (err) => err.status === 413 && err.errors[0].code === 10204,
  );
});

test('configured tokens, and the strict default', async () => {
  const strict = await startFlareq(['--api-token', 'good-token', '--queue', 'orders']);
  try {
    const denied = new Cloudflare({ apiToken: 'bad-token', baseURL: strict.baseURL, maxRetries: 0 });
    await assert.rejects(
      denied.queues.messages.push('orders', { account_id, body: 1 }),
      (err) => err instanceof Cloudflare.PermissionDeniedError && err.errors[0].code === 10000,
    );
    const good = new Cloudflare({ apiToken: 'good-token', baseURL: strict.baseURL, maxRetries: 0 });
    const ok = await good.queues.messages.push('orders', { account_id, body: 1 });
    assert.equal(ok.metadata.metrics.backlog_count, 1);
    await assert.rejects(
      good.queues.messages.push('missing', { account_id, body: 1 }),
      (err) =>
        err instanceof Cloudflare.NotFoundError &&
        err.errors[0].code === 10104 &&
        err.errors[0].message.includes('--lenient'),
    );
  } finally {
    assert.equal(await strict.stop(), 0);
  }
});
