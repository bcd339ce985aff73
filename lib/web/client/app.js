// The browser client of chat-server: one WebSocket, one JSON envelope per
// text message (protocol/PROTOCOL.md 1.3, 5.1). Plain DOM, no framework, no
// build step: the server embeds this file as it is.
//
// Everything people wrote is put on the page with textContent or text nodes,
// never parsed as HTML, so a message that looks like markup stays text.

const PROTOCOL = 'chat.v1';
// The server's default --max-line: a longer message would close the socket
// (1009), so the page refuses it before sending.
const MAX_FRAME_BYTES = 4096;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30000;
const HISTORY_PAGE = 50;
// The protocol tells nobody when a room is made: the list is asked for
// again now and then, and when the page comes back into view.
const ROOMS_REFRESH_MS = 15000;
const MAX_ERRORS_SHOWN = 5;
// Consecutive messages of one sender this close together share a header.
const GROUP_WITHIN_MS = 5 * 60 * 1000;
// The hello resumes at most this many rooms (PROTOCOL 2.2); the rest are
// resumed by requests after the welcome.
const HELLO_RESUME_LIMIT = 64;
// Errors that end the connection or concern it as a whole: never the answer
// to one request.
const CONNECTION_ERRORS = new Set([
  'slow-consumer', 'timeout', 'session-replaced', 'server-full', 'too-many-connections',
]);
// Errors after which reconnecting with the same name cannot work.
const FINAL_LOGIN_ERRORS = new Set([
  'password-required', 'auth-failed', 'bad-password', 'account-required', 'bad-name',
  'accounts-unavailable', 'insecure-transport', 'banned',
]);

const $ = (id) => document.getElementById(id);

const ui = {
  status: $('status'),
  countdown: $('reconnect-countdown'),
  reconnectNow: $('reconnect-now'),
  errorList: $('error-list'),
  loginScreen: $('login-screen'),
  loginForm: $('login-form'),
  loginName: $('login-name'),
  loginPasswordRow: $('login-password-row'),
  loginPassword: $('login-password'),
  loginPasswordHint: $('login-password-hint'),
  loginRegister: $('login-register'),
  loginSubmit: $('login-submit'),
  loginMessage: $('login-message'),
  chatScreen: $('chat-screen'),
  sidebar: $('sidebar'),
  sidebarToggle: $('sidebar-toggle'),
  sidebarToggleUnread: $('sidebar-toggle-unread'),
  roomList: $('room-list'),
  joinForm: $('join-form'),
  joinRoom: $('join-room'),
  directoryList: $('directory-list'),
  directoryEmpty: $('directory-empty'),
  refreshRooms: $('refresh-rooms'),
  dmList: $('dm-list'),
  dmForm: $('dm-form'),
  dmName: $('dm-name'),
  peopleTitle: $('people-title'),
  peopleList: $('people-list'),
  showMembers: $('show-members'),
  meName: $('me-name'),
  meAccount: $('me-account'),
  nickForm: $('nick-form'),
  nickName: $('nick-name'),
  registerForm: $('register-form'),
  registerPassword: $('register-password'),
  conversationTitle: $('conversation-title'),
  conversationTopic: $('conversation-topic'),
  editTopic: $('edit-topic'),
  leaveRoom: $('leave-room'),
  topicForm: $('topic-form'),
  topicText: $('topic-text'),
  topicCancel: $('topic-cancel'),
  scroller: $('scroller'),
  loadOlder: $('load-older'),
  historyStart: $('history-start'),
  jumpLatest: $('jump-latest'),
  composer: $('composer'),
  composerText: $('composer-text'),
  composerLabel: $('composer-label'),
  announcer: $('announcer'),
};

// ---------------------------------------------------------------- state

const state = {
  me: null, // the name the server knows us by, once welcomed
  password: null, // kept in memory only, to log in again on reconnect
  registered: false,
  defaultRoom: null,
  leftDefaultRoom: false, // the server puts every session there: leave it again after a reconnect
  // Ids are server-wide and reach us in increasing order, so the highest
  // seen is where every room resumes (PROTOCOL 3.8).
  maxSeenId: 0,
  views: new Map(), // viewKey -> view (a room or a direct conversation)
  active: null, // the key of the view on screen
  directory: [], // the last answer to {"type":"rooms"}
  pendingByRef: new Map(), // ref -> our message element, until its ack
  outbox: [], // messages typed while not connected, sent after the welcome
  nextRef: 1,
  // One entry per request sent, each followed by a ping: an error that comes
  // before the request's pong is that request's answer (acks alone may come
  // later, once stored, so they are matched by ref instead).
  fences: [],
  pendingPassword: null, // what a register request will make our password
};

const connection = {
  ws: null,
  loggedIn: false, // this socket got its welcome
  attempt: 0, // failed reconnects in a row, for the backoff
  timer: null, // the scheduled reconnect
  retryAt: 0,
  ticker: null,
  stopped: false, // no reconnecting (logged in elsewhere, refused...)
  helloSent: null, // the hello of this socket, until answered
  idFloor: 0, // the highest id seen before this connection
  sawLiveId: false, // checkIdSequence has looked at this connection's first id
};

// ---------------------------------------------------------------- views

function roomKey(room) {
  return 'room:' + room.toLowerCase(); // room names are unique without regard to case
}

function dmKey(peer) {
  return 'dm:' + peer.toLowerCase();
}

function sameName(a, b) {
  return a != null && b != null && a.toLowerCase() === b.toLowerCase();
}

function createView(kind, name) {
  const list = document.createElement('ol');
  list.className = 'messages';
  const view = {
    key: kind === 'room' ? roomKey(name) : dmKey(name),
    kind,
    name, // the room's spelling, or the peer's name
    list,
    ids: new Set(), // message ids shown, so a replay or page never shows one twice
    members: new Set(),
    count: null, // a large room gives only how many members it has
    topic: '',
    joined: false, // a room: the server has said joined (or welcome) on this connection
    unread: 0,
    olderDone: false, // a history page came back short: nothing older
    olderLoading: false,
    atBottom: true,
    scrollTop: 0,
  };
  state.views.set(view.key, view);
  return view;
}

function roomView(room) {
  return state.views.get(roomKey(room)) ?? createView('room', room);
}

function dmView(peer) {
  return state.views.get(dmKey(peer)) ?? createView('dm', peer);
}

function activeView() {
  return state.views.get(state.active) ?? null;
}

function viewLabel(view) {
  return view.kind === 'room' ? '#' + view.name : view.name;
}

function joinedRooms() {
  return [...state.views.values()].filter((v) => v.kind === 'room' && v.joined);
}

