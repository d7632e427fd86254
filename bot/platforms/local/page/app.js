// @ts-check
/**
 * The local web chat page's script (served at /chat/app.js by ../routes.ts): plain browser JavaScript,
 * no build step, no dependencies. Type-checked with `tsc -p tsconfig.page.json` (part of
 * `npm run typecheck`) through the JSDoc types below. Nothing is loaded from anywhere else (no CDN, no
 * web fonts); the page's Content-Security-Policy enforces it.
 *
 * User text is only ever put into the page as text (`textContent`, text nodes), never as markup.
 *
 * Who acts is the session's person (the cookie set by the sign-in link /chat/login?token=…); the
 * person picker rebinds the session with POST /chat/api/session, and no request names a user.
 *
 * Stable `data-testid`s for tests (in index.html and made here): person-select, auth-note, sign-out, connection
 * (data-state live|connecting|offline), room-list, room (data-room-id, data-kind, data-joined, data-active),
 * unread-dot, room-name, room-topic, room-members, not-joined-note, pinned, messages, message
 * (data-message-id, data-author, data-private, data-pinned), message-title, message-text, message-fields,
 * message-field, message-section, message-context, message-buttons, message-button (data-action-id,
 * data-value, data-state), private-note, typing, composer-input, send-button, composer-hint, hint, notice,
 * clock (data-demo).
 */

/**
 * What the JSON API under /chat/api answers (see ../routes.ts and ../store.ts).
 * @typedef {{ id: string, name: string, roles: string[] }} Person
 * @typedef {'dm' | 'channel' | 'incident'} RoomKind
 * @typedef {{ id: string, name: string, kind: RoomKind, topic: string, dmOf: string | null, createdAt: string,
 *   joined: boolean, memberCount: number, lastMessageId: number }} RoomListing
 * @typedef {{ id: string, name: string, kind: RoomKind, topic: string, dmOf: string | null, createdAt: string,
 *   joined: boolean, members: Array<{ id: string, name: string }> }} RoomDetail
 * @typedef {{ actionId: string, label: string, value: string, style?: 'primary' | 'danger' }} MessageButton
 * @typedef {{ title?: string, text?: string, fields?: Array<{ label: string, value: string }>,
 *   sections?: Array<{ title?: string, lines: string[] }>, context?: string[], buttons?: MessageButton[] }} OutgoingMessage
 * @typedef {{ id: number, roomId: string, author: string, authorName: string, message: OutgoingMessage,
 *   privateTo: string | null, pinned: boolean, createdAt: string, updatedAt: string }} LocalMessage
 * @typedef {{ room: RoomDetail, messages: LocalMessage[] }} MessagesAnswer
 * @typedef {{ now: string, timeZone: string, demo: boolean, label: string, title: string }} ClockAnswer
 * @typedef {{ type: 'room', room: string }
 *   | { type: 'message', op: 'created' | 'updated', room: string, id: number }
 *   | { type: 'typing', room: string, on: boolean }
 *   | { type: 'action', op: 'done', room: string, messageId: number }} StreamEvent
 */

/**
 * The page's state.
 * @typedef {{
 *   people: Person[], user: string | null, rooms: RoomListing[], roomId: string | null, room: RoomDetail | null,
 *   messages: Map<number, LocalMessage>, lastId: number, seen: Record<string, number> | null, es: EventSource | null,
 *   typing: Record<string, boolean>, pendingActions: Map<number, { actionId: string, value: string }>,
 *   fetching: Promise<void> | null, refetch: boolean, roomsTimer: number | undefined, noticeTimer: number | undefined,
 *   reloads?: number,
 * }} State
 */

