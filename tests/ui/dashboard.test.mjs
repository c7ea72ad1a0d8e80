// The dashboard (/_flareq/ui/) in Debian's chromium, headless, driven by
// playwright-core: a user's session from the token to a purge, checked on
// the page and against the API, with a screenshot of each step in
// build/ui-screenshots/ (FLAREQ_SCREENSHOTS).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startFlareq } from '../compat/flareq.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = process.env.FLAREQ_SCREENSHOTS || path.join(here, '../../build/ui-screenshots');
mkdirSync(shots, { recursive: true });
const TOKEN = 'ui-token';

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // The machine's network is closed: no background connections.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
});

// Runs body with a fresh flareq and a page on its dashboard; stops both.
async function withDashboard(args, body) {
  const server = await startFlareq(['--api-token', TOKEN, ...args]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await page.goto(`http://127.0.0.1:${server.port}/_flareq/ui/`);
    await body(page, server);
    assert.deepEqual(pageErrors, [], 'the page threw');
  } finally {
    await context.close();
    assert.equal(await server.stop(), 0);
  }
}

// The API itself, for what the page is checked against.
async function call(server, method, route, body) {
  const res = await fetch(`http://127.0.0.1:${server.port}${route}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function login(page, token) {
  await page.fill('#token', token);
  await page.click('#login button[type=submit]');
}

test('a session: token, queue, two messages, pull and ack, events, purge', async () => {
  await withDashboard([], async (page, server) => {
    // The page is served without credentials, never framed, and its own only.
    const served = await fetch(`http://127.0.0.1:${server.port}/_flareq/ui/`);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(served.headers.get('x-frame-options'), 'DENY');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.match(served.headers.get('content-security-policy'), /default-src 'self'/);

    // A wrong token: the API's own words, and the form stays.
    await page.waitForSelector('#login:not([hidden])');
    await shot(page, '01-token');
    await login(page, 'not-the-token');
    const refused = await fetch(`http://127.0.0.1:${server.port}/_flareq/queues`, {
      headers: { Authorization: 'Bearer not-the-token' },
    }).then((r) => r.json());
    const words = refused.errors[0].message;
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.textContent('#error'), `${words} (code ${refused.errors[0].code})`);
    assert.equal(await page.isVisible('#login'), true);
    assert.equal(await page.isVisible('#main'), false);
    await shot(page, '02-wrong-token');

    // The right one: the dashboard, live.
    await login(page, TOKEN);
    await page.waitForSelector('#main:not([hidden])');
    assert.equal(await page.isVisible('#error'), false);
    await page.waitForSelector('#live.on');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('flareq-token')), TOKEN);

    // Create a queue (with an http_pull consumer, so that pull works).
    await page.fill('#new-account', 'acc-ui');
    await page.fill('#new-queue', 'orders');
    await page.click('#create-queue button[type=submit]');
    await page.waitForSelector('#queue:not([hidden])');
    await page.waitForSelector('#queue-list .queue-row.selected >> text=orders');
    const listed = await call(server, 'GET', '/accounts/acc-ui/queues');
    assert.equal(listed.result.length, 1);
    const queueId = listed.result[0].queue_id;
    assert.match(await page.textContent('#queue-title'), new RegExp(queueId));
    assert.match(await page.textContent('#consumer'), /http_pull/);
    await shot(page, '03-queue-created');

    // A text and a json message.
    await page.fill('#send-body', 'hello from the dashboard');
    await page.selectOption('#send-type', 'text');
    await page.click('#send button[type=submit]');
    await page.waitForSelector('#stat-count >> text=1');
    await page.fill('#send-body', '{"order":42,"items":["tea"]}');
    await page.selectOption('#send-type', 'json');
    await page.click('#send button[type=submit]');
    await page.waitForSelector('#stat-count >> text=2');
    await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr').length === 2);
    const bodies = await page.$$eval('#messages tbody pre', (els) => els.map((e) => e.textContent));
    assert.deepEqual(bodies, ['hello from the dashboard',
                              JSON.stringify({ order: 42, items: ['tea'] }, null, 2)]);
    const states = await page.$$eval('#messages tbody .state', (els) => els.map((e) => e.textContent));
    assert.deepEqual(states, ['ready', 'ready']);
    const metrics = await call(server, 'GET', `/accounts/acc-ui/queues/${queueId}/metrics`);
    assert.equal(metrics.result.backlog_count, 2);
    assert.equal(await page.textContent('#queue-list .queue-row.selected .count'), '2');
    // The chart: steps up to 2, drawn as one line.
    assert.equal(await page.textContent('#chart text'), 'max 2');
    assert.ok((await page.getAttribute('#chart polyline', 'points')).split(' ').length >= 4);
    await shot(page, '04-two-messages');

    // Pull one (the oldest: the text one), see it leased, ack it.
    await page.fill('#pull-size', '1');
    await page.click('#pull');
    await page.waitForSelector('#pulled .lease');
    assert.match(await page.textContent('#pulled .lease pre'), /hello from the dashboard/);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#messages tbody .state')].map((e) => e.textContent).join() ===
      'leased,ready');
    await shot(page, '05-pulled');
    await page.click('#pulled .lease .ack');
    await page.waitForSelector('#stat-count >> text=1');
    await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr').length === 1);
    assert.equal((await call(server, 'GET', `/accounts/acc-ui/queues/${queueId}/metrics`))
      .result.backlog_count, 1);

    // The event stream told the story, in order.
    await page.waitForSelector('#events li[data-type=acked]');
    const told = await page.$$eval('#events li', (els) => els.map((e) => e.dataset.type).reverse());
    assert.deepEqual(told, ['queue_created', 'queue_updated', 'pushed', 'pushed', 'leased', 'acked']);
    await shot(page, '06-acked');

    // Live: a push by someone else shows up without a reload.
    await call(server, 'POST', `/accounts/acc-ui/queues/${queueId}/messages`,
               { body: 'from elsewhere', content_type: 'text' });
    await page.waitForSelector('#stat-count >> text=2');
    await page.waitForSelector('#messages tbody pre >> text=from elsewhere');

    // Purge (two clicks), then 0.
    await page.click('#purge');
    assert.match(await page.textContent('#purge'), /again/);
    await page.click('#purge');
    await page.waitForSelector('#stat-count >> text=0');
    await page.waitForSelector('#events li[data-type=purged]');
    await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr').length === 0);
    assert.equal((await call(server, 'GET', `/accounts/acc-ui/queues/${queueId}/metrics`))
      .result.backlog_count, 0);
    await shot(page, '07-purged');
  });
});