// Shows a view: its list goes into the scroller, where it was left.
function activate(key) {
  const next = state.views.get(key);
  if (!next) return;
  const previous = activeView();
  if (previous && previous !== next) {
    previous.atBottom = isNearBottom();
    previous.scrollTop = ui.scroller.scrollTop;
  }
  state.active = key;
  const current = ui.scroller.querySelector('ol.messages');
  if (current !== next.list) current.replaceWith(next.list);
  next.unread = 0;
  renderConversationHead();
  renderSidebar();
  renderOlderControls();
  if (next.atBottom) scrollToBottom();
  else ui.scroller.scrollTop = next.scrollTop;
  ui.jumpLatest.hidden = true;
  closeSidebarOnPhone();
}

function removeView(view) {
  state.views.delete(view.key);
  if (state.active !== view.key) return;
  state.active = null;
  const fallback = joinedRooms()[0] ?? [...state.views.values()][0];
  if (fallback) activate(fallback.key);
  else {
    ui.scroller.querySelector('ol.messages').replaceWith(createEmptyList());
    renderConversationHead();
    renderSidebar();
  }
}

function createEmptyList() {
  const list = document.createElement('ol');
  list.className = 'messages';
  return list;
}

// ---------------------------------------------------------------- rendering messages

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function timeElement(ts) {
  const date = new Date(ts);
  const time = document.createElement('time');
  time.dateTime = date.toISOString();
  const today = new Date().toDateString() === date.toDateString();
  time.textContent = (today ? timeOfDay : dayAndTime).format(date);
  time.title = fullDate.format(date);
  return time;
}

// A message as a list item: sender, time and text, every one of them text.
function messageElement({ id, ts, from, text, mine }) {
  const item = document.createElement('li');
  item.className = 'message';
  if (mine) item.classList.add('mine');
  if (id != null) item.dataset.id = String(id);
  item.dataset.from = from;
  item.dataset.ts = String(ts);

  const meta = document.createElement('div');
  meta.className = 'meta';
  const sender = document.createElement('span');
  sender.className = 'from';
  sender.textContent = from;
  meta.append(sender, ' ', timeElement(ts));

  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = text;

  const status = document.createElement('span');
  status.className = 'delivery';
  item.append(meta, body, status);
  return item;
}

// A notice (joins, leaves, names, topics, the connection): styled apart.
function noticeElement(text, ts = Date.now(), kind = 'notice') {
  const item = document.createElement('li');
  item.className = kind;
  const body = document.createElement('span');
  body.className = 'notice-text';
  body.textContent = text;
  item.append(timeElement(ts), ' ', body);
  return item;
}

function setDelivery(item, stateName, text) {
  item.classList.remove('pending', 'failed', 'unconfirmed', 'unstored');
  if (stateName) item.classList.add(stateName);
  item.querySelector('.delivery').textContent = text ?? '';
}

// Same sender, close in time: the second loses its header (visually only;
// screen readers still hear the name).
function updateGrouping(item) {
  if (!item || !item.classList.contains('message')) return;
  const previous = item.previousElementSibling;
  const continued = previous?.classList.contains('message') &&
    previous.dataset.from === item.dataset.from &&
    Math.abs(Number(item.dataset.ts) - Number(previous.dataset.ts)) < GROUP_WITHIN_MS;
  item.classList.toggle('continued', Boolean(continued));
}

// Live messages and our own go at the end, in the order they come. History
// and replay pages go where their id puts them: a replay's later pages come
// after live messages that are newer (PROTOCOL 3.8).
function placeItem(view, item, id) {
  let before = null;
  if (id != null) {
    for (let el = view.list.lastElementChild; el; el = el.previousElementSibling) {
      if (el.dataset.id === undefined) continue;
      if (Number(el.dataset.id) > id) before = el;
      else break;
    }
  }
  keepScroll(view, () => {
    view.list.insertBefore(item, before);
    updateGrouping(item);
    updateGrouping(item.nextElementSibling);
  });
}

function addNotice(view, text, ts, kind) {
  if (view) placeItem(view, noticeElement(text, ts, kind), null);
}

function noticeInRoomsOf(name, text) {
  for (const view of state.views.values()) {
    if (view.kind === 'room' && view.joined && view.members.has(name)) addNotice(view, text);
  }
}

// ---------------------------------------------------------------- scrolling

