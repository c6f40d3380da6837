// The web client's pure logic: no DOM, no network, no clock of its own (callers pass `now`).
// Node's built-in test runner checks it (model.test.mjs); the browser tests check the rest.

/** Reconnect delay: exponential from `baseMs`, capped at `maxMs`, with "full jitter" (random in [delay/2, delay]) so that
 *  every tab of a node that restarted does not come back in the same millisecond. */
export function backoffDelay(attempt, random = Math.random, baseMs = 500, maxMs = 30000) {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(delay / 2 + random() * (delay / 2));
}

/** The direct chat id of two users: `d:{min}:{max}` in ordinal order (docs/protocol.md). */
export function directChatId(a, b) {
  return a < b ? `d:${a}:${b}` : `d:${b}:${a}`;
}

/** The other user of a direct chat, or null for a group. */
export function directPeer(chatId, me) {
  if (!chatId.startsWith('d:')) return null;
  const [, a, b] = chatId.split(':');
  return a === me ? b : a;
}

/**
 * One chat's timeline as this device holds it: messages by seq, de-duplicated by messageId
 * (delivery is at-least-once), seqs known to be filled (membership changes and edits take
 * seqs that history does not return), and what to ask for when a gap appears.
 */
export class Timeline {
  constructor() {
    this.bySeq = new Map();      // seq -> message frame
    this.seen = new Set();       // messageIds
    this.filled = new Set();     // every seq this device holds something for (message or not)
    this.contiguous = 0;         // highest seq h such that 1..h are all filled (or skipped as holes)
    this.oldestLoaded = Infinity; // the lowest seq a history page brought
    this.hasMore = true;         // history says an older page exists
  }

  /** Adds a message; false if it was a duplicate. */
  addMessage(m) {
    this.markFilled(m.seq);
    if (this.seen.has(m.messageId)) {
      // The same message again (sync after a live push, a retried send): keep the newer content.
      const existing = this.bySeq.get(m.seq);
      if (existing && (m.editedAt || m.deletedAt || m.reactions)) this.bySeq.set(m.seq, { ...existing, ...m });
      return false;
    }
    this.seen.add(m.messageId);
    this.bySeq.set(m.seq, m);
    return true;
  }

  /** A seq that is not a message (chat.updated, edit, delete, reaction) is held too. */
  markFilled(seq) {
    this.filled.add(seq);
    while (this.filled.has(this.contiguous + 1)) this.contiguous++;
  }

  /** A history page: its messages, and the seqs it spans count as filled (holes in history are non-messages). */
  addPage(page) {
    for (const m of page.messages) this.addMessage(m);
    if (page.messages.length > 0) {
      const seqs = page.messages.map((m) => m.seq);
      const low = Math.min(...seqs);
      const high = Math.max(...seqs);
      for (let s = low; s <= high; s++) this.markFilled(s);
      this.oldestLoaded = Math.min(this.oldestLoaded, low);
    }
    if (!page.hasMore) {
      // Nothing older exists for this user: everything below the oldest message is not theirs to hold.
      const floor = page.messages.length > 0 ? this.oldestLoaded : this.highest() + 1;
      for (let s = 1; s < floor; s++) this.markFilled(s);
    }
    this.hasMore = page.hasMore;
  }

  highest() {
    let max = 0;
    for (const s of this.filled) if (s > max) max = s;
    return max;
  }

  /**
   * The gap to fill after a push with `seq`: null when none, else `{ beforeSeq, limit }` for a
   * history request that returns the missing messages (docs/protocol.md, "A gap in seq").
   * Before the first page is loaded there is nothing to compare with.
   */
  gapBefore(seq) {
    if (this.filled.size === 0) return null;
    const high = this.highestBelow(seq);
    if (high === 0 || high >= seq - 1) return null;
    return { beforeSeq: seq, limit: seq - high - 1 };
  }

  highestBelow(seq) {
    let max = 0;
    for (const s of this.filled) if (s < seq && s > max) max = s;
    return max;
  }

