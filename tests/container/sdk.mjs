// The container test's client, through the official SDK (the compose
// example's pinned copy, docker/example-client):
//   node sdk.mjs push   makes the queue and its http_pull consumer, pushes
//                       "first" and "second", pulls one and acknowledges it
//   node sdk.mjs check  finds the queue again, with "second" alone left in it
// It reads CLOUDFLARE_BASE_URL like any SDK program. Exits 0 when each step
// saw what it should, printing what it did.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../docker/example-client/package.json', import.meta.url));
const Cloudflare = require('cloudflare').default;

const account_id = '023e105f4ecef8ad9ca31a8372d0c353';
const queue_name = 'container-test';
const client = new Cloudflare({ apiToken: 'container-test-token', maxRetries: 0 });

function expect(ok, what) {
  if (!ok) {
    console.error(`sdk: ${what}`);
    process.exit(1);
  }
}

async function findQueue() {
  for await (const q of client.queues.list({ account_id })) {
    if (q.queue_name === queue_name) return q;
  }
  return undefined;
}

const step = process.argv[2];
if (step === 'push') {
  const queue = await client.queues.create({ account_id, queue_name });
  await client.queues.consumers.create(queue.queue_id, { account_id, type: 'http_pull' });
  for (const body of ['first', 'second']) {
    await client.queues.messages.push(queue.queue_id, { account_id, body, content_type: 'text' });
  }
  const pulled = await client.queues.messages.pull(queue.queue_id, { account_id, batch_size: 1 });
  expect(pulled.messages.length === 1, `pulled ${pulled.messages.length} messages, not 1`);
  const [message] = pulled.messages;
  expect(message.body === 'first', `pulled ${JSON.stringify(message.body)}, not "first"`);
  const acked = await client.queues.messages.ack(queue.queue_id, {
    account_id,
    acks: [{ lease_id: message.lease_id }],
  });
  expect(acked.ackCount === 1, `acknowledged ${acked.ackCount}, not 1`);
  console.log(`queue ${queue.queue_id}: pushed first and second, pulled and acknowledged first`);
} else if (step === 'check') {
  const queue = await findQueue();
  expect(queue !== undefined, `no queue ${queue_name} after the restart`);
  const metrics = await client.queues.getMetrics(queue.queue_id, { account_id });
  expect(metrics.backlog_count === 1, `backlog ${metrics.backlog_count} after the restart, not 1`);
  const pulled = await client.queues.messages.pull(queue.queue_id, { account_id, batch_size: 10 });
  const bodies = pulled.messages.map((m) => m.body);
  expect(bodies.length === 1 && bodies[0] === 'second', `pulled ${JSON.stringify(bodies)}`);
  console.log(`queue ${queue.queue_id} after the restart: backlog 1, pulled second`);
} else {
  console.error('usage: node sdk.mjs push|check');
  process.exit(2);
}