function isNearBottom() {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

// The reader's place: the first message in view (a notice beside it may be
// pushed aside by what is inserted next to it).
function firstVisibleItem(list) {
  const top = ui.scroller.getBoundingClientRect().top;
  let fallback = null;
  for (const el of list.children) {
    if (el.getBoundingClientRect().bottom <= top) continue;
    if (el.dataset.id !== undefined) return el;
    fallback ??= el;
  }
  return fallback;
}

// A page of history is one change: nested calls only mutate.
let keepingScroll = false;

// Changes the active list without moving what the reader looks at: stuck to
// the bottom it stays there; reading older messages, the first visible one
// stays put however much is added above or below it.
function keepScroll(view, mutate) {
  if (view.key !== state.active || keepingScroll) {
    mutate();
    return;
  }
  const stick = isNearBottom();
  // The text is what is read: it is what must not move (a header above it
  // may fold away when an older message of the same sender comes before).
  const item = stick ? null : firstVisibleItem(view.list);
  const anchor = item?.querySelector('.text') ?? item;
  const anchorTop = anchor?.getBoundingClientRect().top;
  keepingScroll = true;
  try {
    mutate();
  } finally {
    keepingScroll = false;
  }
  if (stick) scrollToBottom();
  else if (anchor?.isConnected) {
    ui.scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
  }
}

// ---------------------------------------------------------------- incoming messages

function isMine(from) {
  return sameName(from, state.me);
}

function noteId(id) {
  if (id > state.maxSeenId) state.maxSeenId = id;
}

// The first id a new connection brings live (a message or an ack) was given
// after everything seen before the loss, so it is higher, unless the server
// started again without --data-dir and counts from the start: then the ids
// shown so far mean nothing to it, and are kept apart from the new ones.
function checkIdSequence(id) {
  if (connection.sawLiveId) return;
  connection.sawLiveId = true;
  if (id > connection.idFloor) return;
  for (const view of state.views.values()) {
    view.ids.clear();
    view.olderDone = false;
    for (const item of view.list.querySelectorAll('li[data-id]')) {
      item.dataset.oldId = item.dataset.id;
      delete item.dataset.id;
    }
  }
  state.maxSeenId = 0;
  addNotice(activeView(), 'The server started afresh: messages above are from before, and may not be in its history.',
    Date.now(), 'notice warning');
  renderOlderControls();
}

// A room message, live or from history. Returns whether it was shown.
function showRoomMessage(room, m, { history }) {
  const view = roomView(room);
  if (!history) checkIdSequence(m.id);
  if (view.ids.has(m.id)) return false;
  if (history && isMine(m.from) && confirmUnconfirmed(view, m)) return false;
  view.ids.add(m.id);
  noteId(m.id);
  const item = messageElement({ ...m, mine: isMine(m.from) });
  if (history) item.classList.add('history');
  placeItem(view, item, history ? m.id : null);
  if (!history) countNew(view, `${m.from} in #${view.name}: ${m.text}`);
  return true;
}

// Our message whose ack the lost connection took: the replay shows it if
// the server kept it, and then it is confirmed, not shown twice.
function confirmUnconfirmed(view, m) {
  for (const item of view.list.querySelectorAll('li.message.unconfirmed')) {
    if (item.querySelector('.text').textContent === m.text) {
      item.dataset.id = String(m.id);
      view.ids.add(m.id);
      noteId(m.id);
      setDelivery(item, null);
      return true;
    }
  }
  return false;
}

function showDirectMessage(m) {
  // Our own were shown as we sent them (one to ourselves comes back too).
  if (isMine(m.from)) return;
  checkIdSequence(m.id);
  const view = dmView(m.from);
  if (view.ids.has(m.id)) return;
  view.ids.add(m.id);
  noteId(m.id);
  placeItem(view, messageElement({ ...m, mine: false }), null);
  countNew(view, `direct message from ${m.from}: ${m.text}`);
  if (!state.active) activate(view.key);
  renderSidebar();
}

// Unread counts and the spoken line for a new message.
function countNew(view, spoken) {
  const onScreen = view.key === state.active && document.visibilityState === 'visible';
  if (!onScreen) view.unread += 1;
  if (view.key === state.active && !isNearBottom()) ui.jumpLatest.hidden = false;
  announce(spoken);
  renderSidebar();
}

function announce(text) {
  const line = document.createElement('p');
  line.textContent = text;
  ui.announcer.append(line);
  while (ui.announcer.childElementCount > 3) ui.announcer.firstElementChild.remove();
}

// ---------------------------------------------------------------- sending

function socketOpen() {
  return connection.ws?.readyState === WebSocket.OPEN;
}

function sendFrame(frame) {
  connection.ws.send(JSON.stringify(frame));
}

// A request whose errors are told apart from those of the next one: the
// ping after it is answered in order, so an error before that pong is its.
function request(frame, context = {}) {
  if (!socketOpen() || !connection.loggedIn) {
    showError('not-connected', 'Not connected: wait for the page to reconnect.');
    return false;
  }
  sendFrame(frame);
  sendFrame({ type: 'ping' });
  state.fences.push({ frame, ...context });
  return true;
}

function frameBytes(frame) {
  return new TextEncoder().encode(JSON.stringify(frame)).length;
}

// Our message is shown at once, marked until the server acknowledges it.
function sendMessage(view, text) {
  const ref = state.nextRef++;
  const frame = view.kind === 'room'
    ? { type: 'msg', room: view.name, text, ref }
    : { type: 'dm', to: view.name, text, ref };
  if (frameBytes(frame) > MAX_FRAME_BYTES) {
    showError('too-long', `That message is too long for the server (at most about ${MAX_FRAME_BYTES} bytes).`);
    return false;
  }
  const item = messageElement({ ts: Date.now(), from: state.me, text, mine: true });
  placeItem(view, item, null);
  scrollToBottom();
  if (socketOpen() && connection.loggedIn) transmit(frame, item, view);
  else {
    setDelivery(item, 'pending', 'waiting for the connection…');
    state.outbox.push({ frame, item, view });
  }
  return true;
}

function transmit(frame, item, view) {
  setDelivery(item, 'pending', 'sending…');
  state.pendingByRef.set(frame.ref, { item, view });
  request(frame, { message: item });
}

function flushOutbox() {
  const queued = state.outbox.splice(0);
  for (const { frame, item, view } of queued) {
    if (frame.room) frame.room = view.name; // a room keeps the spelling the server gave it
    transmit(frame, item, view);
  }
}

function onAck(ack) {
  const pending = state.pendingByRef.get(ack.ref);
  if (!pending) return;
  checkIdSequence(ack.id);
  state.pendingByRef.delete(ack.ref);
  pending.item.dataset.id = String(ack.id);
  pending.view.ids.add(ack.id);
  noteId(ack.id);
  setDelivery(pending.item, null);
}

// ---------------------------------------------------------------- errors

// phase 'login': the error is about getting in, and goes once we are in.
function showError(code, message, context, phase) {
  const item = document.createElement('li');
  item.className = 'error';
  if (phase) item.dataset.phase = phase;
  // No role=alert: the list is an assertive live region, and both would read it twice.
  const codeEl = document.createElement('strong');
  codeEl.className = 'code';
  codeEl.textContent = code;
  const text = document.createElement('span');
  text.className = 'error-text';
  text.textContent = context ? `${context}: ${message}` : message;
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'dismiss';
  dismiss.textContent = '×';
  dismiss.setAttribute('aria-label', `Dismiss the ${code} error`);
  dismiss.addEventListener('click', () => item.remove());
  item.append(codeEl, ' ', text, dismiss);
  ui.errorList.append(item);
  while (ui.errorList.childElementCount > MAX_ERRORS_SHOWN) ui.errorList.firstElementChild.remove();
}

function describeRequest(frame) {
  switch (frame.type) {
    case 'msg': return `Message to #${frame.room} not delivered`;
    case 'dm': return `Message to ${frame.to} not delivered`;
    case 'join': return `Could not join #${frame.room}`;
    case 'leave': return `Could not leave #${frame.room}`;
    case 'nick': return `Could not change your name to ${frame.user}`;
    case 'topic': return `Could not set the topic of #${frame.room}`;
    case 'register': return 'Could not register your name';
    case 'history': return `Could not load older messages of #${frame.room}`;
    case 'hello':
    case 'resume': return 'Could not rejoin a room';
    default: return null;
  }
}

function onSessionError(error) {
  let context = null;
  if (error.code === 'storage-unavailable') {
    const pending = state.pendingByRef.get(error.ref);
    if (pending) {
      state.pendingByRef.delete(error.ref);
      setDelivery(pending.item, 'unstored', 'delivered, but the server could not store it');
    }
  } else if (!CONNECTION_ERRORS.has(error.code) && !serverWideBan(error)) {
    const fence = state.fences[0];
    if (fence) {
      context = describeRequest(fence.frame);
      onRequestFailed(fence, error);
    }
  }
  let message = error.message;
  if (error.retry_after != null) message += ` (try again in ${error.retry_after} s)`;
  showError(error.code, message, context);
  if (error.code === 'session-replaced') {
    stopReconnecting('Logged in elsewhere: not reconnecting.');
  } else if (serverWideBan(error)) {
    stopReconnecting('Banned from the server: not reconnecting.');
  }
}

// banned answers a join or resume of a room; any other time the whole server
// bans us, and the connection is about to close (PROTOCOL 3.9).
function serverWideBan(error) {
  const asked = state.fences[0]?.frame.type;
  return error.code === 'banned' && asked !== 'join' && asked !== 'resume' && asked !== 'hello';
}

function onRequestFailed(fence, error) {
  const { frame } = fence;
  if (fence.message) {
    state.pendingByRef.delete(frame.ref);
    setDelivery(fence.message, 'failed', `not delivered: ${error.code}`);
  }
  if (frame.type === 'history') {
    const view = state.views.get(roomKey(frame.room));
    if (view) view.olderLoading = false;
    renderOlderControls();
  }
  if (frame.type === 'register') state.pendingPassword = null;
  if (frame.type === 'join' || frame.type === 'resume') {
    const view = state.views.get(roomKey(frame.room));
    if (view && !view.joined && view.list.childElementCount === 0) removeView(view);
  }
}

function onPong() {
  state.fences.shift();
}

// ---------------------------------------------------------------- frames from the server

function onFrame(data) {
  if (data.startsWith('! error ')) return onPlainError(data); // an admission refusal is plain
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return; // not ours to read; the protocol sends JSON only on this socket
  }
  if (!connection.loggedIn) return onHandshakeFrame(frame);
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

function onPlainError(line) {
  const match = /^! error ([a-z-]+): (.*)$/.exec(line);
  showError(match ? match[1] : 'error', match ? match[2] : line);
}

const handlers = {
  msg: (m) => showRoomMessage(m.room, m, { history: m.history === true }),
  dm: showDirectMessage,
  ack: onAck,
  error: onSessionError,
  ping: () => sendFrame({ type: 'pong' }),
  pong: onPong,
  shutdown: onShutdown,
  joined: onJoined,
  left: onLeft,
  join: onMemberJoin,
  leave: onMemberLeave,
  topic: onTopic,
  nick: onNick,
  users: onUsers,
  rooms: onRooms,
  history: onHistoryPage,
  gap: onGap,
  more: (m) => request({ type: 'resume', room: m.room, after: m.after }),
  registered: onRegistered,
  kicked: onModeration,
  banned: onModeration,
  unbanned: onModeration,
  muted: onModeration,
  unmuted: onModeration,
  op: onModeration,
  deop: onModeration,
  invited: onModeration,
  mode: onModeration,
};

function setMembers(view, frame) {
  if (Array.isArray(frame.users)) {
    view.members = new Set(frame.users);
    view.count = null;
  } else {
    view.members = new Set();
    view.count = frame.count ?? null;
  }
}

function onJoined(frame) {
  const view = roomView(frame.room);
  view.name = frame.room;
  view.joined = true;
  setMembers(view, frame);
  view.topic = frame.topic ?? '';
  if (sameName(frame.room, state.defaultRoom)) state.leftDefaultRoom = false;
  // A room we asked for becomes the one on screen; one the reconnect rejoins does not.
  if (state.fences[0]?.frame.type === 'join' && sameName(state.fences[0].frame.room, frame.room)) {
    activate(view.key);
  } else if (!state.active) activate(view.key);
  renderSidebar();
  renderConversationHead();
}

function onLeft(frame) {
  const view = state.views.get(roomKey(frame.room));
  if (sameName(frame.room, state.defaultRoom)) state.leftDefaultRoom = true;
  if (view) removeView(view);
  refreshDirectory();
}

function onMemberJoin(frame) {
  const view = roomView(frame.room);
  view.members.add(frame.user);
  addNotice(view, `${frame.user} joined #${view.name}`);
  renderSidebar();
}

function onMemberLeave(frame) {
  const view = state.views.get(roomKey(frame.room));
  if (!view) return;
  view.members.delete(frame.user);
  addNotice(view, `${frame.user} left #${view.name}`);
  renderSidebar();
}

function onTopic(frame) {
  const view = state.views.get(roomKey(frame.room));
  if (!view) return;
  view.topic = frame.text;
  if (frame.by) {
    addNotice(view, frame.text
      ? `${frame.by} set the topic: ${frame.text}`
      : `${frame.by} cleared the topic`, Date.now(), 'notice topic-notice');
  }
  renderConversationHead();
}

function onNick(frame) {
  if (sameName(frame.old, state.me)) {
    state.me = frame.new;
    remember('name', frame.new);
  }
  noticeInRoomsOf(frame.old, `${frame.old} is now known as ${frame.new}`);
  for (const view of state.views.values()) {
    if (view.members.delete(frame.old)) view.members.add(frame.new);
  }
  const conversation = state.views.get(dmKey(frame.old));
  if (conversation && !state.views.has(dmKey(frame.new))) {
    state.views.delete(conversation.key);
    conversation.key = dmKey(frame.new);
    conversation.name = frame.new;
    state.views.set(conversation.key, conversation);
    if (state.active === dmKey(frame.old)) state.active = conversation.key;
    addNotice(conversation, `${frame.old} is now known as ${frame.new}`);
  }
  renderAccount();
  renderSidebar();
  renderConversationHead();
}

function onUsers(frame) {
  const view = state.views.get(roomKey(frame.room));
  if (!view) return;
  view.members = new Set(frame.users);
  view.count = null;
  renderSidebar();
}

function onRooms(frame) {
  state.directory = frame.rooms;
  for (const entry of frame.rooms) {
    const view = state.views.get(roomKey(entry.room));
    if (view?.joined && view.count != null) view.count = entry.users;
  }
  renderSidebar();
}

// An older page goes above what is shown; a short page means the start.
function onHistoryPage(frame) {
  const view = state.views.get(roomKey(frame.room));
  if (!view) return;
  view.olderLoading = false;
  if (frame.messages.length < HISTORY_PAGE) view.olderDone = true;
  keepScroll(view, () => {
    for (const m of frame.messages) showRoomMessage(frame.room, m, { history: true });
    renderOlderControls();
  });
}

function onGap(frame) {
  const view = roomView(frame.room);
  addNotice(view, `Some messages of #${view.name} may be missing: the server no longer has them.`,
    Date.now(), 'notice warning');
}

function onRegistered(frame) {
  state.registered = true;
  state.password = state.pendingPassword;
  state.pendingPassword = null;
  const view = activeView();
  if (view) addNotice(view, `${frame.user} is registered: log in with its password from now on`);
  renderAccount();
}

function onModeration(frame) {
  const where = frame.room ? ` in #${frame.room}` : ' on the server';
  const whom = frame.user ?? frame.target ?? '';
  const words = {
    kicked: frame.room ? `${whom} was put out${where} by ${frame.by}` : `${whom} was disconnected by ${frame.by}`,
    banned: `${whom} was banned${where} by ${frame.by}`,
    unbanned: `${whom} was unbanned${where} by ${frame.by}`,
    muted: `${whom} was muted${where} by ${frame.by}`,
    unmuted: `${whom} was unmuted${where} by ${frame.by}`,
    op: `${frame.by} made ${whom} an operator${where}`,
    deop: `${frame.by} took operator${where} from ${whom}`,
    invited: `${frame.by} invited ${whom}${where}`,
    mode: `${frame.by} made${where.replace(' in ', ' ')} ${frame.mode}`,
  };
  let text = words[frame.type] ?? `${frame.type}${where}`;
  if (frame.reason) text += ` (${frame.reason})`;
  // A kick without a room is a kill: the server closes us, and coming back
  // at once would only defy the operator.
  if (frame.type === 'kicked' && !frame.room && isMine(frame.user)) {
    stopReconnecting(`Disconnected by ${frame.by}: not reconnecting.`);
  }
  const view = frame.room ? state.views.get(roomKey(frame.room)) : activeView();
  if (view) addNotice(view, text, Date.now(), 'notice moderation');
  // About us: told where it stays in sight (a room we are put out of goes away).
  if (!view || isMine(frame.user) || isMine(frame.target)) showError(frame.type, text);
}

// ---------------------------------------------------------------- login and the handshake

function helloFrame(user, password, register) {
  const hello = { type: 'hello', user };
  if (password) hello.password = password;
  if (register) hello.register = true;
  // Coming back: every room we were in resumes after the last id we saw.
  if (state.me && sameName(user, state.me)) {
    const rooms = joinedRoomsBeforeLoss();
    if (rooms.length > 0) {
      hello.resume = {};
      for (const view of rooms.slice(0, HELLO_RESUME_LIMIT)) hello.resume[view.name] = state.maxSeenId;
    }
  }
  return hello;
}

function joinedRoomsBeforeLoss() {
  return [...state.views.values()].filter((v) => v.kind === 'room' && v.wasJoined);
}

function startLogin(user, password, register) {
  connection.stopped = false;
  const hello = helloFrame(user, password, register);
  if (socketOpen() && !connection.loggedIn) {
    sendHello(hello);
  } else {
    connect(hello);
  }
}

function sendHello(hello) {
  setStatus(state.me ? `Logging in again as ${state.me}…` : 'Logging in…');
  connection.helloSent = hello;
  sendFrame(hello);
}

function onHandshakeFrame(frame) {
  if (frame.type === 'welcome') return onWelcome(frame);
  if (frame.type === 'error') return onLoginError(frame);
  // Anything else before the welcome is not for us.
}

function onWelcome(frame) {
  const hello = connection.helloSent;
  const comingBack = state.me !== null && sameName(frame.user, state.me);
  if (!comingBack) resetSession();
  connection.loggedIn = true;
  connection.attempt = 0;
  connection.helloSent = null;
  connection.idFloor = comingBack ? state.maxSeenId : 0;
  connection.sawLiveId = false;
  state.me = frame.user;
  state.password = hello?.password ?? null;
  if (hello?.register) state.registered = true;
  else if (!comingBack) state.registered = Boolean(hello?.password);
  state.defaultRoom = frame.room;
  remember('name', frame.user);

  showChatScreen();
  for (const item of ui.errorList.querySelectorAll('li[data-phase="login"]')) item.remove();
  setStatus(`Connected as ${frame.user}`);
  ui.reconnectNow.hidden = true;

  // A room of the hello's resume may be refused (banned, not invited): its
  // error comes before this pong, and not before that of a later request.
  if (hello?.resume) {
    sendFrame({ type: 'ping' });
    state.fences.push({ frame: hello });
  }
  const resumed = new Set(Object.keys(hello?.resume ?? {}).map((r) => r.toLowerCase()));
  const lobby = roomView(frame.room);
  const lobbyWasLeft = comingBack && state.leftDefaultRoom;
  onJoined({ ...frame, type: 'joined' });
  if (comingBack) {
    for (const view of joinedRoomsBeforeLoss()) {
      if (view.kind === 'room' && !resumed.has(view.name.toLowerCase()) && view !== lobby) {
        request({ type: 'resume', room: view.name, after: state.maxSeenId });
      }
      delete view.wasJoined;
    }
    // The server always starts us in the default room: leave it again.
    if (lobbyWasLeft) request({ type: 'leave', room: frame.room });
    addNotice(activeView() ?? lobby, 'Reconnected.', Date.now(), 'notice connection');
  }
  flushOutbox();
  refreshDirectory();
  renderAccount();
  ui.composerText.focus();
}

function onLoginError(error) {
  let message = error.message;
  if (error.retry_after != null) message += ` (try again in ${error.retry_after} s)`;
  showError(error.code, message, state.me ? 'Reconnecting' : 'Login', 'login');
  setStatus('Not logged in');
  const hello = connection.helloSent;
  connection.helloSent = null;

  if (state.me && !ui.chatScreen.hidden) {
    // A reconnect's login: the old session may still hold the name for a moment.
    if (FINAL_LOGIN_ERRORS.has(error.code)) {
      stopReconnecting(`Could not log in again as ${state.me}: ${error.code}.`);
      showLoginScreen(state.me, error.code);
    } else {
      dropSocket();
      scheduleReconnect((error.retry_after ?? 0) * 1000);
    }
    return;
  }
  showLoginScreen(hello?.user ?? ui.loginName.value, error.code);
}

// ---------------------------------------------------------------- the connection

function webSocketUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

function connect(hello) {
  clearTimeout(connection.timer);
  connection.timer = null;
  const ws = new WebSocket(webSocketUrl(), PROTOCOL);
  connection.ws = ws;
  connection.loggedIn = false;
  setStatus(state.me ? 'Reconnecting…' : 'Connecting…');
  ws.addEventListener('open', () => {
    if (ws === connection.ws) sendHello(typeof hello === 'function' ? hello() : hello);
  });
  ws.addEventListener('message', (event) => {
    if (ws === connection.ws && typeof event.data === 'string') onFrame(event.data);
  });
  ws.addEventListener('close', () => {
    if (ws === connection.ws) onConnectionLost();
  });
}

// Forgets the socket without treating its end as news.
function dropSocket() {
  const ws = connection.ws;
  connection.ws = null;
  connection.loggedIn = false;
  ws?.close(1000);
}

function onConnectionLost() {
  const wasLoggedIn = connection.loggedIn;
  connection.ws = null;
  connection.loggedIn = false;
  if (wasLoggedIn) markLost();
  if (connection.stopped) return; // the status says why already
  if (state.me) {
    // After a shutdown frame the page said so already, and a reconnect is set.
    if (wasLoggedIn && !connection.timer) {
      addNotice(activeView(), 'Connection lost. Reconnecting…', Date.now(), 'notice connection');
    }
    scheduleReconnect();
    return;
  }
  setStatus('Not connected');
  if (connection.helloSent) {
    connection.helloSent = null;
    showError('no-connection', 'Could not reach the server. Try again.', 'Login', 'login');
    ui.loginSubmit.disabled = false;
  }
}

// What was in flight when the connection went: rooms to resume, messages
// whose fate the replay will tell.
function markLost() {
  for (const view of state.views.values()) {
    if (view.kind === 'room' && view.joined) {
      view.wasJoined = true;
      view.joined = false;
    }
  }
  for (const { item } of state.pendingByRef.values()) {
    setDelivery(item, 'unconfirmed', 'not confirmed: the connection was lost');
  }
  state.pendingByRef.clear();
  state.fences = [];
  renderSidebar();
}

// Backoff doubles from 0.5 s to 30 s; each wait is cut at random by up to
// half, so that pages a restart dropped together do not come back together.
function scheduleReconnect(atLeastMs = 0) {
  if (connection.timer) return;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** connection.attempt);
  const delay = Math.max(atLeastMs, base / 2 + Math.random() * (base / 2));
  connection.attempt += 1;
  connection.retryAt = Date.now() + delay;
  connection.timer = setTimeout(reconnectNow, delay);
  ui.reconnectNow.hidden = false;
  setStatus(connection.loggedIn ? 'The server is restarting. Reconnecting…' : 'Disconnected. Reconnecting…');
  tickReconnectStatus();
  clearInterval(connection.ticker);
  connection.ticker = setInterval(tickReconnectStatus, 1000);
}

