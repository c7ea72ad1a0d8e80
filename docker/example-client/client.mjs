// An example client of flareq through the official SDK: makes its queue
// and http_pull consumer when missing, pushes a few messages, pulls them, acknowledges them, and prints the metrics. It reads
// CLOUDFLARE_BASE_URL and CLOUDFLARE_API_TOKEN like any SDK program, and
// FLAREQ_ACCOUNT_ID / FLAREQ_QUEUE for where to work. Exits 0 when every
// message came back.
import Cloudflare from 'cloudflare';

const account_id = process.env.FLAREQ_ACCOUNT_ID ?? '023e105f4ecef8ad9ca31a8372d0c353';
const queueName = process.env.FLAREQ_QUEUE ?? 'example';
const client = new Cloudflare({ apiToken: process.env.CLOUDFLARE_API_TOKEN ?? 'local-token' });

const found = [];
for await (const q of client.queues.list({ account_id })) {
  if (q.queue_name === queueName) found.push(q);
}
const queue = found[0] ?? (await client.queues.create({ account_id, queue_name: queueName }));
console.log(`queue ${queue.queue_name} (${queue.queue_id})`);
// Pull needs an http_pull consumer, on Cloudflare as on flareq.
const consumers = [];
for await (const c of client.queues.consumers.list(queue.queue_id, { account_id })) consumers.push(c);
if (!consumers.some((c) => c.type === 'http_pull')) {
  await client.queues.consumers.create(queue.queue_id, { account_id, type: 'http_pull' });
}

const sent = ['first', 'second', 'third'];
for (const body of sent) {
  const { metadata } = await client.queues.messages.push(queue.queue_id, {
    account_id,
    body,
    content_type: 'text',
  });
  console.log(`pushed ${body}: backlog ${metadata.metrics.backlog_count}`);
}

const pulled = await client.queues.messages.pull(queue.queue_id, { account_id, batch_size: 10 });
const received = pulled.messages.map((m) => m.body);
console.log(`pulled ${received.join(', ')}`);
const acked = await client.queues.messages.ack(queue.queue_id, {
  account_id,
  acks: pulled.messages.map((m) => ({ lease_id: m.lease_id })),
});
console.log(`acknowledged ${acked.ackCount}`);
const metrics = await client.queues.getMetrics(queue.queue_id, { account_id });
console.log(`backlog now ${metrics.backlog_count}`);

const ok = sent.every((body) => received.includes(body)) && metrics.backlog_count === 0;
process.exit(ok ? 0 : 1);
