// obsforge console: fills the server's page shells from the REST API and keeps them live
// (GET /api/v1/events). No framework; every value goes into the page as text, never as markup,
// except the overview tiles, which the server renders (and escapes) itself.
'use strict';

(() => {
  const TOKEN_KEY = 'obsforge.token';
  const body = document.body;
  const page = body.dataset.page;
  const tokensRequired = body.dataset.tokens === 'required';
  const ROLES = { none: 0, viewer: 1, editor: 2, admin: 3 };
  let role = tokensRequired ? 'none' : 'admin';

  // ---- small helpers -------------------------------------------------------------------------
  const $ = (sel, root = document) => root.querySelector(sel);
  const enc = encodeURIComponent;
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children.flat(Infinity)) {
      if (c !== undefined && c !== null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function severity(state) {
    if (['down', 'failed', 'failing', 'rolled_back'].includes(state)) return 's-bad';
    if (['degraded', 'superseded'].includes(state)) return 's-warn';
    if (['ok', 'succeeded', 'ready', 'running', 'applied', 'unchanged'].includes(state)) return 's-ok';
    return 's-none';
  }
  const badge = (state) => el('span', { class: 'badge ' + severity(state || ''), text: state || 'none' });
  const time = (iso) => (iso ? el('time', { datetime: iso, text: iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z') }) : '');
  const link = (href, text) => el('a', { href }, text);
  const stackUrl = (s) => '/stacks/' + enc(s);
  const envUrl = (s, e) => stackUrl(s) + '/environments/' + enc(e);
  const opUrl = (id) => '/operations/' + enc(id);
  function table(headers, rows) {
    return el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', { text: h })))),
      el('tbody', {}, rows)));
  }
  function kv(pairs) {
    return el('dl', { class: 'kv' }, pairs.filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== '')
      .map(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
  }
  function fmtMs(ms) {
    if (ms === undefined || ms === null) return '';
    return ms < 1000 ? ms.toFixed(ms < 10 ? 1 : 0) + ' ms' : (ms / 1000).toFixed(2) + ' s';
  }
  function duration(from, to) {
    if (!from) return '';
    const end = to ? Date.parse(to) : Date.now();
    return fmtMs(Math.max(0, end - Date.parse(from)));
  }
  const can = (needed) => ROLES[role] >= ROLES[needed];
  function view() {
    return $('#view') || $('#main');
  }
  function show(...nodes) {
    const v = view();
    v.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== '' && n !== null && n !== undefined && n !== false));
  }
  function fail(err) {
    if (err && err.auth) return;
    show(el('p', { class: 'msg', text: String(err && err.message ? err.message : err) }));
  }

  // ---- the REST API, with the token from sessionStorage --------------------------------------
  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }
  async function api(path, opts = {}) {
    const res = await fetch(path, Object.assign({}, opts, { headers: headers(opts.headers) }));
    if (res.status === 401) {
      askToken(sessionStorage.getItem(TOKEN_KEY) ? 'that token was refused' : '');
      const err = new Error('sign in first');
      err.auth = true;
      throw err;
    }
    const type = res.headers.get('content-type') || '';
    const data = type.includes('json') ? await res.json() : await res.text();
    if (!res.ok) {
      const e = data && data.error ? data.error : null;
      throw new Error(e ? (e.message || e.code) + (e.details ? ': ' + JSON.stringify(e.details) : '') : 'HTTP ' + res.status);
    }
    return data;
  }
  const post = (path, json) => api(path, {
    method: 'POST',
    headers: json === undefined ? {} : { 'Content-Type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });

  // ---- sign-in ---------------------------------------------------------------------------------
  let started = false;
  function askToken(message) {
    const form = $('#login');
    form.hidden = false;
    $('#login-error').textContent = message || '';
    $('#token').focus();
  }
  $('#login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
    $('#token').value = '';
    $('#login').hidden = true;
    start();
  });
  async function whoami() {
    const me = await api('/api/v1/whoami');
    role = me.role;
    const who = $('#who');
    who.replaceChildren(document.createTextNode((me.actor || 'local') + ' (' + me.role + ')'));
    if (tokensRequired) {
      who.append(' ', el('a', {
        href: '#', text: 'sign out',
        onclick: (ev) => { ev.preventDefault(); sessionStorage.removeItem(TOKEN_KEY); location.reload(); },
      }));
    }
  }

  // ---- live updates: Server-Sent Events read with fetch, so that the token goes along ----------
  const listeners = [];
  const onEvent = (fn) => listeners.push(fn);
  function dispatch(type, data) {
    for (const fn of listeners) {
      try { fn(type, data); } catch (e) { console.error(e); }
    }
  }
  function setLive(on) {
    const live = $('#live');
    live.classList.toggle('on', on);
    live.textContent = on ? 'live' : 'reconnecting';
  }
  async function listen() {
    for (;;) {
      try {
        const res = await fetch('/api/v1/events', { headers: headers(), cache: 'no-store' });
        if (res.status === 401) { askToken('sign in again'); return; }
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        setLive(true);
        dispatch('resync', {});  // whatever happened while not connected
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data) dispatch(type, JSON.parse(data));
          }
        }
      } catch (e) {
        // reconnect below
      }
      setLive(false);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  // Calls `fn` at most once per `ms`, and once more after the last call.
  function coalesce(fn, ms) {
    let timer = null;
    let again = false;
    return () => {
      if (timer) { again = true; return; }
      fn();
      timer = setTimeout(function tick() {
        timer = null;
        if (again) { again = false; fn(); timer = setTimeout(tick, ms); }
      }, ms);
    };
  }

  // ---- overview --------------------------------------------------------------------------------
  function applyFilter() {
    const input = $('#filter');
    const terms = (input ? input.value : '').toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    const tiles = document.querySelectorAll('#tiles .tile');
    for (const tile of tiles) {
      const hay = [tile.dataset.stack, tile.dataset.env, tile.dataset.state].join(' ').toLowerCase();
      const labels = (tile.dataset.labels || '').toLowerCase().split(' ');
      const match = terms.every((t) => (t.includes('=') ? labels.includes(t) : hay.includes(t)));
      tile.classList.toggle('hidden', !match);
      if (match) shown++;
    }
    const counts = $('#counts');
    if (counts) counts.textContent = tiles.length ? shown + ' of ' + tiles.length + ' environments' : '';
  }
  async function overview() {
    const input = $('#filter');
    input.value = new URLSearchParams(location.search).get('q') || input.value;
    input.addEventListener('input', () => {
      const q = input.value.trim();
      history.replaceState(null, '', q ? '?q=' + enc(q) : location.pathname);
      applyFilter();
    });
    const refresh = coalesce(async () => {
      try {
        const html = await api('/api/v1/overview?format=html');
        // Rendered and escaped by the server (console::RenderTiles), like the first paint.
        $('#tiles').innerHTML = html;
        applyFilter();
      } catch (e) {
        if (!e.auth) $('#tiles').replaceChildren(el('p', { class: 'msg', text: e.message }));
      }
    }, 500);
    onEvent((type) => {
      if (type === 'health' || type === 'operation' || type === 'resync') refresh();
    });
    applyFilter();
    if (tokensRequired) refresh();  // the first paint had no data without a token
  }

  // ---- stack -----------------------------------------------------------------------------------
  async function stackPage() {
    const name = body.dataset.stack;
    const render = async () => {
      const s = await api('/api/v1/stacks/' + enc(name));
      const envs = Object.entries(s.environments || {});
      const rows = envs.map(([env, e]) => el('tr', {},
        el('td', {}, link(envUrl(name, env), env)),
        el('td', {}, badge(e.state)),
        el('td', { class: 'num', text: e.applied_revision || '' }),
        el('td', { class: 'num', text: e.last_good_revision || '' }),
        el('td', {}, e.last_operation_id ? link(opUrl(e.last_operation_id), e.last_operation_id) : ''),
        el('td', {}, time(e.updated_at)),
        el('td', { class: 'err', text: e.message || '' })));
      const meta = (s.spec && s.spec.metadata) || {};
      show(
        kv([['revision', String(s.revision)], ['updated', time(s.updated_at)],
          ['labels', Object.entries(meta.labels || {}).map(([k, v]) => k + '=' + v).join(' ')],
          ['description', (meta.annotations || {}).description]]),
        el('p', {}, link(stackUrl(name) + '/revisions', 'revisions, diffs and rollback')),
        el('h2', { text: 'Environments' }),
        envs.length ? table(['environment', 'state', 'applied', 'last good', 'last operation', 'updated', 'message'], rows)
          : el('p', { class: 'empty', text: 'No environment applied yet.' }));
    };
    const refresh = coalesce(() => render().catch(fail), 500);
    onEvent((type, d) => { if (type === 'resync' || d.stack === name) refresh(); });
    refresh();
  }

  // ---- environment -----------------------------------------------------------------------------
  const canarySamples = new Map();  // "component/check" -> [[time ms, round trip ms]]
  function timeline(events, components, sinceMs, nowMs) {
    // One band per component (and the environment), coloured by state between transitions.
    const names = ['environment', ...components];
    const width = 900;
    const left = 110;
    const bandH = 16;
    const gap = 6;
    const height = names.length * (bandH + gap) + 24;
    const x = (t) => left + ((t - sinceMs) / (nowMs - sinceMs)) * (width - left - 10);
    const root = svg('svg', { class: 'timeline', viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'health timeline' });
    names.forEach((name, i) => {
      const y = i * (bandH + gap) + 4;
      root.append(svg('text', { x: 4, y: y + 12 }, name));
      const mine = events.filter((e) => (name === 'environment' ? e.scope === 'environment' : e.scope === 'component' && e.component === name))
        .map((e) => ({ ...e, t: Date.parse(e.at) })).sort((a, b) => a.t - b.t);
      let state = mine.length ? mine[0].from : 'none';
      let start = sinceMs;
      let reason = 'no change in this window';
      const segments = [];
      for (const e of mine) {
        if (e.t > start) segments.push([start, e.t, state, reason]);
        state = e.to;
        start = Math.max(e.t, sinceMs);
        reason = e.at + ': ' + e.from + ' \u2192 ' + e.to + (e.message ? ' (' + e.message + ')' : '');
      }
      segments.push([start, nowMs, state, reason]);
      for (const [a, b, s, why] of segments) {
        const rect = svg('rect', { x: x(a), y, width: Math.max(1, x(b) - x(a)), height: bandH, class: 'band-' + (['ok', 'degraded', 'down', 'unknown'].includes(s) ? s : 'none') },
          svg('title', {}, name + ': ' + s + '\n' + why));
        root.append(rect);
      }
    });
    const axisY = names.length * (bandH + gap) + 14;
    root.append(svg('line', { x1: left, x2: width - 10, y1: axisY - 8, y2: axisY - 8, class: 'axis' }));
    root.append(svg('text', { x: left, y: axisY + 6 }, new Date(sinceMs).toISOString().slice(0, 16).replace('T', ' ')));
    root.append(svg('text', { x: width - 10, y: axisY + 6, 'text-anchor': 'end' }, 'now'));
    return root;
  }
  function lineChart(samples) {
    const width = 400;
    const height = 90;
    const ts = samples.map((s) => s[0]);
    const vs = samples.map((s) => s[1]);
    const t0 = Math.min(...ts);
    const t1 = Math.max(...ts, t0 + 1);
    const vmax = Math.max(...vs, 1);
    const pts = samples.map(([t, v]) => (40 + ((t - t0) / (t1 - t0)) * (width - 50)).toFixed(1) + ',' + (height - 15 - (v / vmax) * (height - 25)).toFixed(1)).join(' ');
    return svg('svg', { class: 'chart', viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'canary round trips' },
      svg('text', { x: 2, y: 12 }, fmtMs(vmax)),
      svg('text', { x: 2, y: height - 15 }, '0'),
      svg('polyline', { points: pts }));
  }
  async function environmentPage() {
    const name = body.dataset.stack;
    const env = body.dataset.env;
    let windowHours = 24;
    const base = '/api/v1/stacks/' + enc(name) + '/environments/' + enc(env);
    const render = async () => {
      const nowMs = Date.now();
      const windowMs = nowMs - windowHours * 3600e3;
      const [stack, health, history] = await Promise.all([
        api('/api/v1/stacks/' + enc(name)),
        api(base + '/health'),
        api(base + '/health/history?limit=1000&since=' + windowMs)]);
      // A history younger than the window is drawn across the whole width, not as a sliver.
      const first = Math.min(nowMs, ...(history.events || []).map((e) => Date.parse(e.at)));
      const sinceMs = Math.max(windowMs, first - Math.max(5e3, (nowMs - first) / 10));
      const state = (stack.environments || {})[env] || {};
      const runtime = state.runtime || { components: [] };
      const comps = health.components || [];
      const checkRows = [];
      for (const c of comps) {
        for (const k of c.checks || []) {
          if (k.name.startsWith('canary') && k.last_run) {
            const key = c.name + '/' + k.name;
            const list = canarySamples.get(key) || [];
            if (!list.length || list[list.length - 1][0] !== Date.parse(k.last_run)) list.push([Date.parse(k.last_run), k.duration_ms]);
            canarySamples.set(key, list.slice(-200));
          }
          checkRows.push(el('tr', {},
            el('td', { text: c.name }), el('td', { text: k.name + (k.critical ? ' *' : '') }),
            el('td', {}, badge(k.state)), el('td', {}, time(k.since)), el('td', {}, time(k.last_run)),
            el('td', { class: 'num', text: fmtMs(k.duration_ms) }),
            el('td', { class: 'num', text: k.value === undefined ? '' : String(k.value) }),
            el('td', { class: k.state === 'ok' ? 'stale' : 'err', text: k.last_error || '' })));
        }
      }
      const urlRows = (runtime.components || []).map((c) => el('tr', {},
        el('td', { text: c.name }), el('td', {}, badge(c.state)),
        el('td', {}, /^https?:\/\//.test(c.url || '') ? link(c.url, c.url) : (c.url || '')),
        el('td', { class: 'num', text: c.pid || '' }), el('td', { class: 'num', text: c.restarts || 0 })));
      const actions = el('div', { class: 'actions' },
        link(stackUrl(name) + '/revisions', 'revisions'),
        state.last_operation_id ? link(opUrl(state.last_operation_id), 'last operation') : '',
        can('editor') ? el('button', {
          class: 'primary', id: 'apply', text: 'Apply current spec',
          onclick: async (ev) => {
            ev.target.disabled = true;
            try { const r = await post(base + '/apply'); location.href = opUrl(r.operation.id); } catch (e) { fail(e); }
          },
        }) : '');
      const tabs = el('span', { class: 'tabs' }, [24, 168].map((h) => el('button', {
        class: h === windowHours ? 'on' : '', text: h === 24 ? '24 h' : '7 d',
        onclick: () => { windowHours = h; refresh(); },
      })));
      const canaries = [...canarySamples.entries()].filter(([, s]) => s.length);
      show(
        el('p', {}, 'Health ', el('span', { id: 'env-health' }, badge(health.state)), health.watched ? [' since ', time(health.since)] : ' (not watched)',
          ' \u00b7 state ', badge(state.state), ' \u00b7 revision ', String(state.applied_revision || 'none'), ' of ', String(stack.revision)),
        actions,
        el('h2', {}, 'Health timeline ', tabs),
        timeline(history.events || [], comps.map((c) => c.name), sinceMs, nowMs),
        el('h2', { text: 'Checks' }),
        checkRows.length ? table(['component', 'check', 'state', 'since', 'last run', 'duration', 'value', 'last error'], checkRows)
          : el('p', { class: 'empty', text: 'No checks.' }),
        canaries.length ? [el('h2', { text: 'Canary round trips (while this page is open)' }),
          canaries.map(([key, s]) => el('div', {}, el('div', { text: key }), lineChart(s)))] : '',
        el('h2', { text: 'Components' }),
        urlRows.length ? table(['component', 'state', 'URL', 'pid', 'restarts'], urlRows) : el('p', { class: 'empty', text: 'Nothing running.' }));
    };
    const refresh = coalesce(() => render().catch(fail), 500);
    onEvent((type, d) => { if (type === 'resync' || (d.stack === name && d.env === env)) refresh(); });
    refresh();
    // Check times and canary samples move on between transitions: a slow conditional refresh.
    setInterval(() => { if (!document.hidden) refresh(); }, 15000);
  }

  // ---- diffs -----------------------------------------------------------------------------------
  // Rows of a unified diff ("@@ -a,b +c,d @@" hunks) with old and new line numbers.
  function parseUnified(text) {
    const rows = [];
    let a = 0;
    let b = 0;
    for (const line of (text || '').split('\n')) {
      const h = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      if (h) { a = +h[1]; b = +h[2]; rows.push({ kind: 'hunk', text: line }); continue; }
      if (line.startsWith('---') || line.startsWith('+++')) continue;
      if (line.startsWith('+')) rows.push({ kind: 'add', b: b++, text: line.slice(1) });
      else if (line.startsWith('-')) rows.push({ kind: 'del', a: a++, text: line.slice(1) });
      else if (line.startsWith(' ')) rows.push({ kind: 'same', a: a++, b: b++, text: line.slice(1) });
      else if (line) rows.push({ kind: 'hunk', text: line });
    }
    return rows;
  }
  // Rows of the line diff of two texts (Myers' algorithm), with up to 3 lines of context.
  function lineDiff(oldText, newText) {
    const x = oldText.split('\n');
    const y = newText.split('\n');
    const n = x.length;
    const m = y.length;
    const max = n + m;
    if (max > 40000) return [{ kind: 'hunk', text: 'too large to compare here (' + n + ' and ' + m + ' lines)' }];
    const v = new Int32Array(2 * max + 2);
    const trace = [];
    let found = false;
    for (let d = 0; d <= max && !found; d++) {
      trace.push(v.slice());
      for (let k = -d; k <= d; k += 2) {
        let i = (k === -d || (k !== d && v[max + k - 1] < v[max + k + 1])) ? v[max + k + 1] : v[max + k - 1] + 1;
        let j = i - k;
        while (i < n && j < m && x[i] === y[j]) { i++; j++; }
        v[max + k] = i;
        if (i >= n && j >= m) { found = true; break; }
      }
    }
    const ops = [];
    let i = n;
    let j = m;
    for (let d = trace.length - 1; d >= 0; d--) {
      const vv = trace[d];
      const k = i - j;
      const prevK = (k === -d || (k !== d && vv[max + k - 1] < vv[max + k + 1])) ? k + 1 : k - 1;
      const pi = vv[max + prevK];
      const pj = pi - prevK;
      while (i > pi && j > pj) { ops.push({ kind: 'same', a: i, b: j, text: x[i - 1] }); i--; j--; }
      if (d > 0) {
        if (i === pi) { ops.push({ kind: 'add', b: j, text: y[j - 1] }); j--; } else { ops.push({ kind: 'del', a: i, text: x[i - 1] }); i--; }
      }
    }
    ops.reverse();
    const keep = ops.map(() => false);
    ops.forEach((o, idx) => {
      if (o.kind !== 'same') for (let t = Math.max(0, idx - 3); t <= Math.min(ops.length - 1, idx + 3); t++) keep[t] = true;
    });
    const rows = [];
    let skipped = false;
    ops.forEach((o, idx) => {
      if (keep[idx]) { if (skipped) rows.push({ kind: 'hunk', text: '\u22ef' }); skipped = false; rows.push(o); } else skipped = true;
    });
    return rows;
  }
  function diffTable(rows, sideBySide) {
    const out = [];
    if (!sideBySide) {
      for (const r of rows) {
        if (r.kind === 'hunk') { out.push(el('tr', { class: 'hunk' }, el('td', { colspan: 3, text: r.text }))); continue; }
        out.push(el('tr', { class: r.kind }, el('td', { class: 'ln', text: r.a || '' }), el('td', { class: 'ln', text: r.b || '' }),
          el('td', { class: 'tx', text: (r.kind === 'add' ? '+' : r.kind === 'del' ? '-' : ' ') + r.text })));
      }
    } else {
      for (let idx = 0; idx < rows.length;) {
        const r = rows[idx];
        if (r.kind === 'hunk') { out.push(el('tr', { class: 'hunk' }, el('td', { colspan: 4, text: r.text }))); idx++; continue; }
        if (r.kind === 'same') {
          out.push(el('tr', {}, el('td', { class: 'ln', text: r.a }), el('td', { class: 'tx', text: r.text }),
            el('td', { class: 'ln', text: r.b }), el('td', { class: 'tx', text: r.text })));
          idx++;
          continue;
        }
        const dels = [];
        const adds = [];
        while (idx < rows.length && rows[idx].kind === 'del') dels.push(rows[idx++]);
        while (idx < rows.length && rows[idx].kind === 'add') adds.push(rows[idx++]);
        for (let t = 0; t < Math.max(dels.length, adds.length); t++) {
          const d = dels[t];
          const a = adds[t];
          out.push(el('tr', {}, el('td', { class: 'ln', text: d ? d.a : '' }), el('td', { class: 'tx' + (d ? ' del' : ''), text: d ? d.text : '' }),
            el('td', { class: 'ln', text: a ? a.b : '' }), el('td', { class: 'tx' + (a ? ' add' : ''), text: a ? a.text : '' })));
        }
      }
    }
    return el('div', { class: 'scroll' }, el('table', { class: 'diff mono' }, el('tbody', {}, out)));
  }
  // Files with their diff rows, with a unified / side-by-side switch.
  function diffView(files) {
    let side = window.innerWidth > 900;
    const box = el('div', {});
    const draw = () => {
      box.replaceChildren(
        el('div', { class: 'actions tabs' },
          el('button', { class: side ? '' : 'on', text: 'unified', onclick: () => { side = false; draw(); } }),
          el('button', { class: side ? 'on' : '', text: 'side by side', onclick: () => { side = true; draw(); } })),
        ...files.flatMap((f) => [el('div', { class: 'diff-file' }, f.path, ' ', badge(f.change)),
          f.rows.length ? diffTable(f.rows, side) : el('p', { class: 'empty', text: 'no line changes' })]));
    };
    draw();
    return box;
  }

  // ---- operation -------------------------------------------------------------------------------
  async function operationPage() {
    const id = body.dataset.op;
    let poll = null;
    const render = async () => {
      const op = await api('/api/v1/operations/' + enc(id));
      const rows = (op.steps || []).map((s) => el('tr', {},
        el('td', { text: s.name }), el('td', {}, badge(s.state)), el('td', {}, time(s.started_at)),
        el('td', { class: 'num', text: duration(s.started_at, s.finished_at) }), el('td', { text: s.message || '' })));
      const result = op.result || null;
      const parts = [
        el('p', {}, badge(op.state), ' ', op.kind + ' of ', link(stackUrl(op.stack), op.stack), op.env ? [' \u00b7 ', link(envUrl(op.stack, op.env), op.env)] : '',
          ' \u00b7 revision ' + op.revision),
        kv([['created', time(op.created_at)], ['started', time(op.started_at)], ['finished', time(op.finished_at)],
          ['took', op.started_at ? duration(op.started_at, op.finished_at) : ''], ['by', op.actor],
          ['progress', op.progress ? op.progress.steps_done + ' of ' + op.progress.steps + ' steps' : '']]),
        op.error ? el('p', { class: 'msg', id: 'op-error', text: op.error }) : '',
        el('h2', { text: 'Steps' }),
        rows.length ? table(['step', 'state', 'started', 'took', 'message'], rows) : el('p', { class: 'empty', text: 'No step yet.' }),
      ];
      if (result && Array.isArray(result.files)) {
        parts.push(el('h2', { text: 'Plan' }),
          diffView(result.files.filter((f) => f.change !== 'unchanged').map((f) => ({ path: f.path, change: f.change, rows: parseUnified(f.diff) }))));
      } else if (result) {
        const summary = result.plan || result.summary;
        parts.push(el('h2', { text: 'Result' }), kv([['outcome', result.outcome], ['applied revision', result.applied_revision],
          ['failed component', result.failed_component],
          ['files', summary ? ['added', 'changed', 'removed', 'unchanged'].filter((k) => summary[k] !== undefined).map((k) => summary[k] + ' ' + k).join(', ') : '']]));
        if (op.env && can('editor') && ['create', 'update', 'apply', 'rollback', 'sync'].includes(op.kind)) {
          parts.push(el('p', {}, el('button', {
            text: 'Show what an apply would change now (plan)', onclick: async (ev) => {
              ev.target.disabled = true;
              try {
                const plan = await post('/api/v1/stacks/' + enc(op.stack) + '/environments/' + enc(op.env) + '/plan');
                ev.target.replaceWith(diffView((plan.files || []).filter((f) => f.change !== 'unchanged')
                  .map((f) => ({ path: f.path, change: f.change, rows: parseUnified(f.diff) }))));
              } catch (e) { fail(e); }
            },
          })));
        }
      }
      show(...parts);
      // Queued → running has no event of its own: poll gently until the first step or the end.
      const open = op.state === 'queued' || op.state === 'running';
      if (open && !poll) poll = setInterval(refresh, 2000);
      if (!open && poll) { clearInterval(poll); poll = null; }
    };
    const refresh = coalesce(() => render().catch(fail), 300);
    onEvent((type, d) => { if (type === 'resync' || d.id === id) refresh(); });
    refresh();
  }

  // ---- revisions -------------------------------------------------------------------------------
  function yamlish(value, indent = '') {
    // A stable, line-oriented form of a spec for diffing (keys sorted).
    if (Array.isArray(value)) {
      return value.map((v) => indent + '- ' + (typeof v === 'object' && v !== null ? '\n' + yamlish(v, indent + '  ') : JSON.stringify(v))).join('\n');
    }
    if (typeof value === 'object' && value !== null) {
      return Object.keys(value).sort().map((k) => {
        const v = value[k];
        return typeof v === 'object' && v !== null && Object.keys(v).length ? indent + k + ':\n' + yamlish(v, indent + '  ') : indent + k + ': ' + JSON.stringify(v);
      }).join('\n');
    }
    return indent + JSON.stringify(value);
  }
  async function revisionsPage() {
    const name = body.dataset.stack;
    const diffBox = el('div', { id: 'rev-diff' });
    let pick = null;
    const compare = async (a, b, env) => {
      diffBox.replaceChildren(el('p', { class: 'empty', text: 'Comparing ' + a + ' and ' + b + '\u2026' }));
      try {
        const base = '/api/v1/stacks/' + enc(name) + '/revisions/';
        const [ra, rb] = await Promise.all([api(base + a), api(base + b)]);
        const files = [{ path: 'spec', change: 'spec', rows: lineDiff(yamlish(ra.spec), yamlish(rb.spec)) }];
        if (env) {
          const [ba, bb] = await Promise.all([api(base + a + '/environments/' + enc(env) + '/rendered'), api(base + b + '/environments/' + enc(env) + '/rendered')]);
          const paths = [...new Set([...Object.keys(ba.files), ...Object.keys(bb.files)])].sort();
          for (const p of paths) {
            const fa = ba.files[p];
            const fb = bb.files[p];
            if (fa && fb && fa.sha256 === fb.sha256) continue;
            files.push({ path: p, change: !fa ? 'added' : !fb ? 'removed' : 'changed', rows: lineDiff(fa ? fa.content : '', fb ? fb.content : '') });
          }
        }
        diffBox.replaceChildren(el('h2', { text: 'Revision ' + a + ' \u2192 ' + b + (env ? ' (' + env + ')' : '') }), diffView(files));
      } catch (e) {
        diffBox.replaceChildren(el('p', { class: 'msg', text: e.message }));
      }
    };
    const render = async () => {
      const [list, stack] = await Promise.all([api('/api/v1/stacks/' + enc(name) + '/revisions'), api('/api/v1/stacks/' + enc(name))]);
      const envs = Object.keys(stack.environments || {});
      const envSelect = el('select', { id: 'diff-env', 'aria-label': 'environment for rendered files' },
        el('option', { value: '', text: 'spec only' }), envs.map((e) => el('option', { value: e, text: 'spec and ' + e + ' files' })));
      const rows = (list.revisions || []).map((r) => {
        const live = Object.entries(r.environments || {}).map(([e, v]) => e + (v.applied ? ' (live)' : ' (last good)')).join(', ');
        const rollbacks = can('admin') ? envs.filter((e) => (stack.environments[e] || {}).applied_revision !== r.number).map((e) => el('button', {
          class: 'danger rollback', 'data-env': e, 'data-revision': r.number, text: 'roll ' + e + ' back to ' + r.number,
          onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              const q = await post('/api/v1/stacks/' + enc(name) + '/environments/' + enc(e) + '/rollback', { revision: r.number });
              location.href = opUrl(q.operation.id);
            } catch (err) { ev.target.disabled = false; diffBox.replaceChildren(el('p', { class: 'msg', text: err.message })); }
          },
        })) : [];
        const commit = r.commit ? [el('code', { text: (r.commit.sha || '').slice(0, 10) }), ' ', r.commit.author || '', ' ', r.commit.message || ''] : '';
        return el('tr', { 'data-revision': r.number },
          el('td', { class: 'num', text: r.number }), el('td', { text: r.source }), el('td', {}, commit), el('td', { text: r.actor || '' }),
          el('td', {}, time(r.created_at)), el('td', {}, badge(r.outcome)), el('td', { text: live }),
          el('td', {}, el('button', {
            text: pick === null ? 'diff from here' : pick === r.number ? 'cancel' : 'diff ' + pick + ' \u2192 ' + r.number,
            onclick: () => {
              if (pick === null) { pick = r.number; refresh(); return; }
              const a = Math.min(pick, r.number);
              const b = Math.max(pick, r.number);
              const same = pick === r.number;
              pick = null;
              refresh();
              if (!same) compare(a, b, envSelect.value);
            },
          }), ' ', rollbacks));
      });
      show(el('p', {}, link(stackUrl(name), 'stack ' + name), ' \u00b7 current revision ' + stack.revision + ' \u00b7 diff: ', envSelect),
        table(['#', 'source', 'commit', 'who', 'when', 'outcome', 'environments', ''], rows), diffBox);
    };
    const refresh = coalesce(() => render().catch(fail), 300);
    // Revisions change with operations only; health changes would redraw the buttons for nothing.
    onEvent((type, d) => { if (type === 'resync' || (type === 'operation' && d.stack === name)) refresh(); });
    refresh();
  }

  // ---- gitops ----------------------------------------------------------------------------------
  async function gitopsPage() {
    const render = async () => {
      const data = await api('/api/v1/gitops');
      const sources = data.sources || [];
      const rows = sources.map((s) => {
        const last = s.last_sync;
        return el('tr', {},
          el('td', {}, el('div', { text: s.repo }), el('small', { text: s.branch + ' \u00b7 ' + s.path })),
          el('td', {}, el('code', { text: (s.last_seen_sha || '').slice(0, 10) })),
          el('td', {}, el('code', { text: (s.last_good_sha || '').slice(0, 10) })),
          el('td', {}, last ? [badge(last.outcome), ' ', time(typeof last.at === 'number' ? new Date(last.at).toISOString() : last.at),
            last.operation ? [' ', link(opUrl(last.operation), 'operation')] : ''] : 'never'),
          el('td', { class: last && last.outcome !== 'succeeded' && last.outcome !== 'applied' ? 'err' : '', text: last ? last.summary : '' }),
          el('td', { text: (s.auto_apply || []).join(', ') + (s.prune ? ' \u00b7 prune' : '') }));
      });
      show(sources.length ? table(['source', 'last seen', 'last good', 'last sync', 'findings', 'auto-apply'], rows)
        : el('p', { class: 'empty', text: 'No GitOps source is configured.' }));
    };
    const refresh = coalesce(() => render().catch(fail), 500);
    onEvent((type, d) => { if (type === 'resync' || d.kind === 'sync') refresh(); });
    refresh();
  }

  // ---- start -----------------------------------------------------------------------------------
  async function start() {
    if (started) return;
    if (tokensRequired && !sessionStorage.getItem(TOKEN_KEY)) { askToken(''); return; }
    try {
      await whoami();
    } catch (e) {
      if (!e.auth) fail(e);
      return;
    }
    started = true;
    const pages = { overview, stack: stackPage, environment: environmentPage, operation: operationPage, revisions: revisionsPage, gitops: gitopsPage };
    await (pages[page] || overview)();
    listen();
  }
  start();
})();
