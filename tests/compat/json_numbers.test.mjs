// json bodies are stored, delivered and counted as JavaScript's
// JSON.stringify writes them, whatever form the numbers were sent in: each
// body is sent as raw text, pulled back, and compared with what Node makes of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonHeaders as headers, useFlareq } from './flareq.mjs';

// Lenient: each check pushes to a queue id of its own, created on first push.
const flareq = useFlareq(['--lenient']);

async function call(path, body) {
  const res = await fetch(`${flareq.server.baseURL}/accounts/acc/queues/${path}`, {
    method: 'POST',
    headers,
    body,
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json.result;
}

// Pushes each raw body (JSON text) to its own queue and checks the stored
// form and backlog_bytes against Node's.
async function check(queue, raws) {
  for (let i = 0; i < raws.length; i += 100) {
    const chunk = raws.slice(i, i + 100);
    const text = `{"messages":[${chunk.map((r) => `{"body":${r}}`).join(',')}]}`;
    await call(`${queue}/messages/batch`, text);
  }
  const expected = raws.map((r) => JSON.stringify(JSON.parse(r)));
  const got = [];
  while (got.length < raws.length) {
    const pulled = await call(`${queue}/messages/pull`, '{"batch_size":100}');
    assert.ok(pulled.messages.length > 0, 'pull found nothing');
    for (const m of pulled.messages) got.push(Buffer.from(m.body, 'base64').toString('utf8'));
  }
  const metrics = await fetch(`${flareq.server.baseURL}/accounts/acc/queues/${queue}/metrics`, { headers });
  const bytes = (await metrics.json()).result.backlog_bytes;
  for (let i = 0; i < raws.length; ++i) assert.equal(got[i], expected[i], `sent ${raws[i]}`);
  assert.equal(bytes, expected.reduce((n, s) => n + Buffer.byteLength(s), 0));
}

test('numbers in every form come back as JSON.stringify writes them', async () => {
  await check('forms', [
    '1.5', '1.5E0', '0.1', '1E-1', '100.0', '1E2', '1e21', '1e20', '1e-7', '1e-6', '-0', '-0.0',
    '5e-324', '1.7976931348623157e308', '2.5e-5', '12345678901234567890', '9007199254740993',
    '-9223372036854775808', '18446744073709551615', '123456789012345680000', '0.1e2',
    '[1.0,2.50,-3.125e3]', '{"b":1,"2":2,"1":3,"01":4,"a":{"x":1e0}}', '"caf\\u00e9 \\u0001"',
  ]);
});

test('random doubles, written in exponent, long and short forms', async () => {
  let seed = 20261130;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const raws = [];
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 600; ++i) {
    // Any finite double: random bits.
    view.setUint32(0, Math.floor(random() * 2 ** 32));
    view.setUint32(4, Math.floor(random() * 2 ** 32));
    let d = view.getFloat64(0);
    if (!Number.isFinite(d)) d = random();
    // And everyday magnitudes.
    const e = (random() - 0.5) * 60;
    const everyday = (random() - 0.5) * 10 ** e;
    for (const x of [d, everyday]) {
      raws.push(x.toExponential().toUpperCase(), x.toPrecision(17), String(x));
    }
  }
  await check('random', raws);
});
