// The Gatehouse web console: framework-free pages over the REST API
// (docs/API.md) and the web terminal (docs/WEB.md). Every text from the
// server goes into the page through textContent or attributes, never as
// HTML; the page runs no inline script (CSP script-src 'self').
import '@xterm/xterm/css/xterm.css';
import 'asciinema-player/dist/bundle/asciinema-player.css';
import './app.css';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import * as AsciinemaPlayer from 'asciinema-player';

const RANK = { user: 0, auditor: 1, admin: 2 };
const LIST_MAX = 500; // tree and search results shown at once
const state = { me: null, csrf: sessionStorage.getItem('gh_csrf') || '', terms: [], active: -1 };

// ---- small DOM helpers -------------------------------------------------------

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
const $ = (id) => document.getElementById(id);

function notice(msg, error) {
  const n = $('notice');
  n.textContent = msg || '';
  n.hidden = !msg;
  n.className = error ? 'error' : '';
}

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  if (method !== 'GET' && state.csrf) opt.headers['X-CSRF-Token'] = state.csrf;
  const r = await fetch(path, opt);
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  if (r.status === 401 && path !== '/api/v1/login') {
    state.me = null;
    showLogin();
  }
  return { status: r.status, ok: r.ok, body: j };
}

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

function table(cols, rows, rowAttrs) {
  return h('table', {},
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c[0] })))),
    h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {},
      cols.map((c) => { const v = c[1](r); return h('td', {}, v instanceof Node ? v : String(v ?? '')); })))));
}

// ---- login and the frame -------------------------------------------------------

function showLogin(why) {
  $('top').hidden = true;
  $('terms').hidden = true;
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const totp = h('input', { id: 'login-totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', placeholder: 'if enrolled' });
  const form = h('form', { class: 'card', id: 'login-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/api/v1/login', { user: user.value, password: pw.value, totp: totp.value });
    if (!r.ok) { notice((r.body && r.body.error) || 'login failed', true); return; }
    state.csrf = r.body.csrf || '';
    sessionStorage.setItem('gh_csrf', state.csrf);
    notice('');
    await start();
  } },
  h('h1', { text: 'Gatehouse' }),
  h('label', { for: 'login-user', text: 'User' }), user,
  h('label', { for: 'login-password', text: 'Password' }), pw,
  h('label', { for: 'login-totp', text: 'TOTP code' }), totp,
  h('p', { text: 'First-time TOTP enrolment (the QR code) is shown at your first SSH login.' }),
  h('button', { type: 'submit', id: 'login-submit', text: 'Log in' }));
  $('main').replaceChildren(form);
  if (why) notice(why, true);
  user.focus();
}

const PAGES = [
  ['assets', 'My assets', 'user', pageAssets],
  ['mine', 'My sessions', 'user', pageMySessions],
  ['sessions', 'Sessions', 'auditor', pageSessions],
  ['audit', 'Audit log', 'auditor', pageAudit],
  ['verify', 'Verify', 'auditor', pageVerify],
  ['admin', 'Admin', 'admin', pageAdmin],
];

function nav() {
  const cur = (location.hash.slice(2).split('/')[0]) || 'assets';
  $('nav').replaceChildren(...PAGES.filter((p) => RANK[state.me.role] >= RANK[p[2]])
    .map((p) => h('a', { href: `#/${p[0]}`, id: `nav-${p[0]}`, 'aria-current': p[0] === cur ? 'page' : null, text: p[1] })));
}

async function route() {
  if (!state.me) return;
  const [page, ...rest] = location.hash.slice(2).split('/');
  nav();
  notice('');
  const main = $('main');
  main.replaceChildren();
  window.scrollTo(0, 0);
  // the terminals live on (their sockets stay open) and show beside My assets
  $('terms').hidden = !state.terms.length || !['', 'assets'].includes(page || '');
  if (page === 'replay') return pageReplay(main, decodeURIComponent(rest[0] || ''));
  const p = PAGES.find((x) => x[0] === (page || 'assets')) || PAGES[0];
  if (RANK[state.me.role] < RANK[p[2]]) { notice('Your role may not see this page.', true); return; }
  await p[3](main);
}

async function start() {
  const r = await api('GET', '/api/v1/me');
  if (!r.ok) { showLogin(); return; }
  state.me = r.body;
  if (r.body.csrf) { state.csrf = r.body.csrf; sessionStorage.setItem('gh_csrf', state.csrf); }
  $('top').hidden = false;
  $('who').textContent = `${r.body.user} (${r.body.role})`;
  await route();
}

