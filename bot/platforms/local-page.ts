/**
 * The local web chat page (served at /chat by bot/platforms/local.ts): plain HTML, CSS and vanilla
 * JavaScript, kept as strings so they ship inside the compiled `dist/` build. Nothing is loaded
 * from anywhere else (no CDN, no web fonts); the page's Content-Security-Policy enforces it.
 *
 * User text is only ever put into the page as text (`textContent`), never as HTML.
 *
 * Stable `data-testid`s for tests: person-select, auth-note, connection (data-state live|connecting|offline),
 * room-list, room (data-room-id, data-kind, data-joined, data-active), unread-dot, room-name, room-topic,
 * room-members, not-joined-note, pinned, messages, message (data-message-id, data-author, data-private,
 * data-pinned), message-title, message-text, message-fields, message-field, message-section, message-context,
 * message-buttons, message-button (data-action-id, data-value, data-state), private-note, typing,
 * composer-input, send-button, composer-hint, hint, notice, clock (data-demo).
 */

export const chatPageHtml = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Warroom · local chat</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/chat/app.css">
<script src="/chat/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand">Warroom <span class="auth-note" data-testid="auth-note" title="Anyone who can open this page can act as anyone. For trying Warroom on one machine.">local chat — not authenticated</span></div>
  <label class="who">You are:
    <select id="person" data-testid="person-select" aria-label="Act as person"></select>
  </label>
  <span id="clock" class="clock" data-testid="clock" title="Exchange time"></span>
  <span id="connection" class="conn" data-testid="connection" data-state="connecting" title="live updates">connecting…</span>
</header>
<div class="layout">
  <nav class="side" aria-label="Rooms">
    <ul id="rooms" class="rooms" data-testid="room-list"></ul>
  </nav>
  <main class="main">
    <div class="room-head">
      <div class="room-title"><span id="room-name" data-testid="room-name"></span><span id="room-topic" class="topic" data-testid="room-topic"></span></div>
      <div id="room-members" class="members" data-testid="room-members"></div>
      <div id="not-joined" class="not-joined" data-testid="not-joined-note" hidden>You are not a member of this incident room; you can read it, and writing here joins it.</div>
    </div>
    <div id="notice" class="notice" data-testid="notice" role="alert" hidden></div>
    <section id="pinned" class="pinned" data-testid="pinned" aria-label="Pinned messages" hidden></section>
    <section id="messages" class="messages" data-testid="messages" aria-live="polite"></section>
    <div id="typing" class="typing" data-testid="typing" hidden>Warroom is working…</div>
    <form id="composer" class="composer" autocomplete="off">
      <textarea id="input" rows="1" data-testid="composer-input" placeholder="Message Warroom… (Enter sends, Shift+Enter new line)" aria-label="Message"></textarea>
      <button id="send" type="submit" data-testid="send-button">Send</button>
    </form>
    <div class="hint" data-testid="composer-hint">Try:
      <button type="button" class="hint-item" data-testid="hint">/incident declare P1 集中交易 开盘委托大量失败</button>
      <button type="button" class="hint-item" data-testid="hint">status</button>
      <button type="button" class="hint-item" data-testid="hint">help</button>
    </div>
  </main>
</div>
</body>
</html>
`;

export const chatPageCss = String.raw`
:root {
  --bg: #f6f7f9; --panel: #ffffff; --line: #e2e5ea; --text: #1d2330; --muted: #6b7280;
  --accent: #2457d6; --danger: #c62828; --incident: #b3261e; --incident-bg: #fdecea; --private: #8a6d00;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "PingFang SC",
    "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
  font-size: 14px; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; }
