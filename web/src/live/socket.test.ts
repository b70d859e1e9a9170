import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionEndedError } from '../api/errors';
import { FakeWebSocket } from '../test/FakeWebSocket';
import { LiveConnection, backoffDelay } from './socket';
import { LiveStore } from './store';

function setup(opts: { getToken?: (force: boolean) => Promise<string> } = {}) {
  const store = new LiveStore();
  let n = 0;
  const getToken = vi.fn(opts.getToken ?? (async (force: boolean) => `tok-${++n}${force ? '-forced' : ''}`));
  const conn = new LiveConnection({
    url: 'ws://sbems.test/api/v1/ws',
    getToken,
    store,
    WebSocketImpl: FakeWebSocket,
    random: () => 1, // no jitter: delays are exact
    eventTarget: null,
    lingerMs: 1000,
  });
  return { store, conn, getToken };
}

/** Open the newest socket and answer its auth with ready. */
function accept(ws = FakeWebSocket.last()) {
  ws.open();
  ws.receive({ type: 'ready', user: 'vic', expires_in: 900 });
  return ws;
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const o = { initialMs: 1000, maxMs: 30_000, factor: 2 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o, () => 1))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('jitters between half and all of the step', () => {
    const o = { initialMs: 1000, maxMs: 30_000, factor: 2 };
    expect(backoffDelay(3, o, () => 0)).toBe(4000);
    expect(backoffDelay(3, o, () => 0.5)).toBe(6000);
    expect(backoffDelay(3, o, () => 1)).toBe(8000);
  });
});