// The countdown is beside the status, not in it: a live region that changed
// every second would be read out every second.
function tickReconnectStatus() {
  if (!connection.timer) {
    clearInterval(connection.ticker);
    ui.countdown.textContent = '';
    return;
  }
  const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
  ui.countdown.textContent = `(${seconds} s)`;
}

function reconnectNow() {
  clearTimeout(connection.timer);
  clearInterval(connection.ticker);
  connection.timer = null;
  if (!state.me) return;
  connection.stopped = false;
  if (connection.ws) {
    if (connection.loggedIn) markLost();
    dropSocket();
  }
  connect(() => helloFrame(state.me, state.password, false));
}

function stopReconnecting(reason) {
  connection.stopped = true;
  clearTimeout(connection.timer);
  clearInterval(connection.ticker);
  connection.timer = null;
  setStatus(reason);
  ui.reconnectNow.hidden = false;
}

// The server is going down and says to come back: after a short, random
// wait (its drain refuses new sockets meanwhile, and the backoff covers
// that); the old socket is kept until then, as the server still serves it.
function onShutdown() {
  addNotice(activeView(), 'The server is restarting. Reconnecting…', Date.now(), 'notice connection');
  scheduleReconnect();
}

function setStatus(text) {
  ui.status.textContent = text;
  ui.countdown.textContent = '';
}

