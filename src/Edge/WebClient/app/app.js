// The page: renders what the session receives and turns clicks into frames. Plain DOM, no framework.
import { ChatSession } from './client.js';
import { backoffDelay, directChatId, directPeer, presenceText, ReceiptBook, tick, Timeline, TypingBoard } from './model.js';

const $ = (selector) => document.querySelector(selector);
const HISTORY_PAGE = 30;
const TYPING_RENEW_MS = 3000;
const READ_THROTTLE_MS = 500;

const state = {
  chats: new Map(),      // chatId -> { chatId, kind, title, role, lastMessage, lastEventAt, unread, members: Set, left }
  timelines: new Map(),  // chatId -> Timeline
  acked: new Map(),      // chatId -> highest seq acked
  readSent: new Map(),   // chatId -> highest seq sent as read
  receipts: new ReceiptBook(),
  typing: new TypingBoard(),
  presence: new Map(),   // userId -> presence entry
  mediaUrls: new Map(),  // key -> Promise<url>
  local: new Map(),      // clientMsgId -> my send frame, until its message arrives
  current: null,
  loadingHistory: false,
};
let session;

// --- sign-in ------------------------------------------------------------------------------------
const params = new URLSearchParams(location.search);
const savedDevice = sessionStorage.getItem('deviceId') ?? `web-${Math.random().toString(36).slice(2, 8)}`;
$('#user').value = params.get('user') ?? sessionStorage.getItem('userId') ?? '';
$('#device').value = params.get('device') ?? savedDevice;
$('#signin').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('#user').value.trim(), $('#device').value.trim());
});
if (params.get('user')) signIn($('#user').value.trim(), $('#device').value.trim());

async function signIn(userId, deviceId) {
  if (!userId || !deviceId) return;
  // Per tab: two tabs are two devices of the user (sessionStorage is per tab).
  sessionStorage.setItem('userId', userId);
  sessionStorage.setItem('deviceId', deviceId);
  session = new ChatSession({ userId, deviceId, transport: params.get('transport') ?? 'auto' });
  window.chatApp = { session, state };
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#me').textContent = `${userId} · ${deviceId}`;
  session.addEventListener('state', (e) => renderStatus(e.detail));
  session.addEventListener('problem', (e) => notice(e.detail.message));
  session.addEventListener('frame', (e) => onFrame(e.detail));
  session.addEventListener('open', () => onOpen());
  try {
    // Before the first sync acks anything: the server's unread counts are still this device's.
    await refreshChats();
  } catch (e) {
    notice(`chat list: ${e.message}`);
  }
  session.connect();
}

function notice(text) {
  const el = $('#notice');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => (el.hidden = true), 6000);
}

function renderStatus({ state: s, transport, reason, delay }) {
  const el = $('#status');
  el.dataset.state = s;
  el.dataset.transport = transport ?? '';
  el.textContent = {
    connecting: 'connecting…',
    online: `online · ${transport}`,
    reconnecting: `reconnecting in ${Math.round((delay ?? 0) / 1000)} s (${reason})`,
    stopped: `disconnected: ${reason}`,
  }[s] ?? s;
}

async function onOpen() {
  if (state.current) {
    watchPresence(state.current);
    // Anything the page missed while offline (sync brings the inbox; the open chat's gaps too).
    await loadHistory(state.current, { newest: true });
  }
}

// --- chats --------------------------------------------------------------------------------------
async function refreshChats() {
  const { chats } = await session.api('/v1/chats?limit=200');
  for (const c of chats) {
    const known = state.chats.get(c.chatId);
    const chat = known ?? { members: new Set(), unread: 0 };
    Object.assign(chat, {
      chatId: c.chatId,
      kind: c.kind,
      title: c.title,
      role: c.role,
      lastMessage: newer(chat.lastMessage, c.lastMessage),
      lastEventAt: chat.lastEventAt && chat.lastEventAt > c.lastEventAt ? chat.lastEventAt : c.lastEventAt,
    });
    // The server counts messages after this device's cursor up to its last message; the page counts
    // every later one itself (countedThrough), and keeps its own count for a chat it knew first
    // (a live message can arrive, and be acked, before the list loads or the first sync ends).
    if (!known) {
      chat.unread = state.current === c.chatId ? 0 : c.unread;
      chat.countedThrough = c.lastMessage?.seq ?? 0;
    }
    state.chats.set(c.chatId, chat);
  }
  renderChatList();
}