// ---- my assets: node tree + search ---------------------------------------------

async function loadAssets() {
  let r = await api('GET', '/api/v1/me/assets');
  if (r.ok) return Array.isArray(r.body) ? r.body : (r.body.items || []);
  if (RANK[state.me.role] < RANK.auditor) return null;
  const all = [];
  let cursor = '';
  for (let i = 0; i < 100; i++) {
    r = await api('GET', `/api/v1/assets?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!r.ok) break;
    all.push(...(r.body.items || []));
    if (!r.body.next) break;
    cursor = r.body.next;
  }
  return all;
}

function accountsOf(a) {
  if (Array.isArray(a.accounts)) return Promise.resolve(a.accounts.map((x) => (typeof x === 'string' ? x : x.username || x.name)));
  return api('GET', `/api/v1/assets/${encodeURIComponent(a.name)}/accounts`)
    .then((r) => (r.ok ? (Array.isArray(r.body) ? r.body : r.body.items || []).map((x) => x.username || x.name) : []));
}

function pickAsset(a, box) {
  box.replaceChildren(h('h2', { text: a.name }), h('p', { text: `${a.address || ''}${a.port ? `:${a.port}` : ''} ${a.platform || ''}` }), h('p', { text: 'Loading accounts…' }));
  accountsOf(a).then((accts) => {
    box.replaceChildren(h('h2', { text: a.name }),
      h('p', { text: `${a.address || ''}${a.port ? `:${a.port}` : ''} ${a.platform || ''}` }),
      h('div', { class: 'accounts' }, accts.length ? accts.map((u) => h('button', {
        type: 'button', class: 'open-account', 'data-account': u, text: `Open as ${u}`,
        onclick: () => openTerminal(a.name, u),
      })) : h('p', { text: 'No accounts.' })));
  });
}

function assetButton(a, box) {
  return h('button', { type: 'button', class: 'asset', 'data-asset': a.name, text: a.name, onclick: () => pickAsset(a, box) });
}

function renderTree(assets, filter, treeEl, box) {
  const f = filter.trim().toLowerCase();
  const hit = f ? assets.filter((a) => a.name.toLowerCase().includes(f) || String(a.address || '').toLowerCase().includes(f)) : assets;
  const frag = document.createDocumentFragment();
  if (f) {
    hit.slice(0, LIST_MAX).forEach((a) => frag.append(assetButton(a, box)));
  } else {
    const byNode = new Map();
    for (const a of hit) for (const n of (a.nodes && a.nodes.length ? a.nodes : ['/'])) {
      const key = typeof n === 'string' ? n : n.path || n.name || '/';
      if (!byNode.has(key)) byNode.set(key, []);
      byNode.get(key).push(a);
    }
    for (const key of [...byNode.keys()].sort()) {
      const list = byNode.get(key);
      const d = h('details', { open: byNode.size <= 20 ? true : null }, h('summary', { text: `${key} (${list.length})` }));
      // the buttons are made when the node opens: 5,000 assets stay quick
      const fill = () => { if (!d.dataset.filled) { d.dataset.filled = '1'; list.slice(0, LIST_MAX).forEach((a) => d.append(assetButton(a, box))); if (list.length > LIST_MAX) d.append(h('p', { text: `${list.length - LIST_MAX} more: search to narrow` })); } };
      d.addEventListener('toggle', fill);
      if (d.open) fill();
      frag.append(d);
    }
  }
  if (f && hit.length > LIST_MAX) frag.append(h('p', { text: `${hit.length - LIST_MAX} more: refine the search` }));
  if (!hit.length) frag.append(h('p', { text: 'No asset matches.' }));
  treeEl.replaceChildren(frag);
}

async function pageAssets(main) {
  const box = h('div', { id: 'asset-detail', class: 'card' }, h('p', { text: 'Pick an asset.' }));
  const treeEl = h('div', { class: 'tree', id: 'asset-tree', role: 'tree' }, 'Loading…');
  const search = h('input', { id: 'asset-search', type: 'search', placeholder: 'Search assets', 'aria-label': 'Search assets' });
  const direct = h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); openTerminal(ev.target.asset.value, ev.target.account.value); } },
    h('input', { name: 'asset', placeholder: 'asset', 'aria-label': 'asset', required: true }),
    h('input', { name: 'account', placeholder: 'account', 'aria-label': 'account', required: true }),
    h('button', { type: 'submit', text: 'Open terminal' }));
  main.append(h('h1', { text: 'My assets' }), h('div', { class: 'cols' }, h('div', {}, search, treeEl), box),
    h('h2', { text: 'Open by name' }), direct,
    h('p', {}, h('a', { href: '#/mine', text: 'My sessions' })));
  const assets = await loadAssets();
  if (assets === null) { treeEl.replaceChildren(h('p', { text: 'The asset list is not available to your role: open by name below.' })); return; }
  assets.sort((a, b) => a.name.localeCompare(b.name));
  let t = 0;
  search.addEventListener('input', () => { clearTimeout(t); t = setTimeout(() => renderTree(assets, search.value, treeEl, box), 120); });
  renderTree(assets, '', treeEl, box);
}

// ---- terminals in tabs -------------------------------------------------------------

function showTab(i) {
  state.active = i;
  state.terms.forEach((t, k) => {
    t.tab.setAttribute('aria-selected', k === i ? 'true' : 'false');
    t.pane.hidden = k !== i;
  });
  const t = state.terms[i];
  if (t) { t.pane.scrollIntoView({ block: 'end' }); t.fit(); t.term.focus(); }
}

function banner(t, text, info) {
  t.banner.textContent = text;
  t.banner.className = info ? 'banner info' : 'banner';
  t.banner.hidden = false;
}

function openTerminal(asset, account) {
  if (!['', '#/assets', '#/'].includes(location.hash)) location.hash = '#/assets';
  $('terms').hidden = false;
  const pane = h('div', { class: 'pane', role: 'tabpanel' });
  const el = h('div', { class: 'term' });
  const ban = h('div', { class: 'banner', role: 'alert', hidden: true });
  pane.append(ban, el);
  const term = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 14, scrollback: 5000 });
  const fitter = new FitAddon();
  term.loadAddon(fitter);
  const t = { asset, account, term, pane, banner: ban, copy: false, paste: false, ended: false };
  const idx = state.terms.length;
  t.tab = h('button', { type: 'button', role: 'tab', class: 'term-tab', text: `${account}@${asset}`, onclick: () => showTab(state.terms.indexOf(t)) });
  $('tabs').append(t.tab);
  $('panes').append(pane);
  state.terms.push(t);
  term.open(el);
  t.fit = () => { try { fitter.fit(); } catch (e) { /* hidden */ } };
  showTab(idx);
  const q = new URLSearchParams({ asset, account, cols: term.cols, rows: term.rows });
  const ws = new WebSocket(`wss://${location.host}/api/v1/terminal?${q}`);
  ws.binaryType = 'arraybuffer';
  t.ws = ws;
  const enc = new TextEncoder();
  const send = (s) => { if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(s)); };
  ws.onmessage = (ev) => {
    if (typeof ev.data !== 'string') { term.write(new Uint8Array(ev.data)); return; }
    let m = null;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'opened') { t.copy = !!m.copy; t.paste = !!m.paste; }
    if (m.type === 'closed') {
      t.ended = true;
      banner(t, m.killed ? `Session killed by an operator: ${m.reason}` : `Session ended: ${m.reason}`, !m.killed);
      t.tab.textContent = `${account}@${asset} (ended)`;
    }
  };
  ws.onclose = () => {
    if (!t.ended) { t.ended = true; banner(t, 'Connection lost: the terminal socket closed.'); }
  };
  term.onData((d) => send(d));
  term.onResize(({ cols, rows }) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  });
  // copy and paste follow the permission's copy/paste actions
  const copySel = () => {
    if (!t.copy) { banner(t, 'Copy is not permitted on this account (no copy action).', true); return; }
    const s = term.getSelection();
    if (s && navigator.clipboard) navigator.clipboard.writeText(s).catch(() => {});
  };
  const pasteText = (s) => {
    if (!t.paste) { banner(t, 'Paste is not permitted on this account (no paste action).', true); return; }
    if (s) term.paste(s);
  };
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === 'KeyC') { copySel(); e.preventDefault(); return false; }
    if (e.code === 'KeyV') {
      e.preventDefault();
      if (!t.paste) pasteText('');
      else if (navigator.clipboard && navigator.clipboard.readText) navigator.clipboard.readText().then(pasteText).catch(() => {});
      return false;
    }
    return true;
  });
  // the browser's own paste (Ctrl+V, right-click paste) and copy
  pane.addEventListener('paste', (e) => {
    e.preventDefault();
    e.stopPropagation();
    pasteText(e.clipboardData ? e.clipboardData.getData('text/plain') : '');
  }, true);
  pane.addEventListener('copy', (e) => {
    if (!t.copy) { e.preventDefault(); e.stopPropagation(); banner(t, 'Copy is not permitted on this account (no copy action).', true); }
  }, true);
  return t;
}