button, select, textarea { font: inherit; }
.top { display: flex; align-items: center; gap: 16px; padding: 8px 16px; background: #1d2330; color: #fff; }
.brand { font-weight: 700; font-size: 16px; flex: 1; }
.auth-note { font-weight: 400; font-size: 12px; margin-left: 8px; padding: 2px 8px; border-radius: 10px; background: #5c3b00; color: #ffe9b3; }
.who select { margin-left: 6px; padding: 3px 6px; border-radius: 4px; border: 1px solid #4b5563; background: #fff; color: var(--text); }
.conn { font-size: 12px; color: #cbd5e1; }
.clock { font-size: 12px; color: #cbd5e1; }
.clock[data-demo="true"] { color: #fde68a; }
.conn[data-state="live"]::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #22c55e; margin-right: 5px; }
.conn[data-state="offline"] { color: #fca5a5; }
.layout { flex: 1; display: flex; min-height: 0; }
.side { width: 250px; flex: none; background: var(--panel); border-right: 1px solid var(--line); overflow-y: auto; }
.rooms { list-style: none; margin: 0; padding: 8px 0; }
.rooms .group { padding: 10px 14px 4px; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.room { display: flex; align-items: center; gap: 6px; width: 100%; padding: 6px 14px; border: 0; background: none; text-align: left; cursor: pointer; color: var(--text); }
.room:hover { background: #eef1f6; }
.room[data-active="true"] { background: #dde6fb; font-weight: 600; }
.room .sigil { color: var(--muted); width: 12px; text-align: center; }
.room .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.room[data-kind="incident"] { color: var(--incident); }
.room[data-kind="incident"] .sigil { color: var(--incident); font-weight: 700; }
.room[data-kind="incident"][data-joined="false"] { opacity: .75; }
.room .tag { font-size: 10px; color: var(--muted); border: 1px solid var(--line); border-radius: 8px; padding: 0 5px; }
.unread { width: 8px; height: 8px; border-radius: 50%; background: var(--accent); flex: none; }
.main { flex: 1; display: flex; flex-direction: column; min-width: 0; }
.room-head { padding: 10px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
.room-title { font-weight: 700; font-size: 15px; }
.room-title .topic { font-weight: 400; color: var(--muted); margin-left: 10px; font-size: 13px; }
.members { font-size: 12px; color: var(--muted); margin-top: 2px; }
.members:empty { display: none; }
.not-joined { margin-top: 6px; font-size: 12px; color: var(--incident); }
.notice { margin: 8px 16px 0; padding: 6px 10px; border-radius: 4px; background: #fdecea; color: var(--danger); font-size: 13px; }
.pinned { flex: none; max-height: 40%; overflow-y: auto; padding: 8px 16px; background: #fffbea; border-bottom: 1px solid #f1e2a6; }
.pinned.alone { flex: 1; max-height: none; border-bottom: 0; }
.pinned::before { content: "Pinned"; display: block; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--private); margin-bottom: 4px; }
.messages { flex: 1; overflow-y: auto; padding: 12px 16px; }
.empty { color: var(--muted); text-align: center; margin-top: 40px; }
.msg { margin: 0 0 10px; max-width: 860px; }
.msg-head { font-size: 12px; color: var(--muted); margin-bottom: 2px; display: flex; gap: 8px; align-items: baseline; }
.msg-head .author { font-weight: 600; color: var(--text); }
.msg.bot .msg-head .author { color: var(--accent); }
.msg-head .pin-tag { color: var(--private); }
.msg-body { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.msg.bot .msg-body { border-left: 3px solid var(--accent); }
.msg.mine .msg-body { background: #eef3ff; }
.msg.private .msg-body { border-style: dashed; border-color: #d6c27a; background: #fffdf3; }
.private-note { font-size: 11px; color: var(--private); margin-bottom: 2px; }
.msg-title { font-weight: 700; margin-bottom: 4px; }
.msg-text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.5; }
.msg-text code, .msg-section code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; background: #f0f2f5; border-radius: 3px; padding: 0 3px; font-size: 13px; }
.msg-fields { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 6px 16px; margin: 8px 0 0; }
.msg-field dt { font-size: 12px; color: var(--muted); }
.msg-field dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg-section { margin-top: 8px; }
.msg-section h4 { margin: 0 0 2px; font-size: 13px; }
.msg-section ul { margin: 0; padding-left: 18px; }
.msg-section li { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.5; }
.msg-context { margin-top: 6px; font-size: 12px; color: var(--muted); white-space: pre-wrap; overflow-wrap: anywhere; }
.msg-buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.msg-buttons button { padding: 4px 12px; border-radius: 4px; border: 1px solid #c5cbd5; background: #fff; cursor: pointer; }
.msg-buttons button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.msg-buttons button.danger { background: #fff; border-color: var(--danger); color: var(--danger); }
.msg-buttons button:disabled { opacity: .55; cursor: progress; }
.msg-buttons button[data-state="pending"] { opacity: 1; box-shadow: inset 0 2px 4px rgba(0, 0, 0, .25); }
.typing { padding: 0 16px 4px; font-size: 12px; color: var(--muted); }
.composer { display: flex; gap: 8px; padding: 8px 16px 4px; background: var(--panel); border-top: 1px solid var(--line); }
.composer textarea { flex: 1; resize: none; min-height: 36px; max-height: 160px; padding: 7px 10px; border: 1px solid #c5cbd5; border-radius: 6px; }
.composer button { padding: 0 16px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
.hint { padding: 0 16px 8px; background: var(--panel); font-size: 12px; color: var(--muted); }
.hint-item { border: 0; background: none; padding: 0 4px; color: var(--accent); cursor: pointer; font-size: 12px; }
.hint-item:not(:last-child)::after { content: " ·"; color: var(--muted); }
[hidden] { display: none !important; }
@media (max-width: 700px) {
  .layout { flex-direction: column; }
  .side { width: auto; max-height: 30%; border-right: 0; border-bottom: 1px solid var(--line); }
  .msg-fields { grid-template-columns: minmax(0, 1fr); }
}
`;

export const chatPageJs = String.raw`'use strict';
(function () {
  const BOT = 'warroom';
  const LS_USER = 'warroom.chat.as';
  const byId = (id) => document.getElementById(id);
  const state = {
    people: [], user: null, rooms: [], roomId: null, room: null,
    messages: new Map(), lastId: 0, seen: {}, es: null, typing: {},
    pendingActions: new Map(), fetching: null, refetch: false, roomsTimer: null, noticeTimer: null,
  };

  function lsGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  function lsSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }

  /** Build an element; text only ever goes in as text. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const k of Object.keys(attrs || {})) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children || []) {
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  /** Text with backtick code spans as <code>, everything as text nodes. */
  function richText(tag, cls, testid, text) {
    const node = el(tag, { class: cls, 'data-testid': testid });
    const parts = String(text).split(/\x60([^\x60\n]+)\x60/);
    parts.forEach((part, i) => {
      if (!part) return;
      node.appendChild(i % 2 === 1 ? el('code', { text: part }) : document.createTextNode(part));
    });
    return node;
  }

  async function request(method, path, params, body) {
    const url = new URL(path, window.location.href);
    for (const k of Object.keys(params || {})) if (params[k] !== undefined) url.searchParams.set(k, params[k]);
    const init = { method: method, headers: { accept: 'application/json' } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    const res = await fetch(url, init);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new Error((data && data.message) || ('HTTP ' + res.status));
    return data;
  }

  function notice(text) {
    const n = byId('notice');
    n.textContent = text;
    n.hidden = false;
    clearTimeout(state.noticeTimer);
    state.noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
  }

  function setConn(s) {
    const c = byId('connection');
    c.dataset.state = s;
    c.textContent = s === 'live' ? 'live' : s === 'offline' ? 'offline — reconnecting…' : 'connecting…';
  }

  // --- clock -------------------------------------------------------------------------------
  // The server's clock (exchange time); under "warroom demo" it is the story's clock, marked as such.
  async function showClock() {
    let c;
    try { c = await request('GET', '/chat/api/clock'); } catch (err) { return; }
    const node = byId('clock');
    node.textContent = c.label;
    node.title = c.title;
    node.dataset.demo = String(c.demo);
  }

  // --- people ------------------------------------------------------------------------------
  async function init() {
    showClock();
    setInterval(showClock, 30000);
    const sel = byId('person');
    let people = [];
    try { people = (await request('GET', '/chat/api/people')).people; } catch (err) { notice('Could not load people: ' + err.message); return; }
    state.people = people;
    for (const p of people) {
      const roles = (p.roles || []).join(', ');
      sel.appendChild(el('option', { value: p.id, text: p.name + ' (' + p.id + (roles ? ' · ' + roles : '') + ')' }));
    }
    if (!people.length) { notice('There are no people in Warroom yet: load the demo (warroom demo) or import people first.'); return; }
    const params = new URLSearchParams(window.location.search);
    const wanted = [params.get('as'), lsGet(LS_USER)].find((id) => id && people.some((p) => p.id === id));
    sel.addEventListener('change', () => selectUser(sel.value));
    await selectUser(wanted || people[0].id, params.get('room'));
  }

  async function selectUser(userId, roomHint) {
    state.user = userId;
    byId('person').value = userId;
    lsSet(LS_USER, userId);
    const url = new URL(window.location.href);
    if (url.searchParams.get('as') && url.searchParams.get('as') !== userId) { url.searchParams.set('as', userId); window.history.replaceState(null, '', url); }
    let seen = null;
    try { seen = JSON.parse(lsGet('warroom.chat.seen.' + userId) || 'null'); } catch (e) { seen = null; }
    state.seen = seen && typeof seen === 'object' ? seen : null;
    state.roomId = null; state.room = null; state.messages = new Map(); state.lastId = 0;
    state.pendingActions.clear(); state.typing = {};
    connect();
    await loadRooms();
    const ids = state.rooms.map((r) => r.id);
    const dm = state.rooms.find((r) => r.kind === 'dm');
    const remembered = lsGet('warroom.chat.room.' + userId);
    const pick = [roomHint, remembered].find((id) => id && ids.includes(id)) || (dm ? dm.id : ids[0]);
    if (pick) await openRoom(pick);
  }

  function saveSeen() { lsSet('warroom.chat.seen.' + state.user, JSON.stringify(state.seen || {})); }

  // --- live updates ------------------------------------------------------------------------
  function connect() {
    if (state.es) state.es.close();
    setConn('connecting');
    const es = new EventSource('/chat/api/stream?user=' + encodeURIComponent(state.user));
    state.es = es;
    es.addEventListener('hello', () => {
      if (es !== state.es) return;
      setConn('live');
      // (Re)connected: catch up on anything missed while the stream was down.
      scheduleRooms();
      if (state.roomId) reloadRoom();
    });
    es.onmessage = (e) => {
      if (es !== state.es) return;
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      onEvent(ev);
    };
    es.onerror = () => { if (es === state.es) setConn(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting'); };
  }

  function onEvent(ev) {
    if (ev.type === 'room') {
      scheduleRooms();
      if (ev.room === state.roomId) fetchNew();
    } else if (ev.type === 'message') {
      if (ev.room === state.roomId) {
        // An edit (a card refreshed after someone acted) must not pull a reader away from older messages.
        if (ev.op === 'updated') reloadRoom(false); else fetchNew();
      } else {
        const r = state.rooms.find((x) => x.id === ev.room);
        if (!r) scheduleRooms();
        else if (ev.op === 'created' && ev.id > r.lastMessageId) { r.lastMessageId = ev.id; renderRooms(); }
      }
    } else if (ev.type === 'typing') {
      state.typing[ev.room] = Boolean(ev.on);
      renderTyping();
    } else if (ev.type === 'action') {
      // The bot has answered a button press: show its replies, then let the buttons be pressed again.
      const done = () => { state.pendingActions.delete(ev.messageId); renderMessages(false); };
      if (ev.room === state.roomId) fetchNew().then(done, done); else state.pendingActions.delete(ev.messageId);
    }
  }

  // --- rooms ------------------------------------------------------------------------------
  function scheduleRooms() {
    clearTimeout(state.roomsTimer);
    state.roomsTimer = setTimeout(() => { loadRooms().catch(() => {}); }, 50);
  }

  async function loadRooms() {
    const user = state.user;
    let data;
    try { data = await request('GET', '/chat/api/rooms', { user: user }); } catch (err) { notice('Could not load rooms: ' + err.message); return; }
    if (user !== state.user) return;
    state.rooms = data.rooms;
    if (!state.seen) {
      // First visit as this person: what is already there counts as read.
      state.seen = {};
      for (const r of state.rooms) state.seen[r.id] = r.lastMessageId;
      saveSeen();
    }
    renderRooms();
  }

  function renderRooms() {
    const list = byId('rooms');
    list.textContent = '';
    const groups = [['channel', 'Channels'], ['dm', 'Direct messages'], ['incident', 'Incident rooms']];
    for (const g of groups) {
      const rooms = state.rooms.filter((r) => r.kind === g[0]);
      if (!rooms.length) continue;
      list.appendChild(el('li', { class: 'group', text: g[1] }));
      for (const r of rooms) {
        const unread = r.id !== state.roomId && r.lastMessageId > ((state.seen || {})[r.id] || 0);
        const sigil = r.kind === 'channel' ? '#' : r.kind === 'dm' ? '@' : '!';
        const btn = el('button', {
          type: 'button', class: 'room', 'data-testid': 'room', 'data-room-id': r.id, 'data-kind': r.kind,
          'data-joined': String(r.joined), 'data-active': String(r.id === state.roomId), 'data-unread': String(unread),
          title: r.topic || r.name,
        }, [
          el('span', { class: 'sigil', text: sigil }),
          el('span', { class: 'name', text: r.name }),
          r.kind === 'incident' && !r.joined ? el('span', { class: 'tag', text: 'not joined' }) : null,
          unread ? el('span', { class: 'unread', 'data-testid': 'unread-dot', title: 'unread messages' }) : null,
        ]);
        btn.addEventListener('click', () => openRoom(r.id));
        list.appendChild(el('li', {}, [btn]));
      }
    }
  }

  async function openRoom(roomId) {
    state.roomId = roomId;
    lsSet('warroom.chat.room.' + state.user, roomId);
    state.messages = new Map();
    state.lastId = 0;
    renderRooms();
    renderTyping();
    await reloadRoom(true);
    byId('input').focus();
  }

  /** Everything in the current room again (after edits and pins, and on reconnect). */
  async function reloadRoom(scroll) {
    const roomId = state.roomId, user = state.user;
    // Only the newest reload may paint: an older answer arriving late would show a stale card.
    const generation = (state.reloads = (state.reloads || 0) + 1);
    let data;
    try { data = await request('GET', '/chat/api/messages', { user: user, room: roomId }); } catch (err) { notice(err.message); return; }
    if (roomId !== state.roomId || user !== state.user || generation !== state.reloads) return;
    state.messages = new Map();
    state.lastId = 0;
    absorb(data);
    renderMessages(scroll !== false);
  }

  /** Messages after the last one shown; one request at a time, a pending one re-runs once. */
  function fetchNew() {
    if (state.fetching) { state.refetch = true; return state.fetching; }
    const run = async () => {
      do {
        state.refetch = false;
        const roomId = state.roomId, user = state.user;
        if (!roomId) return;
        let data;
        try { data = await request('GET', '/chat/api/messages', { user: user, room: roomId, after: String(state.lastId) }); } catch (err) { notice(err.message); return; }
        if (roomId !== state.roomId || user !== state.user) return;
        absorb(data);
        renderMessages(false);
      } while (state.refetch);
    };
    state.fetching = run().finally(() => { state.fetching = null; });
    return state.fetching;
  }

  function absorb(data) {
    state.room = data.room;
    for (const m of data.messages) {
      state.messages.set(m.id, m);
      if (m.id > state.lastId) state.lastId = m.id;
    }
    const r = state.rooms.find((x) => x.id === state.roomId);
    if (r) { r.lastMessageId = Math.max(r.lastMessageId, state.lastId); r.joined = data.room.joined; }
    if (state.seen && state.lastId > (state.seen[state.roomId] || 0)) { state.seen[state.roomId] = state.lastId; saveSeen(); }
    renderHead();
  }

  function renderHead() {
    const room = state.room;
    if (!room) return;
    byId('room-name').textContent = (room.kind === 'channel' ? '#' : room.kind === 'dm' ? '@' : '! ') + room.name;
    byId('room-topic').textContent = room.topic || '';
    byId('room-members').textContent = room.kind === 'incident' && room.members.length
      ? 'Members: ' + room.members.map((m) => m.name).join(', ') : '';
    byId('not-joined').hidden = !(room.kind === 'incident' && !room.joined);
  }

  function renderTyping() { byId('typing').hidden = !state.typing[state.roomId]; }

  // --- messages ---------------------------------------------------------------------------
  function timeOf(iso) {
    const d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function card(m) {
    const msg = m.message || {};
    const isBot = m.author === BOT;
    const cls = ['msg', isBot ? 'bot' : 'human', m.author === state.user ? 'mine' : '', m.privateTo ? 'private' : '', m.pinned ? 'is-pinned' : ''].filter(Boolean).join(' ');
    const body = el('div', { class: 'msg-body' });
    if (msg.title) body.appendChild(el('div', { class: 'msg-title', 'data-testid': 'message-title', text: msg.title }));
    if (msg.text) body.appendChild(richText('div', 'msg-text', 'message-text', msg.text));
    if (Array.isArray(msg.fields) && msg.fields.length) {
      body.appendChild(el('dl', { class: 'msg-fields', 'data-testid': 'message-fields' }, msg.fields.map((f) =>
        el('div', { class: 'msg-field', 'data-testid': 'message-field' }, [el('dt', { text: f.label }), el('dd', { text: f.value })]))));
    }
    for (const s of Array.isArray(msg.sections) ? msg.sections : []) {
      body.appendChild(el('div', { class: 'msg-section', 'data-testid': 'message-section' }, [
        s.title ? el('h4', { text: s.title }) : null,
        el('ul', {}, (s.lines || []).map((line) => richText('li', '', 'message-section-line', line))),
      ]));
    }
    if (Array.isArray(msg.context) && msg.context.length) {
      body.appendChild(el('div', { class: 'msg-context', 'data-testid': 'message-context' }, msg.context.map((c) => el('div', { text: c }))));
    }
    if (Array.isArray(msg.buttons) && msg.buttons.length) {
      const pending = state.pendingActions.get(m.id);
      body.appendChild(el('div', { class: 'msg-buttons', 'data-testid': 'message-buttons' }, msg.buttons.map((b) => {
        const pressed = pending !== undefined && pending.actionId === b.actionId && pending.value === b.value;
        const btn = el('button', {
          type: 'button', class: b.style || '', 'data-testid': 'message-button', 'data-action-id': b.actionId, 'data-value': b.value,
          'data-state': pressed ? 'pending' : pending !== undefined ? 'disabled' : 'ready', 'aria-pressed': String(pressed),
          disabled: pending !== undefined, text: b.label,
        });
        btn.addEventListener('click', () => press(m, b));
        return btn;
      })));
    }
    return el('article', {
      class: cls, 'data-testid': 'message', 'data-message-id': m.id, 'data-author': m.author,
      'data-private': String(Boolean(m.privateTo)), 'data-pinned': String(Boolean(m.pinned)),
    }, [
      el('div', { class: 'msg-head' }, [
        el('span', { class: 'author', text: m.authorName || m.author }),
        el('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString(), text: timeOf(m.createdAt) }),
        m.pinned ? el('span', { class: 'pin-tag', text: 'pinned' }) : null,
        m.updatedAt !== m.createdAt && !m.pinned ? el('span', { text: '(edited)' }) : null,
      ]),
      m.privateTo ? el('div', { class: 'private-note', 'data-testid': 'private-note', text: 'only you can see this' }) : null,
      body,
    ]);
  }

  function renderMessages(forceScroll) {
    const list = byId('messages'), pinnedBox = byId('pinned');
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    const keptScroll = list.scrollTop;
    const all = Array.from(state.messages.values()).sort((a, b) => a.id - b.id);
    const pinned = all.filter((m) => m.pinned), rest = all.filter((m) => !m.pinned);
    pinnedBox.textContent = '';
    for (const m of pinned) pinnedBox.appendChild(card(m));
    pinnedBox.hidden = pinned.length === 0;
    // With nothing else in the room the pinned card may take the whole pane.
    pinnedBox.classList.toggle('alone', rest.length === 0);
    list.hidden = rest.length === 0 && pinned.length > 0;
    list.textContent = '';
    if (!rest.length && !pinned.length) list.appendChild(el('div', { class: 'empty', text: state.room && state.room.kind === 'dm' ? 'Ask Warroom anything — try "help".' : 'No messages yet.' }));
    for (const m of rest) list.appendChild(card(m));
    if (forceScroll || nearBottom) list.scrollTop = list.scrollHeight;
    else list.scrollTop = keptScroll;
  }

  async function press(m, b) {
    if (state.pendingActions.has(m.id)) return;
    const entry = { actionId: b.actionId, value: b.value };
    state.pendingActions.set(m.id, entry);
    renderMessages(false);
    const release = () => { if (state.pendingActions.get(m.id) === entry) { state.pendingActions.delete(m.id); renderMessages(false); } };
    setTimeout(release, 30000);
    try {
      await request('POST', '/chat/api/action', undefined, { user: state.user, room: state.roomId, messageId: m.id, actionId: b.actionId, value: b.value });
    } catch (err) {
      notice('The button press was not delivered: ' + err.message);
      release();
    }
  }

  // --- composer ---------------------------------------------------------------------------
  async function send() {
    const input = byId('input');
    const text = input.value.trim();
    if (!text || !state.roomId || !state.user) return;
    input.value = '';
    autosize();
    try {
      await request('POST', '/chat/api/send', undefined, { user: state.user, room: state.roomId, text: text });
      fetchNew();
    } catch (err) {
      if (!input.value) input.value = text;
      autosize();
      notice('Not sent: ' + err.message);
    }
  }

  function autosize() {
    const input = byId('input');
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 160) + 'px';
  }

  document.addEventListener('DOMContentLoaded', () => {
    const input = byId('input');
    byId('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
    input.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME (pinyin) choice does neither.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); send(); }
    });
    input.addEventListener('input', autosize);
    for (const h of document.querySelectorAll('.hint-item')) {
      h.addEventListener('click', () => { input.value = h.textContent; autosize(); input.focus(); });
    }
    init();
  });
})();
`;