function newer(a, b) {
  if (!a) return b;
  if (!b) return a;
  return a.seq >= b.seq ? a : b;
}

let refreshTimer;
function refreshChatsSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refreshChats().catch((e) => notice(`chat list: ${e.message}`)), 300);
}

function chatOf(chatId) {
  let chat = state.chats.get(chatId);
  if (!chat) {
    const peer = directPeer(chatId, session.userId);
    chat = { chatId, kind: peer ? 'direct' : 'group', title: null, role: 'member', unread: 0, members: new Set(), lastEventAt: '' };
    if (peer) chat.members = new Set([session.userId, peer]);
    state.chats.set(chatId, chat);
    refreshChatsSoon();
  }
  return chat;
}

function timelineOf(chatId) {
  let timeline = state.timelines.get(chatId);
  if (!timeline) {
    timeline = new Timeline();
    state.timelines.set(chatId, timeline);
  }
  return timeline;
}

function chatTitle(chat) {
  return directPeer(chat.chatId, session.userId) ?? chat.title ?? chat.chatId;
}

function renderChatList() {
  const list = $('#chat-list');
  const chats = [...state.chats.values()].sort((a, b) => (b.lastEventAt ?? '').localeCompare(a.lastEventAt ?? ''));
  list.replaceChildren(
    ...chats.map((chat) => {
      const li = document.createElement('li');
      li.className = 'chat' + (chat.chatId === state.current ? ' selected' : '');
      li.dataset.chatId = chat.chatId;
      const last = chat.lastMessage;
      const preview = last ? `${last.sender.userId === session.userId ? 'you' : last.sender.userId}: ${messagePreview(last)}` : 'no messages yet';
      li.innerHTML = `<div class="row"><span class="title"></span><span class="unread"></span></div><div class="last"></div>`;
      li.querySelector('.title').textContent = (chat.kind === 'group' ? '# ' : '') + chatTitle(chat);
      li.querySelector('.last').textContent = preview;
      const unread = li.querySelector('.unread');
      unread.textContent = chat.unread > 0 ? String(chat.unread) : '';
      unread.hidden = chat.unread <= 0;
      li.addEventListener('click', () => openChat(chat.chatId));
      return li;
    }),
  );
}

function messagePreview(m) {
  if (m.deletedAt) return 'message deleted';
  if (m.body) return m.body;
  return m.attachments?.length ? `[${m.attachments[0].fileName ?? 'attachment'}]` : '';
}

$('#new-direct').addEventListener('submit', (e) => {
  e.preventDefault();
  const peer = $('#direct-user').value.trim();
  if (!peer || peer === session.userId) return;
  const chatId = directChatId(session.userId, peer);
  chatOf(chatId);
  $('#direct-user').value = '';
  openChat(chatId);
});

$('#new-group').addEventListener('submit', async (e) => {
  e.preventDefault();
  const title = $('#group-title').value.trim();
  const members = $('#group-members').value.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    const { chatId } = await session.request({ type: 'chat.create', members, title: title || undefined });
    const chat = chatOf(chatId);
    chat.title = title || null;
    chat.role = 'admin';
    chat.members = new Set([session.userId, ...members]);
    chat.lastEventAt = new Date().toISOString();
    $('#group-title').value = '';
    $('#group-members').value = '';
    openChat(chatId);
  } catch (err) {
    notice(`create group: ${err.code ?? ''} ${err.message}`);
  }
});

// --- frames -------------------------------------------------------------------------------------
function onFrame(frame) {
  switch (frame.type) {
    case 'message':
      onMessage(frame);
      break;
    case 'chat.updated':
      onChatUpdated(frame);
      break;
    case 'message.edited':
    case 'message.deleted':
    case 'reaction':
      onContentChange(frame);
      break;
    case 'receipt':
      state.receipts.add(frame);
      if (frame.chatId === state.current) renderMessages();
      break;
    case 'read.marker': {
      // Another device of mine read the chat.
      const chat = state.chats.get(frame.chatId);
      if (chat) chat.unread = 0;
      renderChatList();
      break;
    }
    case 'typing':
      state.typing.apply(frame, Date.now());
      renderTyping();
      setTimeout(renderTyping, frame.expiresInMs + 50);
      break;
    case 'presence':
      for (const p of frame.users) state.presence.set(p.userId, p);
      renderHeader();
      break;
    case 'presence.changed':
      state.presence.set(frame.userId, frame);
      renderHeader();
      break;
    case 'message.accepted':
      if (frame.chatId === state.current) renderMessages();
      break;
    case 'sync.done':
      refreshChatsSoon();
      break;
    default:
      break;
  }
}