window.addEventListener('resize', () => { const t = state.terms[state.active]; if (t) t.fit(); });

// ---- sessions, replay, audit ---------------------------------------------------------

function sessionRows(list) {
  return list.slice().sort((a, b) => (b.active - a.active) || String(b.started_at).localeCompare(String(a.started_at)));
}

async function pageMySessions(main) {
  main.append(h('h1', { text: 'My sessions' }));
  const r = await api('GET', '/api/v1/me/sessions?limit=200');
  const list = r.ok ? (Array.isArray(r.body) ? r.body : r.body.items || []) : [];
  main.append(table([['Started', (s) => when(s.started_at)], ['Asset', (s) => s.asset], ['Account', (s) => s.account],
    ['Protocol', (s) => s.protocol], ['State', (s) => (s.active ? 'active' : s.close_reason)]], sessionRows(list),
  (s) => ({ class: s.active ? 'active' : null })));
}

async function killSession(id) {
  const reason = prompt('Reason for the kill (shown to the user):', '');
  if (reason === null) return;
  const r = await api('POST', `/api/v1/sessions/${encodeURIComponent(id)}/kill`, { reason });
  notice(r.ok ? `Session ${id} killed.` : `Kill failed: ${(r.body && r.body.error) || r.status}`, !r.ok);
}

