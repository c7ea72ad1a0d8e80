// flareq's dashboard (server/ui/): plain JavaScript, no library. It calls
// the API with the token the user gave (sessionStorage, this tab only) and
// stays live by reading the journal's event stream (server-sent events over
// fetch, which can send the Authorization header that EventSource cannot):
// each event refreshes what it touched. Nothing polls the server on a timer;
// a local timer only redraws ages and the chart.
'use strict';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'flareq-token';
const CHART_MS = 10 * 60 * 1000;
const PER_PAGE = 20;

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  queues: [],         // GET /_flareq/queues
  selected: null,     // {account, queue}
  page: 1,
  history: new Map(), // "account/queue" -> [{t, count}]
  events: [],         // the newest last, at most 500
  pulled: [],         // messages leased through this page
  clock: { mode: 'system', offset: 0, now_ms: 0 },
  stream: null,       // AbortController of the event stream
  purgeArmed: false,
};

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// ---- the API ---------------------------------------------------------------

async function api(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: said below
  }
  if (!res.ok || !data || data.success === false) {
    const e = data && Array.isArray(data.errors) && data.errors[0];
    throw new ApiError(e ? `${e.message} (code ${e.code})` : `HTTP ${res.status} from ${path}`,
                       res.status);
  }
  return data;
}

const queuePath = (q) =>
  `/accounts/${encodeURIComponent(q.account)}/queues/${encodeURIComponent(q.queue)}`;

