import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiError, empty, json, mockFetch, tokens } from '../test/fetchMock';
import { ApiClient, canCommand, hasRole } from './client';
import type { ChannelLike } from './client';
import { ApiError, NetworkError, SessionEndedError, describeError, parseRetryAfter } from './errors';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 10, 27, 12, 0, 0));
});

afterEach(() => {
  vi.useRealTimers();
});

function client(handler: Parameters<typeof mockFetch>[0]) {
  const m = mockFetch(handler);
  return { c: new ApiClient({ fetch: m.fetch, locks: null, channel: null }), calls: m.calls };
}

describe('sign-in', () => {
  it('keeps the access token in memory only and drops the refresh token of the body', async () => {
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens());
      if (r.path === '/api/v1/sites') return json(200, { items: [{ id: 's', name: 'S' }], next_cursor: null });
      return apiError(404, 'not_found');
    });
    const user = await c.login('vic', 'a long passphrase');
    expect(user.username).toBe('vic');
    expect(c.getSnapshot().status).toBe('signed_in');
    expect(calls[0]?.body).toEqual({ username: 'vic', password: 'a long passphrase' });
    expect(calls[0]?.headers.authorization).toBeUndefined();
    expect(calls[0]?.credentials).toBe('same-origin'); // so the sbems_rt cookie is set and sent
    await c.sites();
    expect(calls[1]?.headers.authorization).toBe('Bearer access-1');
    // nothing in storage, and the refresh token is nowhere in the client
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(JSON.stringify(c.getSnapshot())).not.toContain('REFRESH-SECRET');
    expect(Object.values(c as unknown as Record<string, unknown>).some((v) => v === 'REFRESH-SECRET')).toBe(false);
  });

  it('reports wrong credentials and throttling readably', async () => {
    const { c } = client(() => apiError(401, 'invalid_credentials', 'wrong user name or password'));
    const e = await c.login('vic', 'nope').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(describeError(e)).toBe('Wrong user name or password.');
    expect(c.getSnapshot().status).not.toBe('signed_in');

    const { c: c2 } = client(() => apiError(429, 'too_many_attempts', 'slow down', undefined, { 'Retry-After': '8' }));
    expect(describeError(await c2.login('vic', 'x').catch((x: unknown) => x))).toBe('Too many failed sign-ins. Try again in 8 seconds.');
  });

  it('goes to the forced password change when the login says so, then signs in with the new tokens', async () => {
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens({ must_change_password: true, token: 'tmp' }));
      if (r.path === '/api/v1/auth/password') {
        return r.headers.authorization === 'Bearer tmp' ? json(200, tokens({ token: 'fresh' })) : apiError(401, 'invalid_token');
      }
      return apiError(404, 'not_found');
    });
    await c.login('vic', 'temporary-pw');
    expect(c.getSnapshot().status).toBe('password_change');
    await c.changePassword('temporary-pw', 'a new long passphrase');
    expect(calls[1]?.body).toEqual({ current_password: 'temporary-pw', new_password: 'a new long passphrase' });
    expect(c.getSnapshot().status).toBe('signed_in');
    expect(await c.accessToken()).toBe('fresh');
  });

  it('moves to the password change when a route answers 403 password_change_required', async () => {
    const { c } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens());
      return apiError(403, 'password_change_required', 'change your password first');
    });
    await c.login('vic', 'pw');
    await expect(c.sites()).rejects.toBeInstanceOf(ApiError);
    expect(c.getSnapshot().status).toBe('password_change');
  });

  it('shows the server field messages of a refused password', async () => {
    const { c } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens({ must_change_password: true }));
      return apiError(400, 'invalid', 'bad field', [{ field: 'new_password', message: 'this password is too common' }]);
    });
    await c.login('vic', 'pw');
    const e = (await c.changePassword('pw', 'password123').catch((x: unknown) => x)) as ApiError;
    expect(e.fieldMessage('new_password')).toBe('this password is too common');
    expect(describeError(e)).toBe('Please check: this password is too common.');
    expect(c.getSnapshot().status).toBe('password_change');
  });
});