async function pageSessions(main) {
  const f = { user: h('input', { id: 'f-user', placeholder: 'user', 'aria-label': 'user' }),
    asset: h('input', { id: 'f-asset', placeholder: 'asset', 'aria-label': 'asset' }),
    protocol: h('input', { id: 'f-protocol', placeholder: 'protocol', 'aria-label': 'protocol' }),
    since: h('input', { id: 'f-since', type: 'datetime-local', 'aria-label': 'since' }) };
  const out = h('div', { id: 'sessions' }, 'Loading…');
  main.append(h('h1', { text: 'Sessions' }), h('div', { class: 'filters' }, Object.values(f)), out);
  const r = await api('GET', '/api/v1/sessions?limit=1000');
  const all = r.ok ? (Array.isArray(r.body) ? r.body : r.body.items || []) : [];
  const admin = state.me.role === 'admin';
  const draw = () => {
    const since = f.since.value ? new Date(f.since.value) : null;
    const rows = sessionRows(all).filter((s) => (!f.user.value || String(s.user).includes(f.user.value))
      && (!f.asset.value || String(s.asset).includes(f.asset.value))
      && (!f.protocol.value || s.protocol === f.protocol.value)
      && (!since || new Date(s.started_at) >= since));
    out.replaceChildren(table([['Started', (s) => when(s.started_at)], ['User', (s) => s.user], ['Asset', (s) => s.asset],
      ['Account', (s) => s.account], ['Protocol', (s) => s.protocol], ['State', (s) => (s.active ? 'active' : s.close_reason)],
      ['', (s) => h('span', {}, h('a', { href: `#/replay/${encodeURIComponent(s.id)}`, class: 'replay-link', text: s.active ? 'Watch' : 'Replay' }), ' ',
        s.active && admin ? h('button', { type: 'button', class: 'kill', 'data-session': s.id, text: 'Kill', onclick: () => killSession(s.id) }) : null)]],
    rows, (s) => ({ class: s.active ? 'active' : null, 'data-session': s.id })));
  };
  Object.values(f).forEach((i) => i.addEventListener('input', draw));
  draw();
}

