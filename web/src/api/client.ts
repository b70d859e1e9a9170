/**
 * The sbems API client: sign-in, the session's tokens, typed calls.
 *
 * Tokens (docs/security.md, "Tokens"): the access token (a JWT living
 * auth.access_ttl, 15 min by default) is kept in this object's memory only,
 * never in storage, so another script cannot find it in localStorage and it
 * dies with the tab.  The refresh token is the HttpOnly cookie sbems_rt
 * (Path=/api/v1/auth, SameSite=Strict) that sbems sets with every token
 * answer: the page never reads it, and the copy in the JSON body is dropped
 * at once.  Refresh tokens rotate on every use and showing a used one again
 * revokes the whole session, so refreshes are single-flight in a tab and,
 * where the Web Locks API exists, serialised across the tabs sharing the
 * cookie.  A reload restores the session with one refresh (restore()).
 *
 * The access token is renewed a minute before it expires (half its life if
 * that is shorter), and on demand when a request finds it expired.  A 401 on
 * a request is retried once after a refresh; a refused refresh ends the
 * session.  403 password_change_required moves the session to the forced
 * password change.  GETs answered 429 are retried once after Retry-After
 * when that is short.
 */
import { ApiError, NetworkError, SessionEndedError, errorFromResponse } from './errors';
import type {
  Building,
  Command,
  CommandResult,
  Equipment,
  History,
  HistoryQuery,
  Overview,
  Page,
  Point,
  PriorityInfo,
  Role,
  SessionUser,
  Site,
  Tokens,
  Zone,
  ZoneStatus,
} from './types';

export type AuthStatus = 'unknown' | 'signed_out' | 'password_change' | 'signed_in';

export interface AuthSnapshot {
  status: AuthStatus;
  user: SessionUser | null;
  /** why the session ended, to show on the sign-in page */
  notice: string | null;
}

interface LockLike {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
}

export interface ClientOptions {
  /** '' = the page's own origin (sbems serves both) */
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
  /** navigator.locks, or null to skip cross-tab serialisation */
  locks?: LockLike | null;
  /** longest Retry-After (s) a GET waits for by itself */
  maxAutoRetryS?: number;
  /**
   * The tabs' shared channel (BroadcastChannel 'sbems-session'), or null for
   * none: a sign-out in one tab ends the session in all of them at once,
   * and a sign-in in one restores the others from the shared cookie.
   */
  channel?: ChannelLike | null;
}

/** What ApiClient needs of a BroadcastChannel. */
export interface ChannelLike {
  postMessage(msg: unknown): void;
  onmessage: ((ev: MessageEvent) => void) | null;
  close(): void;
}

type TabMessage = { type: 'signed_out' } | { type: 'signed_in'; user: string };

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  signal?: AbortSignal;
  /** send the access token (default true) */
  auth?: boolean;
}

/** The access token is renewed this long before it expires (at most half its life). */
export const REFRESH_MARGIN_MS = 60_000;
/** A token with less than this left is refreshed before use. */
const MIN_VALIDITY_MS = 10_000;
/** After a refresh that could not reach the server, try again after this. */
const REFRESH_RETRY_MS = 15_000;
const MAX_PAGES = 100;
const LOCK_NAME = 'sbems-token-refresh';
const CHANNEL_NAME = 'sbems-session';

const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, manager: 3, admin: 4 };

/** Whether roles include `least` or a role above it (each role has the rights of those below). */
export function hasRole(roles: readonly Role[] | undefined | null, least: Role): boolean {
  return (roles ?? []).some((r) => (ROLE_RANK[r] ?? 0) >= ROLE_RANK[least]);
}