  /** The messages in seq order. */
  messages() {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
}

/**
 * Receipts per chat as the protocol sends them: cumulative `{userId, seq}` per state, possibly
 * repeated and from two nodes; keep the highest seq per user and state and count users.
 */
export class ReceiptBook {
  constructor() {
    this.chats = new Map(); // chatId -> { delivered: Map(user -> seq), read: Map(user -> seq) }
  }

  add(frame) {
    const chat = this.chats.get(frame.chatId) ?? { delivered: new Map(), read: new Map() };
    this.chats.set(frame.chatId, chat);
    for (const r of frame.receipts) {
      const states = frame.state === 'read' ? ['read', 'delivered'] : ['delivered'];
      for (const state of states) {
        if ((chat[state].get(r.userId) ?? 0) < r.seq) chat[state].set(r.userId, r.seq);
      }
    }
  }

  /** How many users hold (state = delivered) or read message `seq`. */
  count(chatId, state, seq) {
    const chat = this.chats.get(chatId);
    if (!chat) return 0;
    let n = 0;
    for (const s of chat[state].values()) if (s >= seq) n++;
    return n;
  }
}

/**
 * The tick of one of my own messages: 'pending' (not yet accepted), 'sent' (in the log),
 * 'delivered' (another member's device holds it) or 'read'. History carries counts
 * (deliveredCount/readCount), live receipts raise them; the higher of the two wins.
 * A group shows 'delivered'/'read' once every other member has (`others`), like WhatsApp;
 * with `others` unknown, once one has.
 */
export function tick(message, receipts, others) {
  if (message.seq == null) return 'pending';
  const needed = Math.max(1, others ?? 1);
  const read = Math.max(message.readCount ?? 0, receipts.count(message.chatId, 'read', message.seq));
  if (read >= needed) return 'read';
  const delivered = Math.max(message.deliveredCount ?? 0, receipts.count(message.chatId, 'delivered', message.seq));
  return delivered >= needed ? 'delivered' : 'sent';
}

/** Who is typing in a chat: `typing` pushes expire after `expiresInMs` unless renewed. */
export class TypingBoard {
  constructor() {
    this.until = new Map(); // `${chatId}\n${userId}` -> expiry time (ms)
  }

  apply(frame, now) {
    const key = `${frame.chatId}\n${frame.userId}`;
    if (frame.state === 'started') this.until.set(key, now + frame.expiresInMs);
    else this.until.delete(key);
  }

  typists(chatId, now) {
    const users = [];
    for (const [key, until] of this.until) {
      const [chat, user] = key.split('\n');
      if (until <= now) this.until.delete(key);
      else if (chat === chatId) users.push(user);
    }
    return users.sort();
  }
}

/**
 * Sends waiting for the log: resent after every reconnect with the same clientMsgId (the Router
 * de-duplicates by it) until a `message.accepted` or the message itself names it.
 */
export class Outbox {
  constructor() {
    this.pending = new Map(); // clientMsgId -> send frame (without the request id)
  }

  add(frame) {
    this.pending.set(frame.clientMsgId, frame);
  }

  /** The send is in the log (accepted, or its message arrived): stop resending it. */
  settle(clientMsgId) {
    return this.pending.delete(clientMsgId);
  }

  has(clientMsgId) {
    return this.pending.has(clientMsgId);
  }

  all() {
    return [...this.pending.values()];
  }
}

/** "last seen" text for a presence entry. */
export function presenceText(p, now) {
  if (!p) return '';
  if (p.online) return 'online';
  if (!p.lastSeen) return 'offline';
  const seconds = Math.max(0, Math.round((now - Date.parse(p.lastSeen)) / 1000));
  if (seconds < 60) return 'last seen just now';
  if (seconds < 3600) return `last seen ${Math.floor(seconds / 60)} min ago`;
  return `last seen ${new Date(p.lastSeen).toLocaleString()}`;
}