describe('refresh', () => {
  it('renews the access token a minute before it expires, from the cookie', async () => {
    let n = 0;
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens({ token: 'a0' }));
      if (r.path === '/api/v1/auth/refresh') return json(200, tokens({ token: `a${++n}` }));
      return apiError(404, 'not_found');
    });
    await c.login('vic', 'pw');
    await vi.advanceTimersByTimeAsync(839_000);
    expect(calls.filter((x) => x.path === '/api/v1/auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    const refreshes = calls.filter((x) => x.path === '/api/v1/auth/refresh');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.method).toBe('POST');
    expect(refreshes[0]?.body).toBeUndefined(); // the cookie carries the refresh token
    expect(refreshes[0]?.credentials).toBe('same-origin');
    expect(await c.accessToken()).toBe('a1');
    await vi.advanceTimersByTimeAsync(840_000); // and again for the next token
    expect(await c.accessToken()).toBe('a2');
  });

  it('refreshes at half life for short-lived tokens', async () => {
    const { c, calls } = client((r) => json(200, tokens({ token: r.path, expires_in: 60 })));
    await c.login('vic', 'pw');
    await vi.advanceTimersByTimeAsync(29_000);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.map((x) => x.path)).toEqual(['/api/v1/auth/login', '/api/v1/auth/refresh']);
  });

  it('sends one refresh for concurrent callers (a used refresh token would end the session)', async () => {
    let release: (r: Response) => void = () => undefined;
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/refresh') return new Promise<Response>((res) => { release = res; });
      return json(200, tokens());
    });
    await c.login('vic', 'pw');
    const p = [c.accessToken(true), c.accessToken(true), c.refresh()];
    await vi.advanceTimersByTimeAsync(0);
    release(json(200, tokens({ token: 'new' })));
    expect(await Promise.all(p)).toEqual(['new', 'new', 'new']);
    expect(calls.filter((x) => x.path === '/api/v1/auth/refresh')).toHaveLength(1);
  });

  it('serialises refreshes across tabs with a Web Lock when there is one', async () => {
    const names: string[] = [];
    const locks = {
      request: async <T,>(name: string, cb: () => Promise<T>): Promise<T> => {
        names.push(name);
        return cb();
      },
    };
    const m = mockFetch(() => json(200, tokens()));
    const c = new ApiClient({ fetch: m.fetch, locks });
    await c.refresh();
    expect(names).toEqual(['sbems-token-refresh']);
  });

  it('refreshes and retries once when a request meets an expired token', async () => {
    let refreshed = false;
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens({ token: 'old' }));
      if (r.path === '/api/v1/auth/refresh') {
        refreshed = true;
        return json(200, tokens({ token: 'new' }));
      }
      return r.headers.authorization === 'Bearer new' ? json(200, { items: [], next_cursor: null }) : apiError(401, 'token_expired');
    });
    await c.login('vic', 'pw');
    expect(await c.sites()).toEqual([]);
    expect(refreshed).toBe(true);
    expect(calls.map((x) => x.path)).toEqual(['/api/v1/auth/login', '/api/v1/sites', '/api/v1/auth/refresh', '/api/v1/sites']);
  });

  it('ends the session when the refresh is refused', async () => {
    const { c } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens());
      if (r.path === '/api/v1/auth/refresh') return apiError(401, 'invalid_token', 'the refresh token is invalid, used or expired');
      return apiError(401, 'invalid_token');
    });
    await c.login('vic', 'pw');
    await expect(c.sites()).rejects.toBeInstanceOf(SessionEndedError);
    expect(c.getSnapshot()).toMatchObject({ status: 'signed_out', user: null });
    expect(c.getSnapshot().notice).toMatch(/session has ended/);
    await expect(c.accessToken()).rejects.toBeInstanceOf(SessionEndedError);
  });

  it('restores a session after a reload from the cookie, or shows sign-in without a notice', async () => {
    const { c } = client(() => json(200, tokens({ token: 'restored' })));
    expect((await c.restore()).status).toBe('signed_in');
    expect(await c.accessToken()).toBe('restored');

    const { c: c2 } = client(() => apiError(400, 'invalid', 'refresh_token is required (body or cookie)'));
    expect(await c2.restore()).toEqual({ status: 'signed_out', user: null, notice: null });
  });

  it('keeps the session when the server is unreachable and tries again', async () => {
    let down = true;
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens({ token: 'a' }));
      if (down) throw new TypeError('Failed to fetch');
      return json(200, tokens({ token: 'b' }));
    });
    await c.login('vic', 'pw');
    await vi.advanceTimersByTimeAsync(840_000); // refresh fails: network
    expect(c.getSnapshot().status).toBe('signed_in');
    down = false;
    await vi.advanceTimersByTimeAsync(15_000);
    expect(calls.filter((x) => x.path === '/api/v1/auth/refresh')).toHaveLength(2);
    expect(await c.accessToken()).toBe('b');
  });
});