'use strict';
(function () {
  const BOT = 'warroom';
  const LS_USER = 'warroom.chat.as';
  /** The page's elements by id (index.html has them all). */
  const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  /** @type {State} */
  const state = {
    people: [], user: null, rooms: [], roomId: null, room: null,
    messages: new Map(), lastId: 0, seen: {}, es: null, typing: {},
    pendingActions: new Map(), fetching: null, refetch: false, roomsTimer: undefined, noticeTimer: undefined,
  };

  /** @param {string} k */
  function lsGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  /** @param {string} k @param {string} v */
  function lsSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }

  /**
   * Build an element; text only ever goes in as text.
   * @param {string} tag
   * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
   * @param {Array<Node | string | null | undefined>} [children]
   * @returns {HTMLElement}
   */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const k of Object.keys(attrs || {})) {
      const v = (attrs || {})[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'class') node.className = /** @type {string} */ (v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children || []) {
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  /**
   * Text with backtick code spans as <code>, everything as text nodes.
   * @param {string} tag @param {string} cls @param {string} testid @param {string} text
   */
  function richText(tag, cls, testid, text) {
    const node = el(tag, { class: cls, 'data-testid': testid });
    const parts = String(text).split(/\x60([^\x60\n]+)\x60/);
    parts.forEach((part, i) => {
      if (!part) return;
      node.appendChild(i % 2 === 1 ? el('code', { text: part }) : document.createTextNode(part));
    });
    return node;
  }

  /**
   * A JSON API call; throws with the server's message when the answer is not 2xx.
   * @param {string} method
   * @param {string} path
   * @param {Record<string, string | undefined>} [params]
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async function request(method, path, params, body) {
    const url = new URL(path, window.location.href);
    for (const k of Object.keys(params || {})) {
      const v = (params || {})[k];
      if (v !== undefined) url.searchParams.set(k, v);
    }
    /** @type {{ method: string, headers: Record<string, string>, body?: string }} */
    const init = { method: method, headers: { accept: 'application/json' } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    const res = await fetch(url, init);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    // The session has ended (expired, or signed out elsewhere): /chat says how to sign in again.
    if (res.status === 401) { window.location.assign('/chat'); throw new Error('Signed out: open a new sign-in link.'); }
    if (!res.ok) throw new Error((data && data.message) || ('HTTP ' + res.status));
    return data;
  }

  /** What went wrong, in words. @param {unknown} err */
  function messageOf(err) { return /** @type {Error} */ (err).message; }

  /** @param {string} text */
  function notice(text) {
    const n = byId('notice');
    n.textContent = text;
    n.hidden = false;
    clearTimeout(state.noticeTimer);
    state.noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
  }

  /** @param {'live' | 'connecting' | 'offline'} s */
  function setConn(s) {
    const c = byId('connection');
    c.dataset.state = s;
    c.textContent = s === 'live' ? 'live' : s === 'offline' ? 'offline — reconnecting…' : 'connecting…';
  }

  // --- clock -------------------------------------------------------------------------------
  // The server's clock (exchange time); under "warroom demo" it is the story's clock, marked as such.
  async function showClock() {
    /** @type {ClockAnswer} */
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
    const sel = /** @type {HTMLSelectElement} */ (byId('person'));
    /** @type {Person[]} */
    let people = [];
    /** @type {{ person: Person | null }} */
    let session;
    try {
      session = await request('GET', '/chat/api/session');
      people = (await request('GET', '/chat/api/people')).people;
    } catch (err) { notice('Could not load people: ' + messageOf(err)); return; }
    state.people = people;
    for (const p of people) {
      const roles = (p.roles || []).join(', ');
      sel.appendChild(el('option', { value: p.id, text: p.name + ' (' + p.id + (roles ? ' · ' + roles : '') + ')' }));
    }
    if (!people.length) { notice('There are no people in Warroom yet: load the demo (warroom demo) or import people first.'); return; }
    const params = new URLSearchParams(window.location.search);
    const bound = session.person ? session.person.id : null;
    const wanted = [params.get('as'), bound, lsGet(LS_USER)].find((id) => id && people.some((p) => p.id === id));
    sel.addEventListener('change', () => selectUser(sel.value, null, false));
    byId('sign-out').addEventListener('click', signOut);
    const first = wanted || /** @type {Person} */ (people[0]).id;
    await selectUser(first, params.get('room'), first === bound);
  }

  async function signOut() {
    try { await request('DELETE', '/chat/api/session', undefined, {}); } catch (err) { /* going to the sign-in page anyway */ }
    window.location.assign('/chat');
  }

  /**
   * Act as a person: the session is rebound on the server first (unless it already is that person).
   * @param {string} userId @param {string | null} roomHint @param {boolean} bound whether the session already acts as them
   */
  async function selectUser(userId, roomHint, bound) {
    if (!bound && userId !== state.user) {
      try { await request('POST', '/chat/api/session', undefined, { person: userId }); } catch (err) {
        notice('Could not switch person: ' + messageOf(err));
        /** @type {HTMLSelectElement} */ (byId('person')).value = state.user || '';
        return;
      }
    }
    state.user = userId;
    /** @type {HTMLSelectElement} */ (byId('person')).value = userId;
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
    const es = new EventSource('/chat/api/stream');
    state.es = es;
    es.addEventListener('hello', (e) => {
      if (es !== state.es) return;
      // The session acts as someone else now (switched in another tab): follow it.
      /** @type {{ user?: string }} */
      let hello = {};
      try { hello = JSON.parse(/** @type {MessageEvent} */ (e).data); } catch (err) { hello = {}; }
      if (hello.user && hello.user !== state.user) { selectUser(hello.user, null, true); return; }
      setConn('live');
      // (Re)connected: catch up on anything missed while the stream was down.
      scheduleRooms();
      if (state.roomId) reloadRoom();
    });
    es.onmessage = (e) => {
      if (es !== state.es) return;
      /** @type {StreamEvent} */
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      onEvent(ev);
    };
    es.onerror = () => { if (es === state.es) setConn(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting'); };
  }

  /** @param {StreamEvent} ev */
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
    /** @type {{ rooms: RoomListing[] }} */
    let data;
    try { data = await request('GET', '/chat/api/rooms'); } catch (err) { notice('Could not load rooms: ' + messageOf(err)); return; }
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
    /** @type {Array<[RoomKind, string]>} */
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

  /** @param {string} roomId */
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

  /**
   * Everything in the current room again (after edits and pins, and on reconnect).
   * @param {boolean} [scroll]
   */
  async function reloadRoom(scroll) {
    const roomId = state.roomId, user = state.user;
    // Only the newest reload may paint: an older answer arriving late would show a stale card.
    const generation = (state.reloads = (state.reloads || 0) + 1);
    /** @type {MessagesAnswer} */
    let data;
    try { data = await request('GET', '/chat/api/messages', { room: /** @type {string} */ (roomId) }); } catch (err) { notice(messageOf(err)); return; }
    if (roomId !== state.roomId || user !== state.user || generation !== state.reloads) return;
    state.messages = new Map();
    state.lastId = 0;
    absorb(data);
    renderMessages(scroll !== false);
  }

  /**
   * Messages after the last one shown; one request at a time, a pending one re-runs once.
   * @returns {Promise<void>}
   */
  function fetchNew() {
    if (state.fetching) { state.refetch = true; return state.fetching; }
    const run = async () => {
      do {
        state.refetch = false;
        const roomId = state.roomId, user = state.user;
        if (!roomId) return;
        /** @type {MessagesAnswer} */
        let data;
        try { data = await request('GET', '/chat/api/messages', { room: roomId, after: String(state.lastId) }); } catch (err) { notice(messageOf(err)); return; }
        if (roomId !== state.roomId || user !== state.user) return;
        absorb(data);
        renderMessages(false);
      } while (state.refetch);
    };
    state.fetching = run().finally(() => { state.fetching = null; });
    return state.fetching;
  }

  /** @param {MessagesAnswer} data */
  function absorb(data) {
    state.room = data.room;
    for (const m of data.messages) {
      state.messages.set(m.id, m);
      if (m.id > state.lastId) state.lastId = m.id;
    }
    const roomId = /** @type {string} */ (state.roomId);
    const r = state.rooms.find((x) => x.id === roomId);
    if (r) { r.lastMessageId = Math.max(r.lastMessageId, state.lastId); r.joined = data.room.joined; }
    if (state.seen && state.lastId > (state.seen[roomId] || 0)) { state.seen[roomId] = state.lastId; saveSeen(); }
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

  function renderTyping() { byId('typing').hidden = !state.typing[/** @type {string} */ (state.roomId)]; }

  // --- messages ---------------------------------------------------------------------------
  /** @param {string} iso */
  function timeOf(iso) {
    const d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  /** @param {LocalMessage} m */
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

  /** @param {boolean} forceScroll */
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

  /** @param {LocalMessage} m @param {MessageButton} b */
  async function press(m, b) {
    if (state.pendingActions.has(m.id)) return;
    const entry = { actionId: b.actionId, value: b.value };
    state.pendingActions.set(m.id, entry);
    renderMessages(false);
    const release = () => { if (state.pendingActions.get(m.id) === entry) { state.pendingActions.delete(m.id); renderMessages(false); } };
    setTimeout(release, 30000);
    try {
      await request('POST', '/chat/api/action', undefined, { room: state.roomId, messageId: m.id, actionId: b.actionId, value: b.value });
    } catch (err) {
      notice('The button press was not delivered: ' + messageOf(err));
      release();
    }
  }

  // --- composer ---------------------------------------------------------------------------
  async function send() {
    const input = /** @type {HTMLTextAreaElement} */ (byId('input'));
    const text = input.value.trim();
    if (!text || !state.roomId || !state.user) return;
    input.value = '';
    autosize();
    try {
      await request('POST', '/chat/api/send', undefined, { room: state.roomId, text: text });
      fetchNew();
    } catch (err) {
      if (!input.value) input.value = text;
      autosize();
      notice('Not sent: ' + messageOf(err));
    }
  }

  function autosize() {
    const input = byId('input');
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 160) + 'px';
  }

  document.addEventListener('DOMContentLoaded', () => {
    const input = /** @type {HTMLTextAreaElement} */ (byId('input'));
    byId('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
    input.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME (pinyin) choice does neither.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); send(); }
    });
    input.addEventListener('input', autosize);
    for (const h of document.querySelectorAll('.hint-item')) {
      h.addEventListener('click', () => { input.value = /** @type {string} */ (h.textContent); autosize(); input.focus(); });
    }
    init();
  });
})();