describe('LiveConnection', () => {
  it('authenticates first, is live on ready, and feeds readings to the store', async () => {
    const { conn, store } = setup();
    conn.start();
    expect(conn.getSnapshot().state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe('ws://sbems.test/api/v1/ws');
    ws.open();
    expect(ws.messages()).toEqual([{ type: 'auth', token: 'tok-1' }]);
    expect(conn.getSnapshot().state).toBe('connecting');
    ws.receive({ type: 'ready', user: 'vic', expires_in: 900 });
    expect(conn.getSnapshot().state).toBe('live');
    ws.receive({ type: 'readings', data: [[7, 1000, 21.5, 0], [8, 1000, 400, 1]] });
    expect(store.get(7)).toEqual({ v: 21.5, t: 1000, q: 0 });
    expect(store.get(8)?.q).toBe(1);
    // live: an old reading without the flag is current (the server would flag it);
    // once the link drops, age decides again
    store.describe([{ id: 'p7', point_id: 7, source: { driver: 'bacnet', poll_s: 10 } }]);
    expect(store.stale(7, 1000 + 3_600_000)).toBe(false);
    ws.serverClose(1006);
    expect(conn.getSnapshot().state).toBe('offline');
    expect(store.stale(7, 1000 + 3_600_000)).toBe(true);
  });

  it('subscribes a channel once however many components want it, when live', async () => {
    const { conn } = setup();
    const r1 = conn.subscribe('building:hpo'); // before the socket exists: sent after ready
    const r2 = conn.subscribe('building:hpo');
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    expect(ws.ofType('subscribe').map((m) => m.channels)).toEqual([['building:hpo']]);
    conn.subscribe('point:mtr-main.power');
    expect(ws.ofType('subscribe').map((m) => m.channels)).toEqual([['building:hpo'], ['point:mtr-main.power']]);
    r1();
    r2();
    r2(); // releasing twice is harmless
    expect(ws.ofType('unsubscribe')).toHaveLength(0); // lingers first
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.ofType('unsubscribe').map((m) => m.channels)).toEqual([['building:hpo']]);
    // sbems drops the channel's points even where another channel covers them: ask again for the rest
    expect(ws.ofType('subscribe').map((m) => m.channels).at(-1)).toEqual(['point:mtr-main.power']);
    expect(conn.channels()).toEqual(['point:mtr-main.power']);
  });

  it('keeps a channel that is wanted again within the linger time', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    const release = conn.subscribe('zone:f1-south');
    release();
    await vi.advanceTimersByTimeAsync(500);
    conn.subscribe('zone:f1-south');
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.ofType('unsubscribe')).toHaveLength(0);
    expect(ws.ofType('subscribe')).toHaveLength(1);
  });

  it('reconnects with exponential back-off and re-subscribes everything', async () => {
    const { conn, store } = setup();
    conn.subscribe('building:hpo');
    conn.subscribe('commands');
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    accept().serverClose(1006);
    expect(conn.getSnapshot().state).toBe('offline');
    expect(FakeWebSocket.instances).toHaveLength(1);

    // attempt 1 after 1 s: fails before opening
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last().serverClose(1006);
    // attempt 2 after 2 s, attempt 3 after 4 s
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().serverClose(1006);
    expect(conn.getSnapshot().attempt).toBe(3);
    await vi.advanceTimersByTimeAsync(4000);
    expect(FakeWebSocket.instances).toHaveLength(4);

    const ws = accept();
    expect(conn.getSnapshot()).toMatchObject({ state: 'live', attempt: 0, retryAt: null });
    const subs = ws.ofType('subscribe');
    expect(subs).toHaveLength(1);
    expect([...(subs[0]?.channels as string[])].sort()).toEqual(['building:hpo', 'commands']);
    ws.receive({ type: 'readings', data: [[1, 5, 2, 0]] });
    expect(store.get(1)?.v).toBe(2);

    // after a live connection the back-off starts over at the first step
    ws.serverClose(1001);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(5);
  });

  it('ignores a socket it gave up on', async () => {
    const { conn, store } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const old = accept();
    old.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    const fresh = accept();
    old.receive({ type: 'readings', data: [[1, 5, 99, 0]] });
    expect(store.get(1)).toBeUndefined();
    fresh.receive({ type: 'readings', data: [[1, 5, 42, 0]] });
    expect(store.get(1)?.v).toBe(42);
  });

  it('forces a token refresh after close code 4001 (token expired)', async () => {
    const { conn, getToken } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    accept().serverClose(4001);
    await vi.advanceTimersByTimeAsync(1000);
    expect(getToken.mock.calls.map((c) => c[0])).toEqual([false, true]);
    FakeWebSocket.last().open();
    expect(FakeWebSocket.last().messages()[0]).toEqual({ type: 'auth', token: 'tok-2-forced' });
  });

  it('answers reauth with a fresh token on the same socket', async () => {
    let n = 0;
    const tokens = ['a', 'a', 'b'];
    const { conn, getToken } = setup({ getToken: async () => tokens[n++] ?? 'z' });
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    ws.receive({ type: 'reauth', expires_in: 60 });
    await vi.advanceTimersByTimeAsync(0);
    // the client's token was still the one on the socket: a forced refresh gave "b"
    expect(getToken.mock.calls.map((c) => c[0])).toEqual([false, false, true]);
    expect(ws.ofType('auth').map((m) => m.token)).toEqual(['a', 'b']);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('stops trying when the session has ended', async () => {
    let calls = 0;
    const { conn } = setup({
      getToken: async () => {
        calls++;
        if (calls > 1) throw new SessionEndedError();
        return 't';
      },
    });
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    accept().serverClose(1008);
    await vi.advanceTimersByTimeAsync(1000);
    expect(conn.getSnapshot()).toMatchObject({ state: 'offline', ended: true });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('drops a socket that does not answer pings and reconnects', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    await vi.advanceTimersByTimeAsync(25_000);
    expect(ws.ofType('ping')).toHaveLength(1);
    ws.receive({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(25_000);
    expect(ws.ofType('ping')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10_000); // no pong this time
    expect(ws.closedWith).toBe(4000);
    expect(conn.getSnapshot().state).toBe('offline');
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('gives up on a socket that never says ready', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.last().open();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(FakeWebSocket.last().closedWith).toBe(4000);
    expect(conn.getSnapshot().state).toBe('offline');
  });

  it('records a channel the server refused', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    conn.subscribe('zone:nowhere');
    const id = ws.ofType('subscribe')[0]?.id;
    ws.receive({ type: 'error', id, code: 'not_found', message: 'zone:nowhere: no such channel (or not in your scope)' });
    expect(conn.channelError('zone:nowhere')).toBe('not found or not in your scope');
  });

  it('counts readings the server skipped', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    ws.receive({ type: 'lagged', dropped: 120 });
    ws.receive({ type: 'lagged', dropped: 3 });
    expect(conn.getSnapshot().lagged).toBe(123);
  });

  it('delivers events of the commands channel', async () => {
    const { conn } = setup();
    const got: unknown[] = [];
    conn.onEvent('commands', (d) => got.push(d));
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    accept().receive({ type: 'event', channel: 'commands', data: { point: 'x', result: 'ok' } });
    expect(got).toEqual([{ point: 'x', result: 'ok' }]);
  });

  it('stop() closes the socket and schedules nothing', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = accept();
    conn.stop();
    expect(ws.closedWith).toBe(1000);
    expect(conn.getSnapshot().state).toBe('offline');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('reconnectNow() skips the remaining back-off', async () => {
    const { conn } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    accept().serverClose(1006);
    expect(conn.getSnapshot().retryAt).not.toBeNull();
    conn.reconnectNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});