describe('requests', () => {
  it('follows next_cursor through every page', async () => {
    const { c, calls } = client((r) => {
      if (r.path === '/api/v1/auth/login') return json(200, tokens());
      const cur = r.query.get('cursor');
      return json(200, cur ? { items: [{ id: 'b2' }], next_cursor: null } : { items: [{ id: 'b1' }], next_cursor: 'b1' });
    });
    await c.login('vic', 'pw');
    expect((await c.buildings()).map((b) => b.id)).toEqual(['b1', 'b2']);
    expect(calls[1]?.query.get('limit')).toBe('1000');
    expect(calls[2]?.query.get('cursor')).toBe('b1');
  });

  it('encodes path segments and history parameters', async () => {
    const { c, calls } = client((r) => (r.path.endsWith('/login') ? json(200, tokens()) : json(200, { point: 1, res: '1m', from: 0, to: 0, limit: 1, count: 0, truncated: false, next: null, buckets: [] })));
    await c.login('vic', 'pw');
    await c.history('ahu-1.sat', { from: 1000.7, to: 2000, resolution: '1m' });
    expect(calls[1]?.path).toBe('/api/v1/points/ahu-1.sat/history');
    expect(Object.fromEntries(calls[1]?.query ?? [])).toEqual({ from: '1000', to: '2000', resolution: '1m' });
    await c.zone('a b/c').catch(() => undefined);
    expect(calls[2]?.path).toBe('/api/v1/zones/a%20b%2Fc');
  });

  it('waits out a short Retry-After once for GETs', async () => {
    let n = 0;
    const { c, calls } = client((r) => {
      if (r.path.endsWith('/login')) return json(200, tokens());
      return ++n === 1 ? apiError(429, 'rate_limited', 'slow down', undefined, { 'Retry-After': '2' }) : json(200, { items: [], next_cursor: null });
    });
    await c.login('vic', 'pw');
    const p = c.sites();
    await vi.advanceTimersByTimeAsync(2000);
    expect(await p).toEqual([]);
    expect(calls).toHaveLength(3);
  });

  it('gives the write status with its result: 202 means the device holds something else', async () => {
    const { c, calls } = client((r) => {
      if (r.path.endsWith('/login')) return json(200, tokens());
      return json(202, { point: 'vav-1.htg-sp', point_id: 56, result: 'not_confirmed', value: 22, readback: 21, holder: 'priority 5', by: 'vic' });
    });
    await c.login('vic', 'pw');
    const r = await c.write('vav-1.htg-sp', { value: 22, duration_s: 3600 });
    expect(r.status).toBe(202);
    expect(r.result.holder).toBe('priority 5');
    expect(calls[1]).toMatchObject({ method: 'POST', path: '/api/v1/points/vav-1.htg-sp/write', body: { value: 22, duration_s: 3600 } });
    expect(calls[1]?.headers['content-type']).toBe('application/json');
  });

  it('turns a failed fetch into a NetworkError', async () => {
    const { c } = client(() => {
      throw new TypeError('Failed to fetch');
    });
    const e = await c.login('vic', 'pw').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetworkError);
    expect(describeError(e)).toMatch(/Cannot reach sbems/);
  });

  it('logs out on the server and here, even when the server fails', async () => {
    const { c, calls } = client((r) => (r.path.endsWith('/login') ? json(200, tokens()) : r.path.endsWith('/logout') ? empty(204) : apiError(404, 'x')));
    await c.login('vic', 'pw');
    await c.logout();
    expect(calls[1]).toMatchObject({ method: 'POST', path: '/api/v1/auth/logout' });
    expect(calls[1]?.headers.authorization).toBe('Bearer access-1');
    expect(c.getSnapshot()).toMatchObject({ status: 'signed_out', notice: 'You are signed out.' });
    await vi.advanceTimersByTimeAsync(3_600_000); // no refresh left scheduled
    expect(calls).toHaveLength(2);

    const { c: c2 } = client((r) => (r.path.endsWith('/login') ? json(200, tokens()) : apiError(503, 'busy')));
    await c2.login('vic', 'pw');
    await c2.logout();
    expect(c2.getSnapshot().status).toBe('signed_out');
  });

  it('signs the other tabs out and in through the shared channel', async () => {
    // two tabs joined by an in-memory channel pair, delivering asynchronously like BroadcastChannel
    const ends: ChannelLike[] = [];
    const mk = (): ChannelLike => {
      const ch: ChannelLike = {
        onmessage: null,
        postMessage: (msg) => {
          for (const o of ends) if (o !== ch) queueMicrotask(() => o.onmessage?.({ data: msg } as MessageEvent));
        },
        close: () => undefined,
      };
      ends.push(ch);
      return ch;
    };
    let refreshes = 0;
    const m = mockFetch((r) => {
      if (r.path.endsWith('/login')) return json(200, tokens());
      if (r.path.endsWith('/refresh')) return ++refreshes <= 1 ? apiError(400, 'invalid') : json(200, tokens());
      if (r.path.endsWith('/logout')) return empty(204);
      return apiError(404, 'x');
    });
    const a = new ApiClient({ fetch: m.fetch, locks: null, channel: mk() });
    const b = new ApiClient({ fetch: m.fetch, locks: null, channel: mk() });
    await b.restore(); // no cookie yet: signed out
    expect(b.getSnapshot().status).toBe('signed_out');
    await a.login('vic', 'pw');
    await vi.waitFor(() => expect(b.getSnapshot().status).toBe('signed_in')); // restored from the cookie
    expect(m.calls.filter((c) => c.path.endsWith('/refresh'))).toHaveLength(2);
    await b.logout();
    await vi.waitFor(() => expect(a.getSnapshot()).toMatchObject({ status: 'signed_out', notice: 'You signed out in another tab.' }));
    // the other tab did not call the server again: one logout in all
    expect(m.calls.filter((c) => c.path.endsWith('/logout'))).toHaveLength(1);
  });
});

