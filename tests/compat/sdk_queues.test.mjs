// Every method of the official SDK's client.queues against flareq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { listAll, useSdk } from './flareq.mjs';

const account_id = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const sdk = useSdk();

test('queues: create, list, get, update, edit, getMetrics, delete', async () => {
  const created = await sdk.client.queues.create({ account_id, queue_name: 'sdk-orders' });
  assert.match(created.queue_id, /^[0-9a-f]{32}$/);
  assert.equal(created.queue_name, 'sdk-orders');
  assert.deepEqual(created.settings, {
    delivery_delay: 0,
    delivery_paused: false,
    message_retention_period: 345600,
  });
  const id = created.queue_id;

  const listed = await listAll(sdk.client.queues.list({ account_id }));
  assert.ok(listed.some((q) => q.queue_id === id));

  assert.deepEqual(await sdk.client.queues.get(id, { account_id }), created);

  const updated = await sdk.client.queues.update(id, {
    account_id,
    queue_name: 'sdk-orders',
    settings: { delivery_delay: 3, message_retention_period: 600 },
  });
  assert.equal(updated.settings.delivery_delay, 3);
  assert.equal(updated.settings.message_retention_period, 600);

  const edited = await sdk.client.queues.edit(id, { account_id, settings: { delivery_paused: true } });
  assert.deepEqual(edited.settings, {
    delivery_delay: 3,
    delivery_paused: true,
    message_retention_period: 600,
  });

  assert.deepEqual(await sdk.client.queues.getMetrics(id, { account_id }), {
    backlog_bytes: 0,
    backlog_count: 0,
    oldest_message_timestamp_ms: 0,
  });

  const deleted = await sdk.client.queues.delete(id, { account_id });
  assert.equal(deleted.success, true);
  await assert.rejects(sdk.client.queues.get(id, { account_id }), (err) => {
    assert.ok(err instanceof Cloudflare.NotFoundError);
    assert.equal(err.errors[0].code, 11000);
    return true;
  });
});

test('messages: push, bulkPush, pull, ack, peek, purge', async () => {
  const { queue_id: id } = await sdk.client.queues.create({ account_id, queue_name: 'sdk-messages' });
  // As on Cloudflare, pull needs an http_pull consumer.
  await sdk.client.queues.consumers.create(id, { account_id, type: 'http_pull' });
  await sdk.client.queues.messages.push(id, { account_id, body: 'one', content_type: 'text' });
  const bulk = await sdk.client.queues.messages.bulkPush(id, {
    account_id,
    messages: [
      { body: 'two', content_type: 'text' },
      { body: { n: 3 }, content_type: 'json' },
      { body: 'four', content_type: 'text' },
    ],
  });
  assert.equal(bulk.metadata.metrics.backlog_count, 4);

  const peeked = await sdk.client.queues.messages.peek(id, { account_id, batch_size: 10 });
  assert.equal(peeked.messages.length, 4);
  assert.equal(peeked.messages[0].body, 'one');
  assert.ok(peeked.messages[0].ref);

  const purged = await sdk.client.queues.messages.purge(id, {
    account_id,
    refs: [{ ref: peeked.messages[3].ref }],
  });
  assert.deepEqual(purged.warnings, {});
  assert.equal((await sdk.client.queues.getMetrics(id, { account_id })).backlog_count, 3);

  const pulled = await sdk.client.queues.messages.pull(id, {
    account_id,
    batch_size: 10,
    visibility_timeout_ms: 60000,
  });
  assert.equal(pulled.message_backlog_count, 3);
  assert.deepEqual(
    pulled.messages.map((m) => m.body),
    ['one', 'two', Buffer.from(JSON.stringify({ n: 3 })).toString('base64')],
  );
  assert.equal(pulled.messages[2].metadata['CF-Content-Type'], 'json');
  assert.ok(pulled.messages.every((m) => m.attempts === 1 && m.lease_id));

  const acked = await sdk.client.queues.messages.ack(id, {
    account_id,
    acks: [{ lease_id: pulled.messages[0].lease_id }, { lease_id: pulled.messages[1].lease_id }],
    retries: [{ lease_id: pulled.messages[2].lease_id, delay_seconds: 0 }],
  });
  assert.deepEqual(acked, { ackCount: 2, retryCount: 1, warnings: {} });

  const again = await sdk.client.queues.messages.pull(id, { account_id });
  assert.equal(again.messages.length, 1);
  assert.equal(again.messages[0].attempts, 2);
});

test('purge: start and status', async () => {
  const { queue_id: id } = await sdk.client.queues.create({ account_id, queue_name: 'sdk-purge' });
  await sdk.client.queues.messages.push(id, { account_id, body: 1 });
  const queue = await sdk.client.queues.purge.start(id, { account_id, delete_messages_permanently: true });
  assert.equal(queue.queue_id, id);
  const status = await sdk.client.queues.purge.status(id, { account_id });
  assert.equal(status.completed, 'true');
  assert.ok(status.started_at);
  assert.equal((await sdk.client.queues.getMetrics(id, { account_id })).backlog_count, 0);
});

test('consumers: create, list, get, update, delete', async () => {
  const { queue_id } = await sdk.client.queues.create({ account_id, queue_name: 'sdk-consumed' });
  const created = await sdk.client.queues.consumers.create(queue_id, {
    account_id,
    type: 'worker',
    script_name: 'my-worker',
    dead_letter_queue: 'sdk-consumed-dlq',
    settings: { batch_size: 20, max_retries: 2 },
  });
  assert.match(created.consumer_id, /^[0-9a-f]{32}$/);
  assert.equal(created.script_name, 'my-worker');
  assert.equal(created.settings.batch_size, 20);

  const listed = await listAll(sdk.client.queues.consumers.list(queue_id, { account_id }));
  assert.deepEqual(listed.map((c) => c.consumer_id), [created.consumer_id]);

  const got = await sdk.client.queues.consumers.get(created.consumer_id, { account_id, queue_id });
  assert.deepEqual(got, created);

  const updated = await sdk.client.queues.consumers.update(created.consumer_id, {
    account_id,
    queue_id,
    type: 'http_pull',
    settings: { visibility_timeout_ms: 5000 },
  });
  assert.equal(updated.type, 'http_pull');
  assert.equal(updated.settings.visibility_timeout_ms, 5000);

  await assert.rejects(
    sdk.client.queues.consumers.create(queue_id, { account_id, type: 'http_pull' }),
    (err) => err instanceof Cloudflare.ConflictError && err.errors[0].code === 11004,
  );

  const deleted = await sdk.client.queues.consumers.delete(created.consumer_id, { account_id, queue_id });
  assert.equal(deleted.success, true);
  assert.deepEqual(await listAll(sdk.client.queues.consumers.list(queue_id, { account_id })), []);
});

test('pull on a paused queue is a conflict', async () => {
  const { queue_id: id } = await sdk.client.queues.create({
    account_id,
    queue_name: 'sdk-paused',
    settings: { delivery_paused: true },
  });
  await sdk.client.queues.messages.push(id, { account_id, body: 1 });
  await assert.rejects(
    sdk.client.queues.messages.pull(id, { account_id }),
    (err) => err instanceof Cloudflare.ConflictError && err.errors[0].code === 11010,
  );
});