function showError(err) {
  const box = $('error');
  box.textContent = err instanceof Error ? err.message : String(err);
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

// Runs a user's action: its error is shown, a success clears the last one.
async function act(fn) {
  try {
    await fn();
    clearError();
  } catch (err) {
    showError(err);
  }
}

// ---- formatting ------------------------------------------------------------

function nowMs() {
  return state.clock.mode === 'manual' ? state.clock.now_ms : Date.now() + state.clock.offset;
}

// The age of a queue's oldest message; '-' when the queue is empty (its
// timestamp is then 0, which a message pushed at 0 on a manual clock has too).
function age(ms, count) {
  if (!count) return '-';
  const s = Math.max(0, Math.round((nowMs() - ms) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const time = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// A body as people read it: JSON pretty-printed, text as it is.
function bodyText(body, contentType) {
  if (contentType === 'json' || typeof body !== 'string') {
    return typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  }
  return body;
}

// A pulled or peeked message's body: json ones come base64-encoded.
function deliveredBody(m) {
  if (m.metadata && m.metadata['CF-Content-Type'] === 'json') {
    try {
      const raw = new TextDecoder().decode(Uint8Array.from(atob(m.body), (c) => c.charCodeAt(0)));
      return JSON.stringify(JSON.parse(raw), null, 2);
    } catch {
      return m.body;
    }
  }
  return m.body;
}

// ---- what the page shows ---------------------------------------------------

function selectedQueue() {
  if (!state.selected) return null;
  return state.queues.find((q) => q.account_id === state.selected.account &&
                                  q.queue_id === state.selected.queue) || null;
}

function renderQueues() {
  const list = $('queue-list');
  list.replaceChildren();
  if (state.queues.length === 0) {
    list.append(el('p', { class: 'hint' }, 'No queues yet: create one below, or push to one.'));
  }
  const accounts = new Map();
  for (const q of state.queues) {
    if (!accounts.has(q.account_id)) accounts.set(q.account_id, []);
    accounts.get(q.account_id).push(q);
  }
  for (const [account, queues] of accounts) {
    const box = el('div', { class: 'account' }, el('div', {}, `account ${account}`));
    for (const q of queues) {
      const m = q.metrics;
      const isSelected = state.selected && state.selected.account === account &&
                         state.selected.queue === q.queue_id;
      box.append(el('button', {
        type: 'button',
        class: `queue-row${isSelected ? ' selected' : ''}`,
        'data-queue': q.queue_id,
        onclick: () => select(account, q.queue_id),
      }, el('b', {}, q.queue_name), el('span', { class: 'count' }, String(m.backlog_count)),
         el('small', {}, `${bytes(m.backlog_bytes)} · oldest ${age(m.oldest_message_timestamp_ms, m.backlog_count)}`)));
    }
    list.append(box);
  }
}

function renderQueue() {
  const q = selectedQueue();
  $('queue').hidden = !q;
  if (!q) return;
  $('queue-title').textContent = `${q.queue_name} (${q.queue_id}) in ${q.account_id}`;
  $('stat-count').textContent = String(q.metrics.backlog_count);
  $('stat-bytes').textContent = bytes(q.metrics.backlog_bytes);
  $('stat-age').textContent = age(q.metrics.oldest_message_timestamp_ms, q.metrics.backlog_count);
  const paused = q.settings && q.settings.delivery_paused;
  $('stat-paused').textContent = paused ? 'paused' : 'on';
  $('pause').textContent = paused ? 'Resume delivery' : 'Pause delivery';
  renderConsumer(q);
  renderChart();
  renderEvents();
}

function renderConsumer(q) {
  const box = $('consumer');
  box.replaceChildren();
  const c = (q.consumers || [])[0];
  if (!c) {
    box.append(el('p', { class: 'hint' }, 'No consumer: pull needs an http_pull consumer. '),
               el('button', { type: 'button', id: 'add-consumer', onclick: addConsumer },
                  'Add an http_pull consumer'));
    return;
  }
  const dl = el('dl');
  const rows = [['type', c.type], ['consumer id', c.consumer_id],
                ['dead-letter queue', c.dead_letter_queue || '(none)'],
                ...Object.entries(c.settings || {})];
  for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, String(v)));
  box.append(dl);
}

function renderChart() {
  const svg = $('chart');
  const q = selectedQueue();
  const points = q ? state.history.get(`${q.account_id}/${q.queue_id}`) || [] : [];
  const end = Date.now();
  // The last 10 minutes, or less while the page has seen less.
  const start = Math.max(end - CHART_MS, points.length ? points[0].t - 500 : end - CHART_MS);
  const span = end - start;
  const seconds = Math.max(1, Math.round(span / 1000));
  $('chart-span').textContent = span >= 120000 ? `${Math.round(span / 60000)} minutes`
                                : `${seconds} second${seconds === 1 ? '' : 's'}`;
  const max = Math.max(1, ...points.map((p) => p.count));
  const xy = [];
  let last = null;
  for (const p of points) {
    if (p.t < start) {
      last = p;
      continue;
    }
    if (last && xy.length === 0) xy.push([start, last.count]);
    if (xy.length) xy.push([p.t, xy[xy.length - 1][1]]);  // a step, not a slope
    xy.push([p.t, p.count]);
  }
  if (xy.length === 0 && last) xy.push([start, last.count]);
  if (xy.length) xy.push([end, xy[xy.length - 1][1]]);
  const line = xy.map(([t, c]) =>
    `${((t - start) / span * 600).toFixed(1)},${(76 - c / max * 72).toFixed(1)}`).join(' ');
  const ns = 'http://www.w3.org/2000/svg';
  const poly = document.createElementNS(ns, 'polyline');
  poly.setAttribute('points', line);
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '4');
  label.setAttribute('y', '12');
  label.setAttribute('font-size', '10');
  label.setAttribute('fill', '#6b7380');
  label.textContent = `max ${max}`;
  svg.replaceChildren(poly, label);
}

function renderEvents() {
  const list = $('events');
  list.replaceChildren();
  const q = selectedQueue();
  if (!q) return;
  const mine = state.events.filter((e) =>
    (e.account_id === q.account_id && (e.queue_id === q.queue_id || e.to_queue_id === q.queue_id)) ||
    e.type === 'reset' || e.type === 'snapshot_restored' || e.type === 'clock_moved');
  for (const e of mine.slice(-100).reverse()) {
    const what = [e.message_id ? `message ${e.message_id}` : '',
                  e.attempt ? `attempt ${e.attempt}` : '',
                  e.count !== undefined ? `${e.count} messages` : '',
                  e.to_queue_id ? `to ${e.to_queue_id}` : ''].filter(Boolean).join(', ');
    list.append(el('li', { 'data-type': e.type }, el('span', { class: 'type' }, e.type), ' ',
                   el('code', {}, what), ' ', el('small', {}, time(e.at_ms))));
  }
}

async function loadMessages() {
  const q = selectedQueue();
  if (!q) return;
  const filter = $('state-filter').value;
  const data = await api('GET', `/_flareq/queues/${encodeURIComponent(q.account_id)}/` +
    `${encodeURIComponent(q.queue_id)}/messages?page=${state.page}&per_page=${PER_PAGE}` +
    (filter ? `&state=${filter}` : ''));
  const info = data.result_info;
  const pages = Math.max(1, info.total_pages);
  if (state.page > pages) {
    state.page = pages;
    return loadMessages();
  }
  $('page-info').textContent = `page ${info.page} of ${pages} · ${info.total_count} messages`;
  $('page-prev').disabled = state.page <= 1;
  $('page-next').disabled = state.page >= pages;
  const body = $('messages').tBodies[0];
  body.replaceChildren();
  for (const m of data.result) {
    const when = m.state === 'ready' ? '' :
      `${m.state === 'leased' ? 'lease ends' : 'due'} ${time(m.visible_at_ms)}`;
    body.append(el('tr', { 'data-id': m.id },
      el('td', {}, el('code', {}, m.id)),
      el('td', {}, el('span', { class: `state ${m.state}` }, m.state)),
      el('td', {}, String(m.attempts)),
      el('td', {}, when),
      el('td', {}, el('pre', {}, bodyText(m.body, m.content_type)))));
  }
}

function renderPulled(title, messages, leased) {
  const box = $('pulled');
  box.replaceChildren();
  if (!messages) return;
  if (messages.length === 0) {
    box.append(el('p', { class: 'hint' }, `${title}: no ready message.`));
    return;
  }
  for (const m of messages) {
    const item = el('div', { class: 'lease', 'data-id': m.id },
      el('div', {}, el('code', {}, m.id), ` · attempts ${m.attempts}`),
      el('pre', {}, deliveredBody(m)));
    if (leased) {
      item.append(el('button', { type: 'button', class: 'ack', onclick: () => settle(m, 'ack') }, 'Ack'), ' ',
                  el('button', { type: 'button', class: 'retry', onclick: () => settle(m, 'retry') }, 'Retry'));
    }
    box.append(item);
  }
}

// ---- loading, and staying live ---------------------------------------------

async function loadClock() {
  const data = await api('GET', '/_flareq/clock');
  const c = data.result;
  state.clock = { mode: c.mode, now_ms: c.now_ms, offset: c.now_ms - Date.now() };
  $('clock').hidden = false;
  $('clock-mode').textContent = c.mode;
  $('clock-now').textContent = c.now;
  $('clock-form').hidden = c.mode !== 'manual';
}

async function refresh() {
  const data = await api('GET', '/_flareq/queues');
  state.queues = data.result;
  await loadClock();  // another client may have moved a manual clock
  const t = Date.now();
  for (const q of state.queues) {
    const key = `${q.account_id}/${q.queue_id}`;
    const h = state.history.get(key) || [];
    if (!h.length || h[h.length - 1].count !== q.metrics.backlog_count) {
      h.push({ t, count: q.metrics.backlog_count });
    }
    while (h.length > 2 && h[1].t < t - CHART_MS) h.shift();
    state.history.set(key, h);
  }
  if (state.selected && !selectedQueue()) state.selected = null;
  renderQueues();
  renderQueue();
  await loadMessages();
}

let refreshTimer = null;
// Many events in a row refresh once.
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh().catch(showError);
  }, 250);
}