function onMessage(m) {
  const timeline = timelineOf(m.chatId);
  const gap = timeline.gapBefore(m.seq);
  const added = timeline.addMessage(m);
  const chat = chatOf(m.chatId);
  chat.lastMessage = newer(chat.lastMessage, m);
  if (m.sentAt > (chat.lastEventAt ?? '')) chat.lastEventAt = m.sentAt;
  const mine = m.sender.userId === session.userId;
  // Messages up to `countedThrough` are in the chat list's `unread` already (the first sync brings them again).
  if (added && !mine && m.seq > (chat.countedThrough ?? 0) && !isLooking(m.chatId) && m.seq > (state.readSent.get(m.chatId) ?? 0)) chat.unread++;
  if (gap) fillGap(m.chatId, gap);
  else ack(m.chatId, m.seq);
  if (m.chatId === state.current) {
    renderMessages();
    markRead(m.chatId);
  }
  renderChatList();
}

function onChatUpdated(u) {
  const chat = chatOf(u.chatId);
  const ids = u.userIds ?? [];
  if (u.change === 'created') {
    chat.members = new Set([u.actor.userId, ...ids]);
    if (u.title) chat.title = u.title;
  } else if (u.change === 'members.added') ids.forEach((id) => chat.members.add(id));
  else if (u.change === 'member.removed' || u.change === 'member.left') {
    chat.members.delete(ids[0]);
    if (ids[0] === session.userId) chat.left = true;
    if (u.change === 'member.left' && ids[1] === session.userId) chat.role = 'admin';
  } else if (u.change === 'admin.granted' && ids.includes(session.userId)) chat.role = 'admin';
  if (u.at > (chat.lastEventAt ?? '')) chat.lastEventAt = u.at;
  const timeline = timelineOf(u.chatId);
  timeline.addMessage({ kind: 'event', chatId: u.chatId, seq: u.seq, messageId: `event:${u.seq}`, text: describeChange(u) });
  ack(u.chatId, u.seq);
  if (u.chatId === state.current) {
    renderMessages();
    renderHeader();
  }
  renderChatList();
}

function describeChange(u) {
  const who = u.actor.userId === session.userId ? 'you' : u.actor.userId;
  const ids = (u.userIds ?? []).join(', ');
  switch (u.change) {
    case 'created':
      return `${who} created the chat${u.title ? ` “${u.title}”` : ''}`;
    case 'members.added':
      return `${who} added ${ids}`;
    case 'member.removed':
      return `${who} removed ${ids}`;
    case 'member.left':
      return `${u.userIds?.[0]} left`;
    case 'admin.granted':
      return `${who} made ${ids} an admin`;
    default:
      return u.change;
  }
}

function onContentChange(f) {
  const timeline = timelineOf(f.chatId);
  timeline.markFilled(f.seq);
  const target = timeline.bySeq.get(f.messageSeq);
  if (target) {
    if (f.type === 'message.edited') Object.assign(target, { body: f.body, editedAt: f.editedAt });
    if (f.type === 'message.deleted') Object.assign(target, { body: '', attachments: undefined, deletedAt: f.deletedAt });
    if (f.type === 'reaction') {
      const others = (target.reactions ?? []).filter((r) => r.userId !== f.actor.userId);
      target.reactions = f.emoji ? [...others, { userId: f.actor.userId, emoji: f.emoji }] : others;
    }
  }
  ack(f.chatId, f.seq);
  if (f.chatId === state.current) renderMessages();
}

/** Cumulative ack of what this device stored (never lower than before). */
function ack(chatId, seq) {
  if ((state.acked.get(chatId) ?? 0) >= seq) return;
  state.acked.set(chatId, seq);
  session.post({ type: 'ack', chatId, seq });
}

async function fillGap(chatId, gap) {
  try {
    const page = await session.request({ type: 'history', chatId, beforeSeq: gap.beforeSeq, limit: Math.min(gap.limit, 500) });
    const timeline = timelineOf(chatId);
    timeline.addPage({ ...page, hasMore: timeline.hasMore });
    // The hole history did not fill was a membership change or an edit: treat it as filled.
    for (let s = gap.beforeSeq - gap.limit; s < gap.beforeSeq; s++) timeline.markFilled(s);
    ack(chatId, timeline.highest());
    if (chatId === state.current) renderMessages();
  } catch (e) {
    notice(`gap fill: ${e.message}`);
  }
}

