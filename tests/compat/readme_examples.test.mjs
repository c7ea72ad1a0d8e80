// The README's "Testing with flareq" examples, run as they are: each ```js
// block that starts with "// example: NAME" becomes a node:test file (the
// shared lines pasted where it says so), run against a fresh flareq started
// with the section's flags. A failing example fails this test with its output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startFlareq } from './flareq.mjs';

const run = promisify(execFile);
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Testing with flareq'));
const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  lang: m[1],
  text: m[2],
}));
const start = blocks.find((b) => b.lang === 'sh' && /^\.\/dev run \S/m.test(b.text));
const shared = blocks.find((b) => b.lang === 'js' && b.text.includes('const flareq ='));
const examples = blocks.filter((b) => b.lang === 'js' && /^\/\/ example: \w+/.test(b.text));
// Inside tests/compat, so that the examples' imports find its node_modules.
const folder = new URL('./.examples/', import.meta.url);

test('the section says how to start flareq and has the five examples', () => {
  assert.ok(start, 'a ./dev run line');
  assert.ok(shared, 'the shared lines');
  assert.deepEqual(
    examples.map((e) => e.text.match(/^\/\/ example: (\w+)/)[1]),
    ['clock', 'seed', 'snapshots', 'faults', 'journal'],
  );
});

for (const example of examples) {
  const name = example.text.match(/^\/\/ example: (\w+)/)[1];
  test(`README example "${name}" passes on a fresh flareq`, async () => {
    const args = start.text.match(/^\.\/dev run (.*)$/m)[1].trim().split(/\s+/);
    const code = example.text.replace('// + the shared lines above\n', shared.text);
    mkdirSync(folder, { recursive: true });
    const file = new URL(`${name}.test.mjs`, folder);
    writeFileSync(file, code);
    const server = await startFlareq(args);
    try {
      // A runner of its own: NODE_TEST_CONTEXT would make it report to ours and exit 0.
      const env = { ...process.env, FLAREQ_URL: `http://127.0.0.1:${server.port}` };
      delete env.NODE_TEST_CONTEXT;
      const result = await run(process.execPath, ['--test', file.pathname], { env, timeout: 60000 })
        .then(() => null)
        .catch((e) => `${e.stdout}\n${e.stderr}`);
      assert.equal(result, null, `example ${name} failed:\n${result}`);
    } finally {
      rmSync(file, { force: true });
      assert.equal(await server.stop(), 0);
    }
  });
}
