// The client session: dev token, connection with fallback and reconnect, requests by id,
// sync, acks, gap fill and resends. It knows the protocol, not the page (app.js renders).
import { backoffDelay, Outbox } from './model.js';
import { SseTransport, WebSocketTransport } from './transport.js';

// Close codes after which reconnecting automatically would be wrong (docs/protocol.md, "Close codes").
const FINAL_CLOSES = new Map([
  [4002, 'replaced by a newer connection of this device'],
  [4004, 'too many devices for this user'],
  [4005, 'this device was removed'],
]);

export class ChatSession extends EventTarget {
  constructor({ userId, deviceId, transport }) {
    super();
    this.userId = userId;
    this.deviceId = deviceId;
    // 'auto': WebSocket, falling back to SSE when it cannot open; 'sse' or 'websocket' forces one.
    this.preferred = transport ?? 'auto';
    this.useSse = this.preferred === 'sse';
    this.outbox = new Outbox();
    this.pending = new Map(); // request id -> { resolve, reject }
    this.nextId = 1;
    this.attempt = 0;
    this.state = 'idle';
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state, detail = {}) {
    this.state = state;
    this.emit('state', { state, transport: this.transport?.name, ...detail });
  }

  async token() {
    if (this.tokenValue && Date.parse(this.tokenExpiresAt) - Date.now() > 60_000) return this.tokenValue;
    const response = await fetch('/v1/dev/tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: this.userId, deviceId: this.deviceId }),
    });
    if (!response.ok) throw new Error(`dev token refused: ${response.status} ${(await response.json().catch(() => ({}))).detail ?? ''}`);
    const body = await response.json();
    this.tokenValue = body.token;
    this.tokenExpiresAt = body.expiresAt;
    return body.token;
  }

  /** An authenticated call of Edge's small HTTP API. */
  async api(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${await this.token()}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  async connect() {
    this.stopped = false;
    this.setState('connecting');
    let token;
    try {
      token = await this.token();
    } catch (e) {
      this.scheduleReconnect(String(e.message ?? e));
      return;
    }
    const transport = this.useSse ? new SseTransport(token) : new WebSocketTransport(token);
    this.transport = transport;
    transport.onopen = () => this.opened(transport);
    transport.onframe = (frame) => this.receive(frame);
    transport.onclose = (outcome) => this.closed(transport, outcome);
    transport.open();
  }

  async opened(transport) {
    if (transport !== this.transport) return;
    this.attempt = 0;
    this.setState('online');
    this.emit('open', {});
    try {
      await this.syncAll();
      // Sends whose reply never came are unknown, not failed: same clientMsgId again.
      for (const frame of this.outbox.all()) this.request(frame).catch(() => {});
    } catch (e) {
      this.emit('problem', { message: `sync failed: ${e.message ?? e}` });
    }
  }

  closed(transport, { code, reason, opened }) {
    if (transport !== this.transport) return;
    this.transport = null;
    for (const { reject } of this.pending.values()) reject(new Error('connection closed'));
    this.pending.clear();
    if (!opened && !this.useSse && this.preferred === 'auto') {
      // The WebSocket never opened (a proxy that breaks upgrades): the HTTP fallback, at once.
      this.useSse = true;
      this.emit('problem', { message: 'WebSocket could not open; using the HTTP fallback (SSE)' });
      this.connect();
      return;
    }
    if (FINAL_CLOSES.has(code)) {
      this.setState('stopped', { reason: FINAL_CLOSES.get(code) });
      return;
    }
    if (code === 4001) this.tokenValue = null; // token expired: a fresh one for the reconnect
    if (!this.stopped) this.scheduleReconnect(reason || `closed ${code}`);
  }

  scheduleReconnect(reason) {
    const delay = backoffDelay(this.attempt++);
    this.setState('reconnecting', { reason, delay });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Drops the connection as a broken network would (reconnect follows); for tests and the ⟳ button. */
  drop() {
    this.transport?.close(true);
  }

  /** Sends a request and resolves with its reply (the frame carrying the same id). */
  request(frame) {
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, frame });
      if (!this.transport?.send({ ...frame, id })) {
        this.pending.delete(id);
        reject(new Error('not connected'));
      }
    });
  }

  /** Fire-and-forget frames (ack, read, typing). */
  post(frame) {
    return this.transport?.send(frame) ?? false;
  }

  receive(frame) {
    const waiting = frame.id != null ? this.pending.get(frame.id) : undefined;
    if (waiting) {
      // A sync's frames carry no id; only its sync.done ends the request.
      this.pending.delete(frame.id);
      if (frame.type === 'error') waiting.reject(Object.assign(new Error(frame.message), { code: frame.code, frame }));
      else waiting.resolve(frame);
    }
    if (frame.type === 'message.accepted') this.outbox.settle(frame.clientMsgId);
    if (frame.type === 'message' && frame.sender.userId === this.userId && frame.sender.deviceId === this.deviceId) {
      this.outbox.settle(frame.clientMsgId);
    }
    if (frame.type === 'error' && frame.id == null) this.emit('problem', { message: `${frame.code}: ${frame.message}` });
    this.emit('frame', frame);
  }

  /**
   * Streams the inbox (its message / chat.updated frames go to 'frame' listeners, which ack them);
   * again after a back-off while the server says the read models had not caught up (`partial`).
   */
  async syncAll() {
    for (let round = 0; round < 5; round++) {
      const done = await this.request({ type: 'sync' });
      if (!done.partial) return;
      await new Promise((r) => setTimeout(r, backoffDelay(round)));
    }
  }

  /** Sends a message (resent after reconnects until the log has it). */
  send(frame) {
    this.outbox.add(frame);
    return this.request(frame);
  }
}