test('the token is asked once per tab, and an API error shows its message', async () => {
  await withDashboard([], async (page, server) => {
    // A malformed token is refused (400) and not kept.
    await login(page, 'not a token');
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error'), /\(code \d+\)$/);
    assert.equal(await page.isVisible('#login'), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('flareq-token')), null);
    await login(page, TOKEN);
    await page.waitForSelector('#main:not([hidden])');
    await page.reload();
    await page.waitForSelector('#main:not([hidden])');
    assert.equal(await page.isVisible('#login'), false);

    // A queue name the API refuses: its message, not a blank screen.
    await page.fill('#new-account', 'acc-ui');
    await page.fill('#new-queue', 'not a name!');
    await page.click('#create-queue button[type=submit]');
    await page.waitForSelector('#error:not([hidden])');
    const direct = await call(server, 'POST', '/accounts/acc-ui/queues', { queue_name: 'not a name!' });
    assert.equal(direct.success, false);
    assert.equal(await page.textContent('#error'),
                 `${direct.errors[0].message} (code ${direct.errors[0].code})`);
    assert.equal(await page.isVisible('#main'), true);
    await shot(page, '08-api-error');
  });
});

test('the manual clock: a delayed message becomes ready when the clock is advanced', async () => {
  await withDashboard(['--clock', 'manual:1795981552000'], async (page, server) => {
    await login(page, TOKEN);
    await page.waitForSelector('#clock-form:not([hidden])');
    assert.equal(await page.textContent('#clock-mode'), 'manual');
    await call(server, 'POST', '/accounts/acc-ui/queues', { queue_name: 'later' });
    await page.waitForSelector('#queue-list .queue-row >> text=later');
    await page.click('#queue-list .queue-row >> text=later');
    await page.fill('#send-body', 'in a minute');
    await page.fill('#send-delay', '60');
    await page.click('#send button[type=submit]');
    await page.waitForSelector('#messages tbody .state.delayed');
    const due = new Date(1795981552000 + 60000).toISOString().replace('T', ' ').replace('Z', '');
    assert.match(await page.textContent('#messages tbody tr'), new RegExp(`due ${due}`));
    await page.fill('#clock-advance', '60000');
    await page.click('#clock-form button[type=submit]');
    await page.waitForSelector('#messages tbody .state.ready');
    await page.waitForSelector('#events li[data-type=ready]');
    const clock = await call(server, 'GET', '/_flareq/clock');
    assert.equal(clock.result.now_ms, 1795981552000 + 60000);
    assert.equal(await page.textContent('#clock-now'), clock.result.now);
    await shot(page, '09-manual-clock');
    // Another client moves the clock, with nothing falling due: its
    // clock_moved event brings the page's clock and ages along.
    await call(server, 'POST', '/_flareq/clock', { advance_ms: 3600000 });
    const moved = await call(server, 'GET', '/_flareq/clock');
    await page.waitForSelector(`#clock-now >> text=${moved.result.now}`);
    await page.waitForSelector('#stat-age >> text=61 min');
    await page.waitForSelector('#events li[data-type=clock_moved]');
  });
});

