// The two transports of the client protocol, one interface: `open()`, `send(frame)`, `close()`,
// and the callbacks onopen(), onframe(frame), onclose({code, reason, opened}).
// Frames are the same on both (docs/protocol.md, "HTTP fallback").

/** One WebSocket: `GET /ws?access_token=` (browsers cannot set headers on a WebSocket). */
export class WebSocketTransport {
  constructor(token) {
    this.name = 'websocket';
    this.token = token;
    this.opened = false;
  }

  open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws?access_token=${encodeURIComponent(this.token)}`);
    this.socket = socket;
    socket.onopen = () => {
      this.opened = true;
      this.onopen?.();
    };
    socket.onmessage = (e) => this.onframe?.(JSON.parse(e.data));
    socket.onclose = (e) => this.onclose?.({ code: e.code, reason: e.reason, opened: this.opened });
  }

  send(frame) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Ends the connection; `abrupt` drops it the way a broken network does (tests use it). */
  close(abrupt = false) {
    if (!this.socket) return;
    const socket = this.socket;
    if (abrupt) {
      // A close the client initiated still reaches onclose; mark it as a drop (1006).
      socket.onclose = null;
      socket.close();
      this.onclose?.({ code: 1006, reason: 'dropped', opened: this.opened });
    } else {
      socket.close(1000);
    }
  }
}

/**
 * The fallback for networks that break WebSockets: Server-Sent Events for pushes
 * (`GET /v1/events`, EventSource resumes with Last-Event-ID by itself) and `POST /v1/commands`
 * for client frames. The server ends a session with a `close` event (the WebSocket close code);
 * EventSource would otherwise reconnect forever.
 */
export class SseTransport {
  constructor(token) {
    this.name = 'sse';
    this.token = token;
    this.opened = false;
    this.queue = Promise.resolve();
  }

  open() {
    // EventSource cannot set headers either: the token goes in the URL, as on /ws.
    const source = new EventSource(`/v1/events?access_token=${encodeURIComponent(this.token)}`);
    this.source = source;
    source.addEventListener('session', (e) => {
      // After a drop EventSource reconnects with Last-Event-ID: `resumed` means the server replayed
      // what this page missed; otherwise it is a new session and the page syncs as after a reconnect.
      const { resumed } = JSON.parse(e.data);
      if (!this.opened || !resumed) {
        this.opened = true;
        this.onopen?.();
      }
    });
    source.onmessage = (e) => this.onframe?.(JSON.parse(e.data));
    source.addEventListener('close', (e) => {
      const { code, reason } = JSON.parse(e.data);
      this.finish({ code, reason, opened: this.opened });
    });
    source.onerror = () => {
      // CONNECTING: EventSource is already retrying with Last-Event-ID (the session resumes if the
      // server still holds it). CLOSED: the server refused the stream (401, 429, 503): give up here.
      if (source.readyState === EventSource.CLOSED) this.finish({ code: 1006, reason: 'event stream failed', opened: this.opened });
    };
  }

  finish(outcome) {
    if (this.finished) return;
    this.finished = true;
    this.source?.close();
    this.onclose?.(outcome);
  }

  send(frame) {
    if (!this.opened || this.finished) return false;
    // One POST after another: frames of one device are processed in the order it sent them.
    this.queue = this.queue.then(async () => {
      try {
        const response = await fetch('/v1/commands', {
          method: 'POST',
          headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(frame),
        });
        if (!response.ok && response.status !== 429) {
          // 409: this node holds no event stream of the device any more (it ended): reconnect.
          this.finish({ code: 1006, reason: `commands refused (${response.status})`, opened: this.opened });
        }
      } catch {
        this.finish({ code: 1006, reason: 'commands failed', opened: this.opened });
      }
    });
    return true;
  }

  close(abrupt = false) {
    this.finish({ code: abrupt ? 1006 : 1000, reason: abrupt ? 'dropped' : '', opened: this.opened });
  }
}