// A new login under another name starts from nothing.
function resetSession() {
  for (const view of [...state.views.values()]) state.views.delete(view.key);
  state.active = null;
  state.maxSeenId = 0;
  state.pendingByRef.clear();
  state.outbox = [];
  state.fences = [];
  state.leftDefaultRoom = false;
  state.registered = false;
  ui.scroller.querySelector('ol.messages').replaceWith(createEmptyList());
}

function refreshDirectory() {
  if (socketOpen() && connection.loggedIn) request({ type: 'rooms' });
}

// ---------------------------------------------------------------- screens

function showLoginScreen(name, code) {
  ui.chatScreen.hidden = true;
  ui.sidebarToggle.hidden = true;
  ui.loginScreen.hidden = false;
  ui.loginSubmit.disabled = false;
  ui.loginName.value = name ?? '';
  const wantsPassword = code === 'password-required' || code === 'auth-failed' ||
    code === 'bad-password';
  if (code === 'account-required') {
    ui.loginRegister.checked = true;
    ui.loginMessage.textContent = 'This server only takes registered names: choose a password to register yours.';
  } else if (code === 'password-required') {
    ui.loginMessage.textContent = `${name} is registered: enter its password.`;
  } else if (code === 'auth-failed') {
    ui.loginMessage.textContent = 'Wrong password. Try again.';
  } else {
    ui.loginMessage.textContent = '';
  }
  showPasswordRow(wantsPassword || ui.loginRegister.checked);
  if (wantsPassword || ui.loginRegister.checked) {
    ui.loginPassword.value = '';
    ui.loginPassword.focus();
  } else {
    ui.loginName.focus();
    ui.loginName.select();
  }
}

