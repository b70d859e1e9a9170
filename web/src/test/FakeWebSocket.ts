/**
 * A stand-in for the browser's WebSocket, driven by the test as the server
 * would be: open(), receive(), serverClose().  Instances are recorded in
 * order so a test can follow reconnects.
 */
import type { WebSocketLike } from '../live/socket';

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error('no socket was created');
    return ws;
  }

  readonly url: string;
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string; wasClean?: boolean }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }

  /** The client closes: recorded, and the close event follows (as in a browser). */
  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
    this.onclose?.({ code, wasClean: true });
  }

  // ---- the server's side ----

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(msg: unknown): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
  }

  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, wasClean: code === 1000 });
  }

  /** Everything the client sent, parsed. */
  messages(): { type: string; [k: string]: unknown }[] {
    return this.sent.map((s) => JSON.parse(s) as { type: string });
  }

  /** The messages of one type. */
  ofType(type: string): { type: string; [k: string]: unknown }[] {
    return this.messages().filter((m) => m.type === type);
  }
}