async function pageReplay(main, id) {
  nav();
  main.append(h('h1', { text: `Session ${id}` }));
  const s = await api('GET', `/api/v1/sessions/${encodeURIComponent(id)}`);
  if (!s.ok) { notice((s.body && s.body.error) || 'no such session', true); return; }
  const info = s.body;
  main.append(h('p', { text: `${info.user} → ${info.account}@${info.asset} (${info.protocol}), ${when(info.started_at)}${info.active ? ', active' : `, ${info.close_reason || ''}`}` }));
  const holder = h('div', { id: 'player' });
  const cmds = h('div', { id: 'commands' });
  main.append(holder, h('h2', { text: 'Commands' }), cmds);
  if (info.active && state.me.role === 'admin')
    main.append(h('button', { type: 'button', class: 'kill', text: 'Kill this session', onclick: () => killSession(id) }));
  let player = null;
  const load = async () => {
    const r = await fetch(`/api/v1/sessions/${encodeURIComponent(id)}/recording?plain=1`, { credentials: 'same-origin' });
    if (!r.ok) { holder.replaceChildren(h('p', { text: 'No recording.' })); return; }
    const data = await r.text();
    const at = player ? await player.getCurrentTime() : null;
    if (player) player.dispose();
    // live: played through at once to the current screen, then followed
    player = AsciinemaPlayer.create({ data }, holder, { fit: 'width', controls: true, preload: true, logger: console,
      autoPlay: info.active, speed: info.active ? 1000 : 1, idleTimeLimit: info.active ? 0.05 : 2 });
    if (!info.active && at) player.seek(at);
  };
  await load();
  const c = await api('GET', `/api/v1/audit/commands?session=${encodeURIComponent(id)}&limit=1000`);
  const list = c.ok ? (Array.isArray(c.body) ? c.body : c.body.items || []) : [];
  const t0 = new Date(info.started_at).getTime();
  cmds.replaceChildren(list.length ? table([['At', (e) => when(e.ts)], ['Result', (e) => e.result], ['Command', (e) => e.detail],
    ['', (e) => h('button', { type: 'button', text: 'Jump', onclick: () => player && player.seek(Math.max(0, (new Date(e.ts).getTime() - t0) / 1000 - 0.5)) })]],
  list.slice().reverse()) : h('p', { text: 'No command events.' }));
  if (info.active) {
    // live watch: follow by reloading the growing recording
    const timer = setInterval(async () => {
      if (!document.body.contains(holder)) { clearInterval(timer); return; }
      const again = await api('GET', `/api/v1/sessions/${encodeURIComponent(id)}`);
      await load();
      if (again.ok && !again.body.active) { clearInterval(timer); notice(`Session ended: ${again.body.close_reason || ''}`); }
    }, 2000);
  }
}

async function pageAudit(main) {
  const sel = h('select', { id: 'audit-query', 'aria-label': 'events' }, ['logins', 'sessions', 'commands', 'files', 'changes'].map((q) => h('option', { value: q, text: q })));
  const user = h('input', { placeholder: 'user', 'aria-label': 'user' });
  const out = h('div', { id: 'audit-out' });
  const draw = async () => {
    const p = new URLSearchParams({ limit: 500 });
    if (user.value) p.set('user', user.value);
    const r = await api('GET', `/api/v1/audit/${sel.value}?${p}`);
    const list = r.ok ? (Array.isArray(r.body) ? r.body : r.body.items || []) : [];
    out.replaceChildren(table([['At', (e) => when(e.ts)], ['User', (e) => e.user], ['Source', (e) => e.source], ['Asset', (e) => e.asset],
      ['Method', (e) => e.method], ['Result', (e) => e.result], ['Reason / detail', (e) => [e.reason, e.detail].filter(Boolean).join(' — ')],
      ['', (e) => (e.session ? h('a', { href: `#/replay/${encodeURIComponent(e.session)}`, text: 'recording' }) : '')]], list));
  };
  sel.addEventListener('change', draw);
  user.addEventListener('change', draw);
  main.append(h('h1', { text: 'Audit log' }), h('div', { class: 'filters' }, sel, user), out);
  await draw();
}

async function pageVerify(main) {
  main.append(h('h1', { text: 'Audit verify' }), h('p', { text: 'Walking the event chain and the recordings…' }));
  const r = await api('GET', '/api/v1/audit/verify');
  const clean = r.ok && r.body && r.body.clean;
  main.replaceChildren(h('h1', { text: 'Audit verify' }),
    h('p', { id: 'verify-result', class: clean ? 'ok' : 'bad', text: clean ? 'Clean: the chain and every recording verify.' : 'NOT clean: see the report.' }),
    h('pre', { class: 'out', text: JSON.stringify(r.body, null, 2) }));
}