function showPasswordRow(visible) {
  ui.loginPasswordRow.hidden = !visible;
  const registering = ui.loginRegister.checked;
  ui.loginPassword.autocomplete = registering ? 'new-password' : 'current-password';
  ui.loginPasswordHint.textContent = registering
    ? 'At least 8 characters. You will need it to use this name again.'
    : '';
}

function showChatScreen() {
  ui.loginScreen.hidden = true;
  ui.chatScreen.hidden = false;
  ui.sidebarToggle.hidden = false;
}

function onLoginSubmit(event) {
  event.preventDefault();
  const name = ui.loginName.value.trim();
  if (!name) {
    ui.loginMessage.textContent = 'Enter a name first.';
    ui.loginName.focus();
    return;
  }
  const register = ui.loginRegister.checked;
  const password = ui.loginPasswordRow.hidden ? '' : ui.loginPassword.value;
  if (register && password.length < 8) {
    ui.loginMessage.textContent = 'Choose a password of at least 8 characters.';
    showPasswordRow(true);
    ui.loginPassword.focus();
    return;
  }
  ui.loginMessage.textContent = 'Logging in…';
  ui.loginSubmit.disabled = true;
  // A new name is a new session; the same name picks up where it left off.
  if (state.me && !sameName(name, state.me)) state.me = null;
  startLogin(name, password || null, register);
  // Re-enabled when the answer comes (an error shows the form again).
  setTimeout(() => { ui.loginSubmit.disabled = false; }, 3000);
}

// ---------------------------------------------------------------- sidebar and header

