/**
 * One WebSocket to sbems's /api/v1/ws for the whole page (docs/api.md,
 * "WebSocket"; docs/internals/http.md, "WebSocket hub"): plain RFC 6455 with
 * JSON text frames, authenticated by the first message.
 *
 * States: connecting (socket opening or authenticating), live (the server
 * said ready), offline (closed; a reconnect is scheduled unless stopped or
 * the session ended).  Reconnects back off exponentially with jitter
 * (backoffDelay) and start over at the first step once a connection was
 * live.  Every channel the page wants is sent again after each ready, since
 * subscriptions live and die with the socket.
 *
 * Tokens: the access token goes in {"type":"auth"}; a "reauth" request is
 * answered with a fresh one on the same socket; close code 4001 (token
 * expired) or an auth error makes the next attempt force a refresh.  When
 * the session is over, getToken rejects with SessionEndedError and the
 * connection stays offline.
 *
 * Liveness: an application-level ping every 25 s that must be answered
 * within 10 s, else the socket is dropped and reopened; a browser may not
 * notice a dead path for minutes otherwise.
 *
 * Channels are reference-counted: components subscribe and release; a
 * channel nobody wants is unsubscribed after a short linger, so navigating
 * between pages does not churn.  sbems drops a channel's points on
 * unsubscribe even when another channel of the client covers them (a
 * building and one of its zones), so every unsubscribe is followed by a
 * subscribe of the channels still wanted; the server ignores points it
 * already sends and snapshots the ones it re-adds.
 */
import { SessionEndedError } from '../api/errors';
import type { ServerMessage } from '../api/types';
import type { LiveStore, Row } from './store';

export type ConnState = 'connecting' | 'live' | 'offline';

export interface ConnInfo {
  state: ConnState;
  /** consecutive failed attempts since the last live connection */
  attempt: number;
  /** when the next attempt starts (ms since the epoch), while offline */
  retryAt: number | null;
  lastError: string | null;
  /** readings the server skipped because this page read too slowly */
  lagged: number;
  /** the session is over: no more attempts */
  ended: boolean;
}

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2 };
export const CLOSE_TOKEN_EXPIRED = 4001;
const CLOSE_POLICY = 1008;
const OPEN = 1;

/**
 * Delay before attempt n (0-based): initial * factor^n capped at max, then
 * scaled into [50 %, 100 %] by random() so clients that lost the server
 * together do not return together.
 */
export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF,
                             random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * Math.pow(o.factor, Math.max(0, attempt)));
  return Math.round(base * (0.5 + 0.5 * Math.min(1, Math.max(0, random()))));
}

export interface LiveOptions {
  url: string;
  /** a valid access token; force: refresh first.  Rejects with SessionEndedError when signed out. */
  getToken: (force: boolean) => Promise<string>;
  store: LiveStore;
  WebSocketImpl?: WebSocketCtor;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  now?: () => number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** how long to wait for "ready" after opening */
  authTimeoutMs?: number;
  /** how long a released channel stays subscribed in case it is wanted again */
  lingerMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (h: unknown) => void;
  /** window, to reconnect at once when the browser says it is online again */
  eventTarget?: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
}

type Listener = () => void;
type EventListener = (data: unknown) => void;