// --- the open chat ------------------------------------------------------------------------------
function isLooking(chatId) {
  return chatId === state.current && document.visibilityState === 'visible';
}

async function openChat(chatId) {
  if (state.current && state.current !== chatId) unwatchPresence(state.current);
  state.current = chatId;
  const chat = chatOf(chatId);
  chat.unread = 0;
  $('#conversation').hidden = false;
  $('#empty').hidden = true;
  renderChatList();
  renderHeader();
  renderMessages({ scroll: 'bottom' });
  watchPresence(chatId);
  // A direct chat nobody wrote in yet has no history to ask for.
  if (directPeer(chatId, session.userId) && !chat.lastEventAt) timelineOf(chatId).hasMore = false;
  await loadHistory(chatId, { newest: true });
  renderMessages({ scroll: 'bottom' });
  markRead(chatId);
  $('#text').focus();
}

async function loadHistory(chatId, { newest = false } = {}) {
  const timeline = timelineOf(chatId);
  if (state.loadingHistory || (!newest && !timeline.hasMore) || session.state !== 'online') return;
  if (directPeer(chatId, session.userId) && !state.chats.get(chatId)?.lastEventAt) return; // not created yet
  state.loadingHistory = true;
  const list = $('#messages');
  const before = list.scrollHeight - list.scrollTop;
  try {
    const beforeSeq = newest || timeline.oldestLoaded === Infinity ? undefined : timeline.oldestLoaded;
    const page = await session.request({ type: 'history', chatId, beforeSeq, limit: HISTORY_PAGE });
    const wasEmpty = timeline.bySeq.size === 0;
    timeline.addPage(newest && !wasEmpty ? { ...page, hasMore: timeline.hasMore && page.hasMore } : page);
    if (page.readSeq && page.readSeq > (state.readSent.get(chatId) ?? 0)) state.readSent.set(chatId, page.readSeq);
    if (page.messages.length > 0) ack(chatId, Math.max(...page.messages.map((m) => m.seq)));
    if (chatId === state.current) {
      renderMessages();
      // Keep the message under the reader's eyes where it was when older ones come in above.
      if (!newest) list.scrollTop = list.scrollHeight - before;
    }
  } catch (e) {
    if (e.code !== 'not_member') notice(`history: ${e.message}`);
  } finally {
    state.loadingHistory = false;
  }
}

$('#messages').addEventListener('scroll', () => {
  if ($('#messages').scrollTop < 40 && state.current) loadHistory(state.current);
});

/** Tells the other members (and my other devices) what I have seen: `read` once, at the highest seq. */
function markRead(chatId) {
  if (!isLooking(chatId)) return;
  const timeline = timelineOf(chatId);
  const seq = timeline.highest();
  if (seq <= (state.readSent.get(chatId) ?? 0)) return;
  const now = Date.now();
  const last = markRead.at?.get(chatId) ?? 0;
  if (now - last < READ_THROTTLE_MS) {
    clearTimeout(markRead.timer);
    markRead.timer = setTimeout(() => markRead(chatId), READ_THROTTLE_MS);
    return;
  }
  (markRead.at ??= new Map()).set(chatId, now);
  state.readSent.set(chatId, seq);
  session.post({ type: 'read', chatId, seq });
}
document.addEventListener('visibilitychange', () => state.current && markRead(state.current));

function watchPresence(chatId, attempt = 0) {
  const peer = directPeer(chatId, session.userId);
  if (!peer) return;
  session.request({ type: 'presence.watch', userIds: [peer] }).catch((e) => {
    // not_member: no shared chat yet (the first message creates it), or the read model that
    // presence is checked against has not applied it yet (it trails the log): ask again shortly.
    if (e.code === 'not_member' && state.chats.get(chatId)?.lastEventAt && attempt < 5 && state.current === chatId) {
      setTimeout(() => watchPresence(chatId, attempt + 1), 500 * (attempt + 1));
    }
  });
}

function unwatchPresence(chatId) {
  const peer = directPeer(chatId, session.userId);
  if (peer) session.request({ type: 'presence.unwatch', userIds: [peer] }).catch(() => {});
}

