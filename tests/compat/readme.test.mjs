// The README's walkthrough, pasted in order: flareq is started as the README
// says (`./dev run ARGS`), then every ```sh block that runs curl and is
// followed by a ```json block is run, in order, in one shell, and each answer
// is compared with the README's: the same shape (keys, types, array lengths)
// and the same values where they do not vary from run to run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startFlareq } from './flareq.mjs';

const run = promisify(execFile);
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

// The fenced blocks, in order: {lang, text}.
function blocks(markdown) {
  const out = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) out.push({ lang: m[1], text: m[2] });
  return out;
}

// What varies from run to run: generated ids, lease ids and times. Every
// other value must be the README's.
const varying = new Set([
  'id', 'consumer_id', 'lease_id', 'created_on', 'modified_on', 'timestamp_ms',
  'oldest_message_timestamp_ms',
]);
const generatedId = /^[0-9a-f]{32}$/;

// Checks that got has want's shape (keys, types, array lengths) and values.
function same(got, want, path, key = '') {
  const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  assert.equal(kind(got), kind(want), `${path}: ${JSON.stringify(got)}`);
  if (Array.isArray(want)) {
    assert.equal(got.length, want.length, `${path}: ${JSON.stringify(got)}`);
    want.forEach((w, i) => same(got[i], w, `${path}[${i}]`));
  } else if (kind(want) === 'object') {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), path);
    for (const k of Object.keys(want)) same(got[k], want[k], `${path}.${k}`, k);
  } else if (!varying.has(key) && !(key === 'queue_id' && generatedId.test(want))) {
    assert.deepEqual(got, want, path);
  }
}

test("the README's curl walkthrough works, pasted in order, on a fresh flareq", async () => {
  const all = blocks(readme);
  const start = all.find((b) => b.lang === 'sh' && /^\.\/dev run \S/m.test(b.text));
  assert.ok(start, 'the README says how to start flareq for the walkthrough');
  const args = start.text.match(/^\.\/dev run (.*)$/m)[1].trim().split(/\s+/);
  const steps = [];
  for (let i = 0; i + 1 < all.length; i++) {
    if (all[i].lang === 'sh' && all[i].text.includes('curl') && all[i + 1].lang === 'json') {
      steps.push({ command: all[i].text, answer: JSON.parse(all[i + 1].text) });
    }
  }
  assert.ok(steps.length >= 6, `only ${steps.length} curl examples found`);

  const server = await startFlareq(args);
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    const script = steps
      .map((s, i) => `echo '@@@ ${i}'\n${s.command.replaceAll('http://127.0.0.1:8789', origin)}\necho`)
      .join('\n');
    const { stdout } = await run('bash', ['-c', script], { timeout: 60000 });
    const outputs = stdout.split(/^@@@ \d+\n/m).slice(1);
    assert.equal(outputs.length, steps.length);
    steps.forEach((step, i) => {
      const where = `example ${i + 1}: ${step.command.split('\n')[0]}`;
      let got;
      assert.doesNotThrow(() => (got = JSON.parse(outputs[i])), `${where}\n${outputs[i]}`);
      same(got, step.answer, where);
    });
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
