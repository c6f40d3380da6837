// Unit tests of the web client's pure logic (src/Edge/WebClient/app/model.js), run by
// `node --test` from WebClientModelTests.cs (no browser, no server).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, directChatId, directPeer, Outbox, presenceText, ReceiptBook, tick, Timeline, TypingBoard } from '../../../src/Edge/WebClient/app/model.js';

const message = (seq, id = `m${seq}`, extra = {}) => ({ chatId: 'c1', seq, messageId: id, clientMsgId: `c-${seq}`, sender: { userId: 'ana', deviceId: 'p' }, body: `b${seq}`, ...extra });

test('back-off doubles from 500 ms up to 30 s and keeps between half and all of the delay', () => {
  assert.equal(backoffDelay(0, () => 1), 500);
  assert.equal(backoffDelay(0, () => 0), 250);
  assert.equal(backoffDelay(3, () => 1), 4000);
  assert.equal(backoffDelay(20, () => 1), 30000);
  assert.equal(backoffDelay(20, () => 0), 15000);
});

test('direct chat ids put the two user ids in ordinal order and name the peer', () => {
  assert.equal(directChatId('bo', 'ana'), 'd:ana:bo');
  assert.equal(directChatId('Bo', 'ana'), 'd:Bo:ana', 'ordinal: upper case sorts first');
  assert.equal(directPeer('d:ana:bo', 'ana'), 'bo');
  assert.equal(directPeer('d:ana:bo', 'bo'), 'ana');
  assert.equal(directPeer('0193-group', 'ana'), null);
});

test('a timeline drops a message it already holds and keeps seq order', () => {
  const t = new Timeline();
  assert.equal(t.addMessage(message(2)), true);
  assert.equal(t.addMessage(message(1)), true);
  assert.equal(t.addMessage(message(2)), false, 'the live push and sync both carry it');
  assert.deepEqual(t.messages().map((m) => m.seq), [1, 2]);
});

test('a duplicate carrying an edit updates the held message', () => {
  const t = new Timeline();
  t.addMessage(message(1));
  t.addMessage(message(1, 'm1', { body: 'new', editedAt: 'x' }));
  assert.equal(t.messages()[0].body, 'new');
});

test('a push after a hole asks history for exactly the missing seqs', () => {
  const t = new Timeline();
  t.addMessage(message(7));
  assert.deepEqual(t.gapBefore(8), null);
  assert.deepEqual(t.gapBefore(10), { beforeSeq: 10, limit: 2 });
});

test('an empty timeline reports no gap (nothing to compare with yet)', () => {
  assert.equal(new Timeline().gapBefore(5), null);
});

test('a history page fills the seqs it spans, so membership changes inside it are no gap', () => {
  const t = new Timeline();
  t.addPage({ messages: [message(3), message(6)], hasMore: true });
  assert.equal(t.gapBefore(7), null);
  assert.equal(t.oldestLoaded, 3);
  assert.equal(t.hasMore, true);
});

test('the last history page fills everything below it', () => {
  const t = new Timeline();
  t.addPage({ messages: [message(5)], hasMore: false });
  assert.equal(t.contiguous, 5);
  assert.equal(t.hasMore, false);
});

test('receipts keep the highest seq per user, read counts as delivered, repeats change nothing', () => {
  const book = new ReceiptBook();
  book.add({ chatId: 'c1', state: 'delivered', receipts: [{ userId: 'bo', seq: 4 }, { userId: 'cy', seq: 2 }] });
  book.add({ chatId: 'c1', state: 'delivered', receipts: [{ userId: 'bo', seq: 3 }] });
  book.add({ chatId: 'c1', state: 'read', receipts: [{ userId: 'dee', seq: 5 }] });
  book.add({ chatId: 'c1', state: 'read', receipts: [{ userId: 'dee', seq: 5 }] });
  assert.equal(book.count('c1', 'delivered', 3), 2);
  assert.equal(book.count('c1', 'delivered', 2), 3);
  assert.equal(book.count('c1', 'read', 5), 1);
  assert.equal(book.count('c2', 'read', 1), 0);
});

test('ticks go pending, sent, delivered, read; a group needs every other member', () => {
  const book = new ReceiptBook();
  assert.equal(tick({ chatId: 'c1', seq: null }, book, 1), 'pending');
  assert.equal(tick({ chatId: 'c1', seq: 3 }, book, 1), 'sent');
  book.add({ chatId: 'c1', state: 'delivered', receipts: [{ userId: 'bo', seq: 3 }] });
  assert.equal(tick({ chatId: 'c1', seq: 3 }, book, 1), 'delivered');
  assert.equal(tick({ chatId: 'c1', seq: 3 }, book, 2), 'sent', 'one of two others');
  assert.equal(tick({ chatId: 'c1', seq: 3, deliveredCount: 2 }, book, 2), 'delivered', 'history counts');
  book.add({ chatId: 'c1', state: 'read', receipts: [{ userId: 'bo', seq: 9 }] });
  assert.equal(tick({ chatId: 'c1', seq: 3 }, book, 1), 'read');
  assert.equal(tick({ chatId: 'c1', seq: 3, readCount: 2 }, book, 2), 'read');
});

test('typing expires after expiresInMs unless renewed, and stopped clears it', () => {
  const board = new TypingBoard();
  board.apply({ chatId: 'c1', userId: 'bo', state: 'started', expiresInMs: 5000 }, 0);
  board.apply({ chatId: 'c2', userId: 'cy', state: 'started', expiresInMs: 5000 }, 0);
  assert.deepEqual(board.typists('c1', 4999), ['bo']);
  assert.deepEqual(board.typists('c1', 5000), []);
  board.apply({ chatId: 'c2', userId: 'cy', state: 'stopped' }, 1);
  assert.deepEqual(board.typists('c2', 2), []);
});

test('the outbox keeps a send until the log has it, for resending with the same clientMsgId', () => {
  const outbox = new Outbox();
  outbox.add({ type: 'message.send', clientMsgId: 'a', body: 'x' });
  outbox.add({ type: 'message.send', clientMsgId: 'b', body: 'y' });
  assert.equal(outbox.settle('a'), true);
  assert.equal(outbox.settle('a'), false);
  assert.deepEqual(outbox.all().map((f) => f.clientMsgId), ['b']);
});

test('presence reads online, last seen recently, or offline', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(presenceText({ online: true }, now), 'online');
  assert.equal(presenceText({ online: false }, now), 'offline');
  assert.equal(presenceText({ online: false, lastSeen: '2026-01-01T11:59:30Z' }, now), 'last seen just now');
  assert.equal(presenceText({ online: false, lastSeen: '2026-01-01T11:50:00Z' }, now), 'last seen 10 min ago');
});