/** The WebSocket URL on the page's own origin. */
export function defaultWsUrl(loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/ws`;
}

export class LiveConnection {
  private readonly o: Required<Omit<LiveOptions, 'backoff' | 'eventTarget'>> & {
    backoff: BackoffOptions;
    eventTarget: LiveOptions['eventTarget'];
  };
  private ws: WebSocketLike | null = null;
  private started = false;
  private gen = 0;
  private forceToken = false;
  private authedToken: string | null = null;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private authTimer: unknown = null;
  private nextId = 1;
  /** channel -> number of holders */
  private readonly refs = new Map<string, number>();
  /** channels subscribed (or to subscribe) on the server */
  private readonly wanted = new Set<string>();
  private readonly lingering = new Map<string, unknown>();
  /** subscribe id -> channels asked */
  private readonly pending = new Map<number, string[]>();
  private readonly errors = new Map<string, string>();
  private readonly listeners = new Set<Listener>();
  private readonly eventListeners = new Map<string, Set<EventListener>>();
  private info: ConnInfo = { state: 'offline', attempt: 0, retryAt: null, lastError: null, lagged: 0, ended: false };

  constructor(opts: LiveOptions) {
    const WS = opts.WebSocketImpl ?? (globalThis.WebSocket as unknown as WebSocketCtor);
    this.o = {
      url: opts.url,
      getToken: opts.getToken,
      store: opts.store,
      WebSocketImpl: WS,
      backoff: { ...DEFAULT_BACKOFF, ...opts.backoff },
      random: opts.random ?? Math.random,
      now: opts.now ?? (() => Date.now()),
      pingIntervalMs: opts.pingIntervalMs ?? 25_000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 10_000,
      authTimeoutMs: opts.authTimeoutMs ?? 15_000,
      lingerMs: opts.lingerMs ?? 2_000,
      setTimer: opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
      eventTarget: opts.eventTarget !== undefined ? opts.eventTarget : typeof window !== 'undefined' ? window : null,
    };
  }

  // ---- observable state ----------------------------------------------------------

  readonly getSnapshot = (): ConnInfo => this.info;

  readonly subscribeState = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(patch: Partial<ConnInfo>): void {
    const was = this.info.state;
    this.info = { ...this.info, ...patch };
    // while the link is down, nothing tells the store a value went stale: it judges by age
    if (this.info.state !== was) this.o.store.setLinkLive(this.info.state === 'live');
    for (const fn of [...this.listeners]) fn();
  }

  /** Why the server refused a channel, if it did. */
  channelError(channel: string): string | undefined {
    return this.errors.get(channel);
  }

  /** Channels currently wanted on the server (for tests and diagnostics). */
  channels(): string[] {
    return [...this.wanted].sort();
  }

  // ---- life cycle --------------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    this.set({ ended: false, lastError: null, attempt: 0 });
    this.o.eventTarget?.addEventListener('online', this.onOnline);
    void this.connect();
  }

  /** Close for good (sign-out, page teardown); subscriptions are kept for a later start(). */
  stop(): void {
    this.started = false;
    this.gen++;
    this.o.eventTarget?.removeEventListener('online', this.onOnline);
    this.clearAll();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.set({ state: 'offline', retryAt: null });
  }

  /** Try now instead of waiting for the back-off (a "retry" button, the online event). */
  reconnectNow(): void {
    if (!this.started || this.info.state !== 'offline') return;
    if (this.retryTimer !== null) this.o.clearTimer(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  private readonly onOnline = (): void => this.reconnectNow();

  private clearAll(): void {
    for (const t of [this.retryTimer, this.pingTimer, this.pongTimer, this.authTimer]) {
      if (t !== null) this.o.clearTimer(t);
    }
    this.retryTimer = this.pingTimer = this.pongTimer = this.authTimer = null;
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  private async connect(): Promise<void> {
    const gen = ++this.gen;
    this.retryTimer = null;
    this.set({ state: 'connecting', retryAt: null });
    let token: string;
    try {
      token = await this.o.getToken(this.forceToken);
    } catch (e) {
      if (gen !== this.gen) return;
      if (e instanceof SessionEndedError) {
        this.started = false;
        this.set({ state: 'offline', ended: true, lastError: 'signed out' });
        return;
      }
      this.set({ lastError: e instanceof Error ? e.message : 'no token' });
      this.scheduleReconnect();
      return;
    }
    if (gen !== this.gen || !this.started) return;
    this.forceToken = false;
    let ws: WebSocketLike;
    try {
      ws = new this.o.WebSocketImpl(this.o.url);
    } catch (e) {
      this.set({ lastError: e instanceof Error ? e.message : 'cannot open the socket' });
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.authedToken = token;
      this.sendOn(ws, { type: 'auth', token });
    };
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = (ev) => this.onClose(ws, ev.code);
    ws.onerror = () => {
      /* a close event follows */
    };
    this.authTimer = this.o.setTimer(() => {
      this.authTimer = null;
      if (this.ws === ws && this.info.state !== 'live') this.drop(ws, 'no answer to authentication');
    }, this.o.authTimeoutMs);
  }

  private scheduleReconnect(): void {
    if (!this.started) {
      this.set({ state: 'offline', retryAt: null });
      return;
    }
    const delay = backoffDelay(this.info.attempt, this.o.backoff, this.o.random);
    if (this.retryTimer !== null) this.o.clearTimer(this.retryTimer);
    this.retryTimer = this.o.setTimer(() => void this.connect(), delay);
    this.set({ state: 'offline', attempt: this.info.attempt + 1, retryAt: this.o.now() + delay });
  }

  /** Give up on a socket that does not answer: close it without waiting for its close event. */
  private drop(ws: WebSocketLike, why: string): void {
    if (this.ws !== ws) return;
    this.detach(ws);
    try {
      ws.close(4000, why);
    } catch {
      /* nothing to close */
    }
    this.onClose(ws, 4000, why);
  }

  private onClose(ws: WebSocketLike, code: number, why?: string): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.clearAll();
    if (code === CLOSE_TOKEN_EXPIRED || (code === CLOSE_POLICY && this.info.state !== 'live')) {
      this.forceToken = true;
    }
    this.set({ lastError: why ?? (code === CLOSE_TOKEN_EXPIRED ? 'token expired' : `closed (${code})`) });
    this.scheduleReconnect();
  }

  // ---- messages ------------------------------------------------------------------------

  private sendOn(ws: WebSocketLike, msg: unknown): boolean {
    if (ws.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  private send(msg: unknown): boolean {
    return this.ws !== null && this.info.state === 'live' && this.sendOn(this.ws, msg);
  }

  private subscribeOnServer(channels: string[]): void {
    if (channels.length === 0) return;
    const id = this.nextId++;
    if (this.send({ type: 'subscribe', id, channels })) this.pending.set(id, channels);
  }

  private onMessage(ws: WebSocketLike, data: unknown): void {
    if (this.ws !== ws || typeof data !== 'string') return;
    let m: ServerMessage;
    try {
      m = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    switch (m.type) {
      case 'ready':
        if (this.authTimer !== null) this.o.clearTimer(this.authTimer);
        this.authTimer = null;
        this.set({ state: 'live', attempt: 0, retryAt: null, lastError: null });
        this.pending.clear();
        this.subscribeOnServer([...this.wanted]);
        this.schedulePing(ws);
        break;
      case 'readings':
        if (Array.isArray(m.data)) this.o.store.ingest(m.data as Row[]);
        break;
      case 'reauth':
        void this.reauth(ws);
        break;
      case 'subscribed': {
        if (typeof m.id === 'number') this.pending.delete(m.id);
        let cleared = false;
        for (const ch of m.channels ?? []) cleared = this.errors.delete(ch) || cleared;
        if (cleared) this.set({});
        break;
      }
      case 'error':
        this.onError(m.id, m.code, m.message);
        break;
      case 'lagged':
        this.set({ lagged: this.info.lagged + (Number(m.dropped) || 0) });
        break;
      case 'event': {
        const ls = this.eventListeners.get(m.channel);
        if (ls) for (const fn of [...ls]) fn(m.data);
        break;
      }
      case 'pong':
        if (this.pongTimer !== null) this.o.clearTimer(this.pongTimer);
        this.pongTimer = null;
        break;
      default:
        break;
    }
  }

  private onError(id: number | undefined, code: string, message: string): void {
    if (code === 'invalid_token' || code === 'token_expired') {
      this.forceToken = true;
      return;
    }
    const asked = id !== undefined ? this.pending.get(id) : undefined;
    if (!asked) return;
    // "<channel>: no such channel (or not in your scope)"
    const ch = asked.find((c) => message.startsWith(`${c}:`)) ?? (asked.length === 1 ? asked[0] : undefined);
    if (ch) {
      this.errors.set(ch, code === 'not_found' ? 'not found or not in your scope' : message);
      this.set({});
    }
  }

  private async reauth(ws: WebSocketLike): Promise<void> {
    try {
      let t = await this.o.getToken(false);
      if (t === this.authedToken) t = await this.o.getToken(true);
      if (this.ws === ws && this.sendOn(ws, { type: 'auth', token: t })) this.authedToken = t;
    } catch {
      /* the socket closes with 4001 at expiry; the reconnect handles the session */
    }
  }

  private schedulePing(ws: WebSocketLike): void {
    this.pingTimer = this.o.setTimer(() => {
      this.pingTimer = null;
      if (this.ws !== ws) return;
      this.sendOn(ws, { type: 'ping' });
      this.pongTimer = this.o.setTimer(() => {
        this.pongTimer = null;
        this.drop(ws, 'no answer to ping');
      }, this.o.pongTimeoutMs);
      this.schedulePing(ws);
    }, this.o.pingIntervalMs);
  }

  // ---- channels -----------------------------------------------------------------------

  /**
   * Want a channel (point:<id|slug>, zone:<slug>, building:<slug>,
   * equipment:<slug>, alerts, commands).  Returns the release function.
   */
  subscribe(channel: string): () => void {
    this.refs.set(channel, (this.refs.get(channel) ?? 0) + 1);
    const linger = this.lingering.get(channel);
    if (linger !== undefined) {
      this.o.clearTimer(linger);
      this.lingering.delete(channel);
    }
    if (!this.wanted.has(channel)) {
      this.wanted.add(channel);
      this.subscribeOnServer([channel]);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(channel);
    };
  }

  private release(channel: string): void {
    const n = (this.refs.get(channel) ?? 0) - 1;
    if (n > 0) {
      this.refs.set(channel, n);
      return;
    }
    this.refs.delete(channel);
    const t = this.o.setTimer(() => {
      this.lingering.delete(channel);
      if (this.refs.has(channel) || !this.wanted.delete(channel)) return;
      this.errors.delete(channel);
      if (this.send({ type: 'unsubscribe', id: this.nextId++, channels: [channel] })) {
        this.subscribeOnServer([...this.wanted]); // see the file comment
      }
    }, this.o.lingerMs);
    this.lingering.set(channel, t);
  }

  /** Events of the alerts or commands channel (subscribe to the channel as well). */
  onEvent(channel: string, fn: EventListener): () => void {
    let s = this.eventListeners.get(channel);
    if (!s) {
      s = new Set();
      this.eventListeners.set(channel, s);
    }
    s.add(fn);
    return () => {
      s?.delete(fn);
    };
  }
}
