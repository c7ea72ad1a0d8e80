// Every method of the official SDK's client.queues.subscriptions (event
// subscriptions) against flareq, and the errors of that API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { listAll, useSdk } from './flareq.mjs';

const account_id = 'feed0000feed0000feed0000feed0000';
const sdk = useSdk();

test('subscriptions: create, list, get, update, delete', async () => {
  const { queue_id } = await sdk.client.queues.create({ account_id, queue_name: 'sdk-events' });
  const created = await sdk.client.queues.subscriptions.create({
    account_id,
    name: 'builds',
    enabled: true,
    source: { type: 'workersBuilds.worker', worker_name: 'my-worker' },
    destination: { type: 'queues.queue', queue_id },
    events: ['build.started', 'build.failed'],
  });
  assert.match(created.id, /^[0-9a-f]{32}$/);
  assert.equal(created.name, 'builds');
  assert.equal(created.enabled, true);
  assert.deepEqual(created.source, { type: 'workersBuilds.worker', worker_name: 'my-worker' });
  assert.deepEqual(created.destination, { type: 'queues.queue', queue_id });
  assert.deepEqual(created.events, ['build.started', 'build.failed']);
  assert.ok(!Number.isNaN(Date.parse(created.created_at)));
  assert.equal(created.modified_at, created.created_at);

  assert.deepEqual(await sdk.client.queues.subscriptions.get(created.id, { account_id }), created);

  // The list pages until an empty page, as the SDK's paginator does.
  for (let i = 0; i < 4; i++) {
    await sdk.client.queues.subscriptions.create({
      account_id,
      name: `kv-${i}`,
      source: { type: 'kv' },
      destination: { type: 'queues.queue', queue_id },
      events: ['namespace.created'],
    });
  }
  const all = await listAll(sdk.client.queues.subscriptions.list({ account_id, per_page: 2 }));
  assert.equal(all.length, 5);
  assert.deepEqual(
    all.map((s) => s.name),
    ['builds', 'kv-0', 'kv-1', 'kv-2', 'kv-3'],
  );
  const byName = await sdk.client.queues.subscriptions.list({
    account_id,
    order: 'name',
    direction: 'desc',
  });
  assert.equal(byName.result[0].name, 'kv-3');
  assert.equal(byName.result_info.total_count, 5);

  const updated = await sdk.client.queues.subscriptions.update(created.id, {
    account_id,
    enabled: false,
    events: ['build.succeeded'],
  });
  assert.equal(updated.enabled, false);
  assert.deepEqual(updated.events, ['build.succeeded']);
  assert.equal(updated.name, 'builds');
  assert.deepEqual(updated.source, created.source);

  const deleted = await sdk.client.queues.subscriptions.delete(created.id, { account_id });
  assert.equal(deleted.id, created.id);
  await assert.rejects(
    sdk.client.queues.subscriptions.get(created.id, { account_id }),
    (err) => err instanceof Cloudflare.NotFoundError && err.errors[0].code === 11000,
  );

  // Deleting the queue deletes the subscriptions that send to it.
  await sdk.client.queues.delete(queue_id, { account_id });
  assert.deepEqual(await listAll(sdk.client.queues.subscriptions.list({ account_id })), []);
});

test('subscriptions: every bad input is refused and changes nothing', async () => {
  const { queue_id } = await sdk.client.queues.create({ account_id, queue_name: 'sdk-events-bad' });
  const good = {
    account_id,
    name: 'ok',
    source: { type: 'r2' },
    destination: { type: 'queues.queue', queue_id },
    events: ['bucket.created'],
  };
  const bad = [
    [{ ...good, source: { type: 'nope' } }, 400, 10026],
    [{ ...good, source: { type: 'workflows.workflow' } }, 400, 10026], // needs workflow_name
    [{ ...good, events: [] }, 400, 10026],
    [{ ...good, events: [''] }, 400, 10026],
    [{ ...good, name: '' }, 400, 10026],
    [{ ...good, destination: { type: 'r2.bucket', queue_id } }, 400, 10026],
    [{ ...good, destination: { type: 'queues.queue', queue_id: 'f'.repeat(32) } }, 404, 11000],
  ];
  for (const [params, status, code] of bad) {
    await assert.rejects(sdk.client.queues.subscriptions.create(params), (err) => {
      assert.equal(err.status, status, JSON.stringify(params));
      assert.equal(err.errors[0].code, code, JSON.stringify(params));
      return true;
    });
  }
  const made = await sdk.client.queues.subscriptions.create(good);
  await assert.rejects(
    sdk.client.queues.subscriptions.update(made.id, { account_id, events: [] }),
    (err) => err.status === 400 && err.errors[0].code === 10026,
  );
  await assert.rejects(
    sdk.client.queues.subscriptions.update('0'.repeat(32), { account_id, enabled: false }),
    (err) => err.status === 404 && err.errors[0].code === 11000,
  );
  const res = await fetch(
    `${sdk.server.baseURL}/accounts/${account_id}/event_subscriptions/subscriptions/${made.id}`,
    {
      method: 'PATCH',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ source: { type: 'kv' } }),
    },
  );
  assert.equal(res.status, 400);
  assert.deepEqual(await sdk.client.queues.subscriptions.get(made.id, { account_id }), made);
  const listed = await listAll(sdk.client.queues.subscriptions.list({ account_id }));
  assert.deepEqual(listed, [made]);
});