function setLive(on) {
  $('live').textContent = on ? 'live' : 'offline';
  $('live').className = `live ${on ? 'on' : 'off'}`;
}

// Reads /_flareq/events/stream from now on. After a drop it connects again
// from now on, and refreshes: what changed meanwhile shows, and a restarted
// flareq (whose event ids start again) is followed too. Only a refused
// token ends it.
async function stream() {
  const controller = new AbortController();
  state.stream = controller;
  let dropped = false;  // an error the stream showed, cleared when it is back
  while (!controller.signal.aborted) {
    try {
      const res = await fetch('/_flareq/events/stream?after=now', {
        headers: { Authorization: `Bearer ${state.token}` },
        signal: controller.signal,
      });
      if (!res.ok) {
        const data = await res.json().catch(() => null);
        const e = data && data.errors && data.errors[0];
        throw new ApiError(e ? `${e.message} (code ${e.code})` : `HTTP ${res.status}`, res.status);
      }
      setLive(true);
      if (dropped) clearError();
      dropped = false;
      refreshSoon();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let data = null;
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) data = JSON.parse(line.slice(6));
          }
          if (!data) continue;  // a comment: the keep-alive
          state.events.push(data);
          if (state.events.length > 500) state.events.shift();
          refreshSoon();
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      if (err instanceof ApiError) {
        setLive(false);
        showError(err);
        dropped = true;
        if (err.status === 401 || err.status === 403) return;
      }
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---- actions ---------------------------------------------------------------

function select(account, queue) {
  state.selected = { account, queue };
  state.page = 1;
  state.pulled = [];
  state.purgeArmed = false;
  $('purge').textContent = 'Purge';
  renderPulled('', null, false);
  act(refresh);
}

async function addConsumer() {
  await act(async () => {
    await api('POST', `${queuePath(state.selected)}/consumers`, { type: 'http_pull' });
    await refresh();
  });
}

async function settle(m, how) {
  await act(async () => {
    const body = how === 'ack' ? { acks: [{ lease_id: m.lease_id }] }
                               : { retries: [{ lease_id: m.lease_id }] };
    const data = await api('POST', `${queuePath(state.selected)}/messages/ack`, body);
    const warning = Object.values(data.result.warnings || {})[0];
    if (warning) throw new Error(`${how}: ${warning}`);
    state.pulled = state.pulled.filter((p) => p.lease_id !== m.lease_id);
    renderPulled('Pull', state.pulled.length ? state.pulled : null, true);
    await refresh();
  });
}

function wire() {
  $('login').addEventListener('submit', async (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    await start();
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  $('create-queue').addEventListener('submit', (e) => {
    e.preventDefault();
    act(async () => {
      const account = $('new-account').value.trim();
      const data = await api('POST', `/accounts/${encodeURIComponent(account)}/queues`,
                             { queue_name: $('new-queue').value.trim() });
      const q = { account, queue: data.result.queue_id };
      if ($('new-consumer').checked) {
        await api('POST', `${queuePath(q)}/consumers`, { type: 'http_pull' });
      }
      $('new-queue').value = '';
      state.selected = q;
      state.page = 1;
      await refresh();
    });
  });
  $('send').addEventListener('submit', (e) => {
    e.preventDefault();
    act(async () => {
      const type = $('send-type').value;
      const text = $('send-body').value;
      let body = text;
      if (type === 'json') {
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new Error(`The body is not JSON: ${err.message}`);
        }
      }
      await api('POST', `${queuePath(state.selected)}/messages`,
                { body, content_type: type, delay_seconds: Number($('send-delay').value) || 0 });
      $('send-body').value = '';
      await refresh();
    });
  });
  $('pull').addEventListener('click', () => act(async () => {
    const data = await api('POST', `${queuePath(state.selected)}/messages/pull`,
                           { batch_size: Number($('pull-size').value) || 1 });
    state.pulled = data.result.messages;
    renderPulled('Pull', state.pulled, true);
    await refresh();
  }));
  $('peek').addEventListener('click', () => act(async () => {
    const data = await api('POST', `${queuePath(state.selected)}/messages/peek`,
                           { batch_size: Number($('pull-size').value) || 1 });
    renderPulled('Peek', data.result.messages, false);
  }));
  $('pause').addEventListener('click', () => act(async () => {
    const q = selectedQueue();
    const paused = !!(q.settings && q.settings.delivery_paused);
    await api('PATCH', queuePath(state.selected), { settings: { delivery_paused: !paused } });
    await refresh();
  }));
  $('purge').addEventListener('click', () => act(async () => {
    // Two clicks: the first asks.
    if (!state.purgeArmed) {
      state.purgeArmed = true;
      $('purge').textContent = 'Click again to purge every message';
      return;
    }
    state.purgeArmed = false;
    $('purge').textContent = 'Purge';
    await api('POST', `${queuePath(state.selected)}/purge`, { delete_messages_permanently: true });
    state.pulled = [];
    renderPulled('', null, false);
    await refresh();
  }));
  $('state-filter').addEventListener('change', () => {
    state.page = 1;
    act(loadMessages);
  });
  $('page-prev').addEventListener('click', () => {
    state.page = Math.max(1, state.page - 1);
    act(loadMessages);
  });
  $('page-next').addEventListener('click', () => {
    state.page += 1;
    act(loadMessages);
  });
  $('clock-form').addEventListener('submit', (e) => {
    e.preventDefault();
    act(async () => {
      await api('POST', '/_flareq/clock', { advance_ms: Number($('clock-advance').value) });
      await loadClock();
      await refresh();
    });
  });
  // Ages and the chart move with time; nothing is asked of the server.
  setInterval(() => {
    if ($('main').hidden) return;
    renderQueues();
    renderChart();
    const q = selectedQueue();
    if (q) $('stat-age').textContent = age(q.metrics.oldest_message_timestamp_ms, q.metrics.backlog_count);
  }, 5000);
}

// Checks the token with a first load: only a token that loads is kept; a
// failure (a refused or malformed token, flareq not answering) shows its
// error and the form again.
async function start() {
  try {
    await refresh();
  } catch (err) {
    showError(err);
    sessionStorage.removeItem(TOKEN_KEY);
    $('main').hidden = true;
    $('login').hidden = false;
    $('sign-out').hidden = true;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  clearError();
  $('login').hidden = true;
  $('main').hidden = false;
  $('sign-out').hidden = false;
  if (!state.stream) stream();
}

wire();
if (state.token) {
  start();
} else {
  $('login').hidden = false;
}