function renderHeader() {
  if (!state.current) return;
  const chat = chatOf(state.current);
  $('#chat-title').textContent = chatTitle(chat);
  const peer = directPeer(chat.chatId, session.userId);
  $('#chat-presence').textContent = peer
    ? presenceText(state.presence.get(peer), Date.now())
    : `${chat.members.size || '?'} members${chat.role === 'admin' ? ' · you are an admin' : ''}${chat.left ? ' · you left' : ''}`;
  $('#members').hidden = chat.kind !== 'group';
  $('#member-list').textContent = [...chat.members].sort().join(', ');
  renderTyping();
}

function renderTyping() {
  if (!state.current) return;
  const typists = state.typing.typists(state.current, Date.now());
  $('#typing').textContent = typists.length ? `${typists.join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…` : '';
}

function renderMessages({ scroll } = {}) {
  const list = $('#messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const chatId = state.current;
  const chat = chatOf(chatId);
  const timeline = timelineOf(chatId);
  const others = chat.kind === 'direct' ? 1 : chat.members.size > 1 ? chat.members.size - 1 : undefined;
  const items = timeline.messages();
  // Sends not yet in the log or not yet pushed back: shown at the end with their tick.
  const shown = new Set(items.filter((m) => m.clientMsgId && m.sender?.userId === session.userId).map((m) => m.clientMsgId));
  for (const f of state.local.values()) {
    if (shown.has(f.clientMsgId)) state.local.delete(f.clientMsgId);
    else if ((f.chatId ?? directChatId(session.userId, f.toUserId)) === chatId) {
      items.push({ ...f, chatId, seq: null, sender: { userId: session.userId, deviceId: session.deviceId }, sentAt: new Date().toISOString() });
    }
  }
  const top = document.createElement('li');
  top.className = 'history-edge';
  top.textContent = timeline.hasMore ? 'scroll up for older messages' : 'beginning of the conversation';
  list.replaceChildren(top, ...items.map((m) => renderMessage(m, others)));
  if (scroll === 'bottom' || atBottom) list.scrollTop = list.scrollHeight;
}

function renderMessage(m, others) {
  const li = document.createElement('li');
  if (m.kind === 'event') {
    li.className = 'event';
    li.dataset.seq = m.seq;
    li.textContent = m.text;
    return li;
  }
  const mine = m.sender.userId === session.userId;
  li.className = 'message' + (mine ? ' mine' : '') + (m.deletedAt ? ' deleted' : '');
  if (m.seq != null) li.dataset.seq = m.seq;
  li.dataset.clientMsgId = m.clientMsgId;
  li.innerHTML = '<div class="sender"></div><div class="body"></div><div class="attachments"></div><div class="meta"><span class="time"></span><span class="tick"></span></div>';
  li.querySelector('.sender').textContent = mine ? '' : m.sender.userId;
  li.querySelector('.body').textContent = m.deletedAt ? 'this message was deleted' : m.body ?? '';
  const attachments = li.querySelector('.attachments');
  for (const a of m.attachments ?? []) attachments.append(renderAttachment(a));
  li.querySelector('.time').textContent = new Date(m.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + (m.editedAt ? ' · edited' : '');
  if (m.reactions?.length) li.querySelector('.meta').prepend(m.reactions.map((r) => r.emoji).join(''), ' ');
  if (mine) {
    const t = m.seq == null && !session.outbox.has(m.clientMsgId) ? 'sent' : tick(m, state.receipts, others);
    const el = li.querySelector('.tick');
    el.dataset.tick = t;
    el.textContent = { pending: '…', sent: '✓', delivered: '✓✓', read: '✓✓' }[t];
    el.title = t;
  }
  return li;
}

function renderAttachment(a) {
  const box = document.createElement('div');
  box.className = 'attachment';
  if (a.contentType.startsWith('image/')) {
    const img = document.createElement('img');
    img.alt = a.fileName ?? 'image';
    img.dataset.key = a.key;
    mediaUrl(a.key).then((url) => (img.src = url)).catch(() => (img.alt = 'image unavailable'));
    box.append(img);
  } else {
    const link = document.createElement('a');
    link.textContent = `${a.fileName ?? a.key} (${Math.ceil(a.size / 1024)} KiB)`;
    link.href = '#';
    link.addEventListener('click', async (e) => {
      e.preventDefault();
      window.open(await mediaUrl(a.key), '_blank');
    });
    box.append(link);
  }
  return box;
}

/** A pre-signed download URL through Edge's authorization (`GET /v1/media/{key}?redirect=false`). */
function mediaUrl(key) {
  let url = state.mediaUrls.get(key);
  if (!url) {
    url = fetchMediaUrl(key, 0);
    url.catch(() => state.mediaUrls.delete(key));
    state.mediaUrls.set(key, url);
  }
  return url;
}

async function fetchMediaUrl(key, attempt) {
  try {
    return (await session.api(`/v1/media/${encodeURI(key)}?redirect=false`)).url;
  } catch (e) {
    // A 404 right after the message arrived live: the read model that authorizes downloads
    // (a message carrying the key) trails the log by a moment. Ask again a few times.
    if (attempt >= 5) throw e;
    await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
    return fetchMediaUrl(key, attempt + 1);
  }
}

// --- composing ----------------------------------------------------------------------------------
let typingSentAt = 0;
$('#text').addEventListener('input', () => {
  if (!state.current || directPeer(state.current, session.userId) && !state.chats.get(state.current)?.lastEventAt) return;
  const now = Date.now();
  if ($('#text').value && now - typingSentAt > TYPING_RENEW_MS) {
    typingSentAt = now;
    session.post({ type: 'typing', chatId: state.current, state: 'started' });
  } else if (!$('#text').value && typingSentAt) {
    stopTyping();
  }
});

function stopTyping() {
  if (typingSentAt && state.current) session.post({ type: 'typing', chatId: state.current, state: 'stopped' });
  typingSentAt = 0;
}

$('#composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chatId = state.current;
  const body = $('#text').value;
  const file = $('#file').files[0];
  if (!chatId || (!body.trim() && !file)) return;
  $('#text').value = '';
  stopTyping();
  const peer = directPeer(chatId, session.userId);
  const frame = { type: 'message.send', clientMsgId: crypto.randomUUID() };
  if (peer) frame.toUserId = peer;
  else frame.chatId = chatId;
  if (body.trim()) frame.body = body;
  try {
    if (file) {
      $('#file').value = '';
      frame.attachments = [await upload(file)];
    }
    state.local.set(frame.clientMsgId, frame);
    const sending = session.send(frame);
    renderMessages({ scroll: 'bottom' });
    const accepted = await sending;
    const chat = chatOf(accepted.chatId);
    if (!chat.lastEventAt) {
      // The first message created the direct chat: now its members may see each other's presence.
      chat.lastEventAt = new Date().toISOString();
      if (accepted.chatId === state.current) watchPresence(accepted.chatId);
    }
    renderMessages();
  } catch (err) {
    // Unknown outcome (connection lost): the outbox resends it after the reconnect.
    if (!session.outbox.has(frame.clientMsgId) || err.code) notice(`send: ${err.code ?? ''} ${err.message}`);
    if (err.code) {
      session.outbox.settle(frame.clientMsgId);
      state.local.delete(frame.clientMsgId);
    }
    renderMessages();
  }
});

/** Pre-signed upload straight to S3 (bytes never pass through Edge), with progress. */
async function upload(file) {
  const contentType = file.type || 'application/octet-stream';
  const url = await session.request({ type: 'media.upload', contentType, size: file.size, fileName: file.name });
  const progress = $('#upload-progress');
  progress.hidden = false;
  progress.value = 0;
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url.uploadUrl);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.upload.onprogress = (e) => e.lengthComputable && (progress.value = e.loaded / e.total);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`upload failed: ${xhr.status}`)));
    xhr.onerror = () => reject(new Error('upload failed (is CORS configured on the bucket? infra/s3/cors.xml)'));
    xhr.send(file);
  });
  progress.value = 1;
  setTimeout(() => (progress.hidden = true), 800);
  return { key: url.key, contentType, size: file.size, fileName: file.name };
}

// --- group administration -----------------------------------------------------------------------
async function admin(type, extra) {
  try {
    await session.request({ type, chatId: state.current, ...extra });
    $('#member-user').value = '';
  } catch (err) {
    notice(`${type}: ${err.code ?? ''} ${err.message}`);
  }
}
const memberInput = () => $('#member-user').value.trim();
$('#member-add').addEventListener('click', () => memberInput() && admin('members.add', { userIds: [memberInput()] }));
$('#member-remove').addEventListener('click', () => memberInput() && admin('members.remove', { userId: memberInput() }));
$('#member-admin').addEventListener('click', () => memberInput() && admin('admin.grant', { userId: memberInput() }));
$('#chat-leave').addEventListener('click', () => admin('chat.leave', {}));
$('#reconnect').addEventListener('click', () => session?.drop());