/** May this user command equipment (POST .../write, .../control: operator and up)? */
export function canCommand(user: SessionUser | null): boolean {
  return !!user && hasRole(user.roles, 'operator');
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly locks: LockLike | null;
  private readonly maxAutoRetryS: number;
  private readonly channel: ChannelLike | null;

  private token: string | null = null;
  private expiresAt = 0;
  private timer: unknown = null;
  private refreshing: Promise<string> | null = null;
  private snap: AuthSnapshot = { status: 'unknown', user: null, notice: null };
  private readonly listeners = new Set<() => void>();

  constructor(opts: ClientOptions = {}) {
    this.base = opts.baseUrl ?? '';
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = opts.now ?? (() => Date.now());
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const nav = typeof navigator !== 'undefined' ? (navigator as { locks?: LockLike }) : undefined;
    this.locks = opts.locks !== undefined ? opts.locks : nav?.locks ?? null;
    this.maxAutoRetryS = opts.maxAutoRetryS ?? 5;
    this.channel = opts.channel !== undefined ? opts.channel
      : typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(CHANNEL_NAME) : null;
    if (this.channel) this.channel.onmessage = (ev) => this.fromTab(ev.data as TabMessage);
  }

  /** Another tab signed out (the cookie is gone) or in (a cookie to restore from). */
  private fromTab(m: TabMessage): void {
    if (m?.type === 'signed_out' && this.snap.status !== 'signed_out') {
      this.end('You signed out in another tab.');
    } else if (m?.type === 'signed_in' && this.snap.status === 'signed_out') {
      void this.restore();
    }
  }

  private tell(m: TabMessage): void {
    try {
      this.channel?.postMessage(m);
    } catch {
      /* a closed channel: the other tabs learn at their next request */
    }
  }

  // ---- session state (for useSyncExternalStore) ------------------------------------

  readonly getSnapshot = (): AuthSnapshot => this.snap;

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  get user(): SessionUser | null {
    return this.snap.user;
  }

  private setSnap(next: AuthSnapshot): void {
    this.snap = next;
    for (const fn of [...this.listeners]) fn();
  }

  /** Tokens from login, refresh or password change: keep the access token only. */
  private accept(t: Tokens): void {
    this.token = t.access_token;
    const life = Math.max(1, t.expires_in) * 1000;
    this.expiresAt = this.now() + life;
    this.schedule(life - Math.min(REFRESH_MARGIN_MS, life / 2));
    const status: AuthStatus = t.user.must_change_password ? 'password_change' : 'signed_in';
    this.setSnap({ status, user: { ...t.user, roles: [...t.user.roles] }, notice: null });
  }

  private schedule(ms: number): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.refresh().catch(() => {
        /* refresh() already ended the session or scheduled a retry */
      });
    }, Math.max(0, ms));
  }

  /** Forget the session; notice is shown on the sign-in page. */
  private end(notice: string | null): void {
    this.token = null;
    this.expiresAt = 0;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.setSnap({ status: 'signed_out', user: null, notice });
  }

  // ---- raw HTTP --------------------------------------------------------------------

  private url(path: string, query?: RequestOptions['query']): string {
    let u = this.base + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) q.set(k, String(v));
      const s = q.toString();
      if (s) u += `?${s}`;
    }
    return u;
  }

  private async send(method: string, path: string, o: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchFn(this.url(path, o.query), {
        method,
        headers,
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
        credentials: 'same-origin',
        signal: o.signal,
        cache: 'no-store',
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new NetworkError(e);
    }
  }

  // ---- tokens ----------------------------------------------------------------------

  /**
   * A valid access token, refreshed first when it is about to expire (or
   * always with force).  Throws SessionEndedError when there is no session.
   */
  async accessToken(force = false): Promise<string> {
    if (!force && this.token && this.now() < this.expiresAt - MIN_VALIDITY_MS) return this.token;
    if (this.snap.status === 'signed_out') throw new SessionEndedError();
    return this.refresh();
  }

  /** Seconds the current access token still lives (0 without one). */
  tokenLifetimeLeft(): number {
    return this.token ? Math.max(0, Math.floor((this.expiresAt - this.now()) / 1000)) : 0;
  }

  /** New tokens from the sbems_rt cookie; single-flight, serialised across tabs. */
  refresh(): Promise<string> {
    if (!this.refreshing) {
      const run = () => this.doRefresh();
      const p = this.locks ? this.locks.request(LOCK_NAME, run) : run();
      this.refreshing = p.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    let res: Response;
    try {
      res = await this.send('POST', '/api/v1/auth/refresh', {}, null);
    } catch (e) {
      // Unreachable: keep what we have and try again soon.
      if (this.token && this.now() < this.expiresAt) this.schedule(REFRESH_RETRY_MS);
      throw e;
    }
    if (!res.ok) {
      const err = await errorFromResponse(res);
      if (res.status === 400 || res.status === 401) {
        // No cookie, or one that is used, expired or revoked: the session is over.
        const had = this.snap.status === 'signed_in' || this.snap.status === 'password_change';
        this.end(had ? 'Your session has ended. Please sign in again.' : null);
        throw new SessionEndedError();
      }
      if (this.token && this.now() < this.expiresAt) this.schedule(REFRESH_RETRY_MS);
      throw err;
    }
    const t = (await res.json()) as Tokens;
    this.accept(t);
    return t.access_token;
  }

  // ---- sign-in, password, sign-out ----------------------------------------------------

  /** At start: a session from the cookie, if there is one.  Never throws for "none". */
  async restore(): Promise<AuthSnapshot> {
    try {
      await this.refresh();
    } catch (e) {
      if (!(e instanceof SessionEndedError)) {
        // sbems unreachable or failing: show the sign-in page with the reason.
        this.end(e instanceof NetworkError ? 'Cannot reach sbems right now.' : null);
      }
    }
    return this.snap;
  }

  async login(username: string, password: string): Promise<SessionUser> {
    const res = await this.send('POST', '/api/v1/auth/login', { body: { username, password } }, null);
    if (!res.ok) throw await errorFromResponse(res);
    const t = (await res.json()) as Tokens;
    this.accept(t);
    this.tell({ type: 'signed_in', user: t.user.username });
    return t.user;
  }

  /** POST /auth/password: the other sessions end, this one gets new tokens. */
  async changePassword(current: string, next: string): Promise<SessionUser> {
    const t = await this.request<Tokens>('POST', '/api/v1/auth/password', {
      body: { current_password: current, new_password: next },
    });
    this.accept(t);
    return t.user;
  }

  /** Ends the session on the server (its refresh family and cookie) and here. */
  async logout(): Promise<void> {
    try {
      if (this.token && this.now() < this.expiresAt) {
        await this.send('POST', '/api/v1/auth/logout', {}, this.token);
      }
    } catch {
      /* signed out here whatever the server said */
    } finally {
      this.end('You are signed out.');
      this.tell({ type: 'signed_out' });
    }
  }

  // ---- requests ----------------------------------------------------------------------

  /** A request; the answer's status with its body (for 200 vs 202 answers). */
  async requestFull<T>(method: string, path: string, o: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const auth = o.auth ?? true;
    for (let attempt = 0; ; attempt++) {
      const token = auth ? await this.accessToken(false) : null;
      const res = await this.send(method, path, o, token);
      if (res.ok) {
        const text = res.status === 204 ? '' : await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
      }
      const err = await errorFromResponse(res);
      if (auth && res.status === 401) {
        if (attempt === 0 && this.snap.status !== 'signed_out') {
          await this.refresh(); // throws SessionEndedError when refused
          continue;
        }
        this.end('Your session has ended. Please sign in again.');
        throw new SessionEndedError();
      }
      if (res.status === 403 && err.code === 'password_change_required' && this.snap.user) {
        this.setSnap({ status: 'password_change', user: { ...this.snap.user, must_change_password: true }, notice: null });
      }
      if (res.status === 429 && method === 'GET' && attempt === 0 && err.retryAfter !== null &&
          err.retryAfter <= this.maxAutoRetryS) {
        await this.sleep(err.retryAfter * 1000);
        continue;
      }
      throw err;
    }
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return (await this.requestFull<T>(method, path, o)).body;
  }

  /**
   * A file the server streams (exports): the body as a Blob and the name
   * from Content-Disposition, with the same token handling as JSON requests.
   */
  async download(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<{ blob: Blob; filename: string | null; type: string }> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken(false);
      const res = await this.send('GET', path, { query, signal }, token);
      if (res.ok) {
        const cd = res.headers.get('Content-Disposition') ?? '';
        const m = /filename="?([^";]+)"?/i.exec(cd);
        return { blob: await res.blob(), filename: m?.[1] ?? null, type: res.headers.get('Content-Type') ?? '' };
      }
      const err = await errorFromResponse(res);
      if (res.status === 401 && attempt === 0) {
        await this.refresh();
        continue;
      }
      if (res.status === 401) {
        this.end('Your session has ended. Please sign in again.');
        throw new SessionEndedError();
      }
      throw err;
    }
  }

  get<T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  /** Every item of a paged list (limit 1000 a page, following next_cursor). */
  async listAll<T>(path: string, query: RequestOptions['query'] = {}, signal?: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page: Page<T> = await this.get<Page<T>>(path, { ...query, limit: 1000, cursor }, signal);
      out.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) return out;
    }
    throw new ApiError(0, 'too_many_pages', `more than ${MAX_PAGES} pages at ${path}`);
  }

  // ---- typed calls -------------------------------------------------------------------

  sites(signal?: AbortSignal): Promise<Site[]> {
    return this.listAll<Site>('/api/v1/sites', {}, signal);
  }

  buildings(signal?: AbortSignal): Promise<Building[]> {
    return this.listAll<Building>('/api/v1/buildings', {}, signal);
  }

  building(id: string, signal?: AbortSignal): Promise<Building> {
    return this.get<Building>(`/api/v1/buildings/${seg(id)}`, undefined, signal);
  }

  overview(building: string, signal?: AbortSignal): Promise<Overview> {
    return this.get<Overview>(`/api/v1/buildings/${seg(building)}/overview`, undefined, signal);
  }

  zones(building?: string, signal?: AbortSignal): Promise<Zone[]> {
    return this.listAll<Zone>('/api/v1/zones', { building }, signal);
  }

  zone(id: string, signal?: AbortSignal): Promise<Zone> {
    return this.get<Zone>(`/api/v1/zones/${seg(id)}`, undefined, signal);
  }

  zoneStatus(id: string, signal?: AbortSignal): Promise<ZoneStatus> {
    return this.get<ZoneStatus>(`/api/v1/zones/${seg(id)}/status`, undefined, signal);
  }

  equipment(filter: { building?: string; type?: string; zone?: string } = {}, signal?: AbortSignal): Promise<Equipment[]> {
    return this.listAll<Equipment>('/api/v1/equipment', filter, signal);
  }

  points(filter: { building?: string; equipment?: string; kind?: string } = {}, signal?: AbortSignal): Promise<Point[]> {
    return this.listAll<Point>('/api/v1/points', filter, signal);
  }

  history(point: string | number, q: HistoryQuery, signal?: AbortSignal): Promise<History> {
    return this.get<History>(`/api/v1/points/${seg(String(point))}/history`, {
      from: Math.floor(q.from),
      to: q.to !== undefined ? Math.floor(q.to) : undefined,
      resolution: q.resolution,
      agg: q.agg,
      limit: q.limit,
    }, signal);
  }

  priority(point: string | number, signal?: AbortSignal): Promise<PriorityInfo> {
    return this.get<PriorityInfo>(`/api/v1/points/${seg(String(point))}/priority`, undefined, signal);
  }

  /**
   * Command a point: 200 the device reads it back (or dry run), 202 it holds
   * something else (result.holder says who).  409 (refused), 504 (no answer),
   * 503 (no driver) and the rest throw ApiError.
   */
  async write(point: string | number, cmd: Command): Promise<{ status: number; result: CommandResult }> {
    const r = await this.requestFull<CommandResult>('POST', `/api/v1/points/${seg(String(point))}/write`, { body: cmd });
    return { status: r.status, result: r.body };
  }
}
