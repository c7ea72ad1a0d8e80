// GET /metrics after a scripted session: Prometheus' own checker (promtool,
// from Debian's prometheus package) passes the scrape, and its values are
// those of the session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startFlareq, jsonHeaders } from './flareq.mjs';

// name{labels} -> value, from the text exposition format.
function parse(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function promtool(text) {
  const r = spawnSync(process.env.PROMTOOL || 'promtool', ['check', 'metrics'], { input: text });
  if (r.error) throw new Error(`promtool did not run (./dev test installs prometheus): ${r.error}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('a scrape after a scripted session passes promtool and counts the session', async () => {
  const server = await startFlareq(['--api-token', 'local-token', '--clock', 'manual:1795981552000']);
  const base = `http://127.0.0.1:${server.port}/client/v4/accounts/acc/queues`;
  const call = async (method, url, body) => {
    const res = await fetch(url, {
      method, headers: jsonHeaders, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  try {
    const made = await call('POST', base, { queue_name: 'jobs' });
    const q = `${base}/${made.json.result.queue_id}`;
    await call('POST', `${q}/consumers`, { type: 'http_pull' });
    for (const body of ['a', 'bb', 'ccc']) {
      assert.equal((await call('POST', `${q}/messages`, { body, content_type: 'text' })).status, 200);
    }
    await call('POST', `${q}/messages`, { body: 'later', content_type: 'text', delay_seconds: 60 });
    await call('POST', `${q}/messages/batch`, {
      messages: [{ body: 'd', content_type: 'text' }, { body: { n: 1 }, content_type: 'json' }],
    });
    const pulled = await call('POST', `${q}/messages/pull`, { batch_size: 3 });
    const leases = pulled.json.result.messages.map((m) => m.lease_id);
    assert.equal(leases.length, 3);
    await call('POST', `${q}/messages/ack`, {
      acks: [{ lease_id: leases[0] }], retries: [{ lease_id: leases[1], delay_seconds: 30 }],
    });
    // A refused push (no credentials) and a route that does not exist.
    assert.equal((await fetch(`${q}/messages`, { method: 'POST', body: '{}' })).status, 400);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/nowhere`, { headers: jsonHeaders }))
      .status, 400);
    // Ten seconds later, on the manual clock.
    await call('POST', `http://127.0.0.1:${server.port}/_flareq/clock`, { advance_ms: 10000 });

    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const checked = promtool(text);
    assert.equal(checked.status, 0, checked.output);
    assert.equal(checked.output, '');

    const m = parse(text);
    const id = made.json.result.queue_id;
    const at = (name, labels = '') => m.get(labels ? `${name}{${labels}}` : name);
    const ql = `account="acc",queue="${id}"`;
    assert.equal(at('flareq_messages_pushed_total', ql), 6);
    assert.equal(at('flareq_messages_delivered_total', ql), 3);
    assert.equal(at('flareq_messages_acked_total', ql), 1);
    assert.equal(at('flareq_messages_retried_total', ql), 1);
    assert.equal(at('flareq_messages_purged_total', ql), 0);
    // 6 pushed, 1 acked: 2 ready (pushed, not pulled), 1 delayed by its push,
    // 1 delayed by its retry, 1 leased.
    assert.equal(at('flareq_backlog_messages', `${ql},state="ready"`), 2);
    assert.equal(at('flareq_backlog_messages', `${ql},state="delayed"`), 2);
    assert.equal(at('flareq_backlog_messages', `${ql},state="leased"`), 1);
    const total = ['ready', 'delayed', 'leased']
      .reduce((n, s) => n + at('flareq_backlog_bytes', `${ql},state="${s}"`), 0);
    const metrics = await call('GET', `${q}/metrics`);
    assert.equal(total, metrics.json.result.backlog_bytes);
    // The oldest message was pushed 10 s (of the manual clock) ago.
    assert.equal(at('flareq_oldest_message_age_seconds', ql), 10);
    assert.equal(at('flareq_http_requests_total', 'route="push",status="200"'), 4);
    assert.equal(at('flareq_http_requests_total', 'route="push",status="400"'), 1);
    assert.equal(at('flareq_http_requests_total', 'route="batch",status="200"'), 1);
    assert.equal(at('flareq_http_requests_total', 'route="none",status="400"'), 1);
    assert.equal(at('flareq_http_request_duration_seconds_count', 'route="push"'), 5);
    assert.equal(at('flareq_http_request_duration_seconds_bucket', 'route="push",le="+Inf"'), 5);
    assert.ok(at('flareq_writer_group_jobs_count') >= 10);
    assert.equal(at('flareq_writer_commit_duration_seconds_count'),
                 at('flareq_writer_group_jobs_count'));
    assert.ok(at('flareq_http_open_connections') >= 1);
    assert.ok(at('flareq_database_file_bytes', 'file="database"') > 0);
    assert.equal(at('flareq_storage_up'), 1);
    assert.ok([...m.keys()].some((k) => /^flareq_build_info\{version="\d+\.\d+\.\d+",/.test(k)));

    // Purge: counted, and the backlog is 0 in every state.
    await call('POST', `${q}/purge`, { delete_messages_permanently: true });
    const after = parse(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text());
    assert.equal(after.get(`flareq_messages_purged_total{${ql}}`), 5);
    for (const s of ['ready', 'delayed', 'leased']) {
      assert.equal(after.get(`flareq_backlog_messages{${ql},state="${s}"}`), 0);
    }
    assert.equal(after.get(`flareq_oldest_message_age_seconds{${ql}}`), 0);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--metrics=false: no /metrics, and the API works as before', async () => {
  const server = await startFlareq(['--api-token', 'local-token', '--metrics=false', '--lenient']);
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.equal(body.errors[0].code, 7003);
    const push = await fetch(`http://127.0.0.1:${server.port}/accounts/a/queues/q/messages`, {
      method: 'POST', headers: jsonHeaders, body: JSON.stringify({ body: 'x', content_type: 'text' }),
    });
    assert.equal(push.status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("the README's sample scrape and scrape configuration pass promtool", async () => {
  const { readFileSync, mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Metrics\n'), readme.indexOf('\n## Testing with flareq\n'));
  const sample = section.match(/^```text\n([\s\S]*?)^```$/m)[1];
  const checked = promtool(sample);
  assert.equal(checked.status, 0, checked.output);
  assert.match(sample, /flareq_messages_pushed_total\{/);
  const config = section.match(/^```yaml\n([\s\S]*?)^```$/m)[1];
  const file = `${mkdtempSync(`${tmpdir()}/flareq-prom-`)}/prometheus.yml`;
  writeFileSync(file, config);
  const r = spawnSync(process.env.PROMTOOL || 'promtool', ['check', 'config', file]);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