// Lists are drawn afresh on each change; the button that had the focus
// keeps it, so that a message arriving does not throw a keyboard user out.
function keepFocus(container, draw) {
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  draw();
  if (focused) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function renderSidebar() {
  keepFocus(ui.sidebar, drawSidebar);
}

function drawSidebar() {
  renderViewList(ui.roomList, [...state.views.values()].filter((v) => v.kind === 'room'));
  renderViewList(ui.dmList, [...state.views.values()].filter((v) => v.kind === 'dm'));
  renderDirectory();
  renderPeople();
  const unread = [...state.views.values()].reduce((sum, v) => sum + v.unread, 0);
  document.title = unread > 0 ? `(${unread}) chat` : 'chat';
  ui.sidebarToggleUnread.hidden = unread === 0;
  ui.sidebarToggleUnread.textContent = String(unread);
}

function byName(a, b) {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

function renderViewList(list, views) {
  list.replaceChildren(...views.sort(byName).map(viewListItem));
}

function viewListItem(view) {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'view-button';
  button.dataset.view = view.key;
  button.dataset.key = 'view:' + view.key;
  if (view.key === state.active) button.setAttribute('aria-current', 'true');
  if (view.kind === 'room' && !view.joined) button.classList.add('rejoining');

  const name = document.createElement('span');
  name.className = 'view-name';
  name.textContent = viewLabel(view);
  button.append(name);

  const described = [viewLabel(view)];
  if (view.kind === 'room') {
    const members = view.count ?? view.members.size;
    const count = document.createElement('span');
    count.className = 'count';
    count.textContent = String(members);
    count.title = `${members} ${members === 1 ? 'member' : 'members'}`;
    button.append(count);
    described.push(`${members} ${members === 1 ? 'member' : 'members'}`);
  }
  if (view.unread > 0) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = String(view.unread);
    button.append(badge);
    described.push(`${view.unread} unread`);
  }
  button.setAttribute('aria-label', described.join(', '));
  button.addEventListener('click', () => {
    activate(view.key);
    ui.composerText.focus();
  });
  item.append(button);
  return item;
}

function renderDirectory() {
  const others = state.directory.filter((entry) => !state.views.get(roomKey(entry.room))?.joined);
  ui.directoryList.replaceChildren(...others.map(directoryItem));
  ui.directoryEmpty.hidden = others.length > 0;
}

function directoryItem(entry) {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'view-button';
  button.dataset.key = 'join:' + entry.room.toLowerCase();
  const name = document.createElement('span');
  name.className = 'view-name';
  name.textContent = '#' + entry.room;
  const count = document.createElement('span');
  count.className = 'count';
  count.textContent = String(entry.users);
  button.append(name, count);
  if (entry.topic) {
    const topic = document.createElement('span');
    topic.className = 'directory-topic';
    topic.textContent = entry.topic;
    button.append(topic);
  }
  const members = `${entry.users} ${entry.users === 1 ? 'member' : 'members'}`;
  button.setAttribute('aria-label', `Join #${entry.room}, ${members}${entry.topic ? ', topic: ' + entry.topic : ''}`);
  button.addEventListener('click', () => joinRoom(entry.room));
  item.append(button);
  return item;
}

// Who is online, as far as the protocol tells: the members of the room on
// screen (there is no server-wide list), or the peer of a conversation.
function renderPeople() {
  const view = activeView();
  let names = [];
  if (view?.kind === 'room') {
    names = [...view.members].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
    ui.peopleTitle.textContent = `Online in #${view.name}`;
  } else if (view?.kind === 'dm') {
    names = [view.name];
    ui.peopleTitle.textContent = 'In this conversation';
  } else {
    ui.peopleTitle.textContent = 'Online here';
  }
  ui.showMembers.hidden = !(view?.kind === 'room' && view.count != null);
  if (view?.count != null) ui.showMembers.textContent = `Show the ${view.count} members`;
  ui.peopleList.replaceChildren(...names.map(personItem));
}

function personItem(name) {
  const item = document.createElement('li');
  if (isMine(name)) {
    item.className = 'person me';
    item.textContent = `${name} (you)`;
    return item;
  }
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'person-button';
  button.dataset.key = 'person:' + name;
  button.textContent = name;
  button.setAttribute('aria-label', `Send ${name} a direct message`);
  button.addEventListener('click', () => openConversation(name));
  item.className = 'person';
  item.append(button);
  return item;
}

function renderConversationHead() {
  const view = activeView();
  ui.conversationTitle.textContent = view ? viewLabel(view) : 'No room';
  const topic = view?.kind === 'room' ? view.topic : '';
  ui.conversationTopic.textContent = view?.kind === 'dm'
    ? `Direct messages with ${view.name}`
    : topic || (view ? 'No topic' : 'Join a room to start.');
  ui.conversationTopic.classList.toggle('empty', !topic);
  ui.editTopic.hidden = view?.kind !== 'room';
  ui.leaveRoom.hidden = !view;
  ui.leaveRoom.textContent = view?.kind === 'dm' ? 'Close' : 'Leave';
  ui.composerLabel.textContent = view ? `Message ${viewLabel(view)}` : 'Message';
  ui.composerText.placeholder = view ? `Message ${viewLabel(view)}` : 'Join a room first';
  ui.scroller.setAttribute('aria-label', view ? `Messages in ${viewLabel(view)}` : 'Messages');
}

function renderOlderControls() {
  const view = activeView();
  const room = view?.kind === 'room';
  ui.loadOlder.hidden = !room || view.olderDone;
  ui.loadOlder.disabled = Boolean(view?.olderLoading);
  ui.loadOlder.textContent = view?.olderLoading ? 'Loading…' : 'Load older messages';
  ui.historyStart.hidden = !room || !view.olderDone;
}

function renderAccount() {
  ui.meName.textContent = state.me ?? '';
  ui.meAccount.hidden = !state.registered;
  ui.registerForm.hidden = state.registered;
  // An account's name is its own: the server refuses a nick (PROTOCOL 2.6).
  ui.nickForm.hidden = state.registered;
}

function closeSidebarOnPhone() {
  if (ui.sidebar.classList.contains('open')) toggleSidebar(false);
}

function toggleSidebar(open = !ui.sidebar.classList.contains('open')) {
  ui.sidebar.classList.toggle('open', open);
  ui.sidebarToggle.setAttribute('aria-expanded', String(open));
}

// ---------------------------------------------------------------- actions

function joinRoom(room) {
  const name = room.trim().replace(/^#/, '');
  if (!name) return;
  const existing = state.views.get(roomKey(name));
  if (existing?.joined) {
    activate(existing.key);
    return;
  }
  request({ type: 'join', room: name });
}

function leaveActive() {
  const view = activeView();
  if (!view) return;
  // A conversation, or a room the reconnect could not rejoin, is only on this page.
  if (view.kind === 'dm' || !view.joined) removeView(view);
  else request({ type: 'leave', room: view.name });
}

function openConversation(name) {
  const peer = name.trim();
  if (!peer) return;
  activate(dmView(peer).key);
  renderSidebar();
  ui.composerText.focus();
}

function loadOlder() {
  const view = activeView();
  if (view?.kind !== 'room' || view.olderLoading || view.olderDone) return;
  const frame = { type: 'history', room: view.name, limit: HISTORY_PAGE };
  const oldest = lowestId(view);
  if (oldest != null) frame.before = oldest;
  view.olderLoading = true;
  if (!request(frame)) view.olderLoading = false;
  renderOlderControls();
}

function lowestId(view) {
  let lowest = null;
  for (const id of view.ids) if (lowest === null || id < lowest) lowest = id;
  return lowest;
}

function changeName(name) {
  const wanted = name.trim();
  if (!wanted || wanted === state.me) return;
  request({ type: 'nick', user: wanted });
}

function setTopic(text) {
  const view = activeView();
  if (view?.kind !== 'room') return;
  request({ type: 'topic', room: view.name, text });
}

function register(password) {
  if (password.length < 8) {
    showError('bad-password', 'Choose a password of at least 8 characters.');
    return;
  }
  state.pendingPassword = password;
  request({ type: 'register', password });
}

// The message box takes commands too, for those who prefer typing.
const commands = {
  join: (arg) => joinRoom(arg),
  leave: (arg) => (arg ? request({ type: 'leave', room: arg.replace(/^#/, '') }) : leaveActive()),
  msg: (arg) => {
    const [, to, text] = /^(\S+)\s+(.+)$/.exec(arg) ?? [];
    if (!to) return showError('bad-request', 'Usage: /msg NAME TEXT');
    openConversation(to);
    sendMessage(dmView(to), text);
  },
  nick: (arg) => changeName(arg),
  topic: (arg) => setTopic(arg),
  who: () => {
    const view = activeView();
    if (view?.kind === 'room') request({ type: 'who', room: view.name });
    toggleSidebar(true);
  },
  rooms: () => {
    refreshDirectory();
    toggleSidebar(true);
  },
  register: (arg) => register(arg),
};

function onComposerSubmit(event) {
  event.preventDefault();
  const text = ui.composerText.value;
  if (!text.trim()) return;
  if (text.startsWith('/') && !text.startsWith('//')) {
    const [, name, arg = ''] = /^\/(\S+)\s*(.*)$/.exec(text) ?? [];
    const command = commands[name];
    if (!command) {
      showError('unknown-command', `Unknown command /${name}. Commands: ${Object.keys(commands).map((c) => '/' + c).join(', ')}. Start with // to send a line beginning with /.`);
      return;
    }
    command(arg.trim());
    ui.composerText.value = '';
    return;
  }
  const view = activeView();
  if (!view || (view.kind === 'room' && !view.joined && socketOpen())) {
    showError('not-in-room', 'Join a room first.');
    return;
  }
  // Control characters are refused by the server; a tab is the one allowed.
  const clean = (text.startsWith('//') ? text.slice(1) : text).replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ');
  if (sendMessage(view, clean)) ui.composerText.value = '';
}

// Alt+Up and Alt+Down go through the rooms and conversations in list order.
function onKeyDown(event) {
  if (event.key === 'Escape' && ui.sidebar.classList.contains('open')) {
    toggleSidebar(false);
    ui.sidebarToggle.focus();
    return;
  }
  if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
  const order = [...document.querySelectorAll('#room-list .view-button, #dm-list .view-button')]
    .map((b) => b.dataset.view);
  if (order.length === 0) return;
  event.preventDefault();
  const here = order.indexOf(state.active);
  const step = event.key === 'ArrowUp' ? -1 : 1;
  activate(order[(here + step + order.length) % order.length]);
  ui.composerText.focus();
}

function remember(key, value) {
  try {
    localStorage.setItem('chat.' + key, value);
  } catch {
    // Storage may be off (private windows): the page works without it.
  }
}

function recall(key) {
  try {
    return localStorage.getItem('chat.' + key);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  ui.loginForm.addEventListener('submit', onLoginSubmit);
  ui.loginRegister.addEventListener('change', () => showPasswordRow(ui.loginRegister.checked || !ui.loginPasswordRow.hidden));
  ui.composer.addEventListener('submit', onComposerSubmit);
  ui.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    joinRoom(ui.joinRoom.value);
    ui.joinRoom.value = '';
  });
  ui.dmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    openConversation(ui.dmName.value);
    ui.dmName.value = '';
  });
  ui.nickForm.addEventListener('submit', (event) => {
    event.preventDefault();
    changeName(ui.nickName.value);
    ui.nickName.value = '';
  });
  ui.registerForm.addEventListener('submit', (event) => {
    event.preventDefault();
    register(ui.registerPassword.value);
    ui.registerPassword.value = '';
  });
  ui.editTopic.addEventListener('click', () => {
    ui.topicForm.hidden = false;
    ui.topicText.value = activeView()?.topic ?? '';
    ui.topicText.focus();
  });
  ui.topicForm.addEventListener('submit', (event) => {
    event.preventDefault();
    setTopic(ui.topicText.value);
    ui.topicForm.hidden = true;
    ui.editTopic.focus();
  });
  ui.topicCancel.addEventListener('click', () => {
    ui.topicForm.hidden = true;
    ui.editTopic.focus();
  });
  ui.leaveRoom.addEventListener('click', leaveActive);
  ui.refreshRooms.addEventListener('click', refreshDirectory);
  ui.loadOlder.addEventListener('click', loadOlder);
  ui.showMembers.addEventListener('click', () => {
    const view = activeView();
    if (view?.kind === 'room') request({ type: 'who', room: view.name });
  });
  ui.jumpLatest.addEventListener('click', () => {
    scrollToBottom();
    ui.jumpLatest.hidden = true;
    ui.composerText.focus();
  });
  ui.scroller.addEventListener('scroll', () => {
    if (isNearBottom()) ui.jumpLatest.hidden = true;
  });
  ui.sidebarToggle.addEventListener('click', () => {
    toggleSidebar();
    if (ui.sidebar.classList.contains('open')) refreshDirectory();
  });
  window.addEventListener('focus', refreshDirectory);
  ui.reconnectNow.addEventListener('click', () => {
    connection.attempt = 0;
    reconnectNow();
  });
  document.addEventListener('keydown', onKeyDown);
  document.addEventListener('visibilitychange', () => {
    const view = activeView();
    if (document.visibilityState !== 'visible') return;
    refreshDirectory();
    if (view && view.unread > 0) {
      view.unread = 0;
      renderSidebar();
    }
  });
  // Back online: no need to sit out the rest of the backoff.
  window.addEventListener('online', () => {
    if (connection.timer) reconnectNow();
  });
  setInterval(() => {
    if (document.visibilityState === 'visible') refreshDirectory();
  }, ROOMS_REFRESH_MS);
}

wire();
renderSidebar();
renderConversationHead();
renderOlderControls();
showLoginScreen(recall('name') ?? '', null);