// ---- admin -------------------------------------------------------------------------------

function formOf(id, fields, submit, onsubmit) {
  // the handler gets the values by name (a form's own .name would hide an input "name")
  const f = h('form', { class: 'card', id, onsubmit: async (ev) => { ev.preventDefault(); await onsubmit(Object.fromEntries(new FormData(f))); } },
    fields.map(([name, label, type]) => [h('label', { for: `${id}-${name}`, text: label }),
      h('input', { id: `${id}-${name}`, name, type: type || 'text', autocomplete: type === 'password' ? 'new-password' : 'off' })]),
    h('p', {}, h('button', { type: 'submit', text: submit })));
  return f;
}

async function pageAdmin(main) {
  const result = async (r, what) => {
    if (r.ok) await route();
    notice(r.ok ? `${what}: done.` : `${what}: ${(r.body && r.body.error) || r.status}`, !r.ok);
  };
  const users = await api('GET', '/api/v1/users');
  const assets = await api('GET', '/api/v1/assets?limit=1000');
  const perms = await api('GET', '/api/v1/permissions');
  const list = (r) => (r.ok ? (Array.isArray(r.body) ? r.body : r.body.items || []) : []);
  main.append(h('h1', { text: 'Admin' }),
    h('h2', { text: 'Users' }), table([['Name', (u) => u.name], ['Role', (u) => u.role], ['Locked', (u) => (u.locked ? 'yes' : '')]], list(users)),
    h('h2', { text: 'Assets' }), table([['Name', (a) => a.name], ['Address', (a) => `${a.address}:${a.port}`], ['Nodes', (a) => (a.nodes || []).join(', ')]], list(assets)),
    h('div', { class: 'cols' },
      formOf('asset-add', [['name', 'Name'], ['address', 'Address'], ['port', 'Port', 'number'], ['nodes', 'Nodes (comma separated)']], 'Add asset', async (f) => {
        const body = { name: f.name, address: f.address, port: Number(f.port) || 22, platform: 'linux', protocols: ['ssh'] };
        if (f.nodes) body.nodes = f.nodes.split(',').map((s) => s.trim()).filter(Boolean);
        await result(await api('POST', '/api/v1/assets', body), 'Add asset');
      }),
      formOf('account-add', [['asset', 'Asset'], ['username', 'Account'], ['password', 'Password (write-only)', 'password']], 'Add account', async (f) => {
        await result(await api('POST', `/api/v1/assets/${encodeURIComponent(f.asset)}/accounts`, { username: f.username, password: f.password }), 'Add account');
      })),
    h('h2', { text: 'Permissions' }), table([['Name', (p) => p.name], ['Users', (p) => (p.users || []).join(', ')], ['Assets', (p) => (p.assets || []).join(', ')],
      ['Accounts', (p) => (p.accounts || []).join(', ')], ['Actions', (p) => (Array.isArray(p.actions) ? p.actions.join(',') : p.actions)]], list(perms)),
    h('div', { class: 'cols' },
      formOf('perm-add', [['name', 'Name'], ['users', 'Users'], ['assets', 'Assets'], ['accounts', 'Accounts (empty: all)'], ['actions', 'Actions (empty: all)']], 'Add permission', async (f) => {
        const split = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
        const body = { name: f.name, users: split(f.users), assets: split(f.assets) };
        if (f.accounts) body.accounts = split(f.accounts);
        if (f.actions) body.actions = split(f.actions);
        await result(await api('POST', '/api/v1/permissions', body), 'Add permission');
      }),
      formOf('perm-check', [['user', 'User'], ['asset', 'Asset'], ['account', 'Account'], ['action', 'Action (connect)']], 'Check', async (f) => {
        const r = await api('POST', '/api/v1/permissions/check', { user: f.user, asset: f.asset, account: f.account, action: f.action || 'connect', protocol: 'ssh' });
        notice(r.ok ? `${r.body.allow ? 'ALLOWED' : 'DENIED'}: ${r.body.reason || ''}` : `Check: ${(r.body && r.body.error) || r.status}`, !r.ok || !r.body.allow);
      })));
}

// ---- start ---------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  $('logout').addEventListener('click', async () => {
    await api('POST', '/api/v1/logout');
    state.me = null;
    sessionStorage.removeItem('gh_csrf');
    state.terms.forEach((t) => t.ws && t.ws.close());
    showLogin();
  });
  start();
});