test('peek, retry, pause and resume, the state filter and paging', async () => {
  await withDashboard([], async (page, server) => {
    const made = await call(server, 'POST', '/accounts/acc-ui/queues', { queue_name: 'many' });
    const q = `/accounts/acc-ui/queues/${made.result.queue_id}`;
    await call(server, 'POST', `${q}/consumers`, { type: 'http_pull' });
    await call(server, 'POST', `${q}/messages/batch`, {
      messages: Array.from({ length: 25 }, (_, i) => ({ body: `m${i}`, content_type: 'text' })),
    });
    await login(page, TOKEN);
    await page.click('#queue-list .queue-row >> text=many');
    await page.waitForSelector('#page-info >> text=page 1 of 2 · 25 messages');
    assert.equal(await page.$$eval('#messages tbody tr', (r) => r.length), 20);
    await page.click('#page-next');
    await page.waitForSelector('#page-info >> text=page 2 of 2');
    assert.deepEqual(await page.$$eval('#messages tbody pre', (e) => e.map((x) => x.textContent)),
                     ['m20', 'm21', 'm22', 'm23', 'm24']);

    // Peek leases nothing.
    await page.fill('#pull-size', '2');
    await page.click('#peek');
    await page.waitForSelector('#pulled .lease >> text=m0');
    assert.equal(await page.$$eval('#pulled .ack', (b) => b.length), 0);
    assert.equal((await call(server, 'POST', `${q}/messages/peek`, { batch_size: 100 }))
      .result.messages.length, 25);

    // Pull two, retry one: it is ready again, the other stays leased.
    await page.click('#pull');
    await page.waitForSelector('#pulled .lease .retry');
    await page.click('#pulled .lease:first-child .retry');
    await page.waitForFunction(() => document.querySelectorAll('#pulled .lease').length === 1);
    await page.selectOption('#state-filter', 'leased');
    await page.waitForSelector('#page-info >> text=page 1 of 1 · 1 messages');
    assert.deepEqual(await page.$$eval('#messages tbody pre', (e) => e.map((x) => x.textContent)),
                     ['m1']);
    await page.selectOption('#state-filter', 'ready');
    await page.waitForSelector('#page-info >> text=24 messages');
    await page.waitForSelector('#events li[data-type=retried]');

    // Pause: the API says so, and pull is refused with its own message.
    await page.click('#pause');
    await page.waitForSelector('#stat-paused >> text=paused');
    assert.equal((await call(server, 'GET', q)).result.settings.delivery_paused, true);
    await page.click('#pull');
    await page.waitForSelector('#error:not([hidden])');
    const refused = await call(server, 'POST', `${q}/messages/pull`, { batch_size: 1 });
    assert.equal(await page.textContent('#error'),
                 `${refused.errors[0].message} (code ${refused.errors[0].code})`);
    await shot(page, '10-paused');
    await page.click('#pause');
    await page.waitForSelector('#stat-paused >> text=on');
    assert.equal((await call(server, 'GET', q)).result.settings.delivery_paused, false);
    await page.click('#pull');
    await page.waitForSelector('#error', { state: 'hidden' });
  });
});