describe('errors and roles', () => {
  it('maps codes to sentences', () => {
    expect(describeError(new ApiError(409, 'rejected', 'out of service'))).toBe('The device refused the command (out of service).');
    expect(describeError(new ApiError(504, 'device_error', 'timeout'))).toBe('The device did not answer (timeout).');
    expect(describeError(new ApiError(409, 'not_writable', 'this point cannot be commanded'))).toBe('This point cannot be commanded.');
    expect(describeError(new ApiError(501, 'not_implemented', 'alerts come with the alert engine'))).toBe('Not available yet (alerts come with the alert engine).');
    expect(describeError(new ApiError(404, 'not_found', ''))).toMatch(/Not found/);
    expect(describeError(new ApiError(500, 'internal', 'disk full'))).toBe('sbems had a problem (HTTP 500) (disk full).');
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter('Fri, 27 Nov 2026 12:00:30 GMT', Date.UTC(2026, 10, 27, 12, 0, 0))).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });

  it('ranks roles: each has the rights of those below', () => {
    expect(hasRole(['admin'], 'operator')).toBe(true);
    expect(hasRole(['manager'], 'operator')).toBe(true);
    expect(hasRole(['viewer'], 'operator')).toBe(false);
    expect(hasRole([], 'viewer')).toBe(false);
    expect(canCommand({ id: 1, username: 'v', roles: ['viewer'], must_change_password: false })).toBe(false);
    expect(canCommand({ id: 1, username: 'o', roles: ['viewer', 'operator'], must_change_password: false })).toBe(true);
    expect(canCommand(null)).toBe(false);
  });
});
