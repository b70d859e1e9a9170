/**
 * The UI's API client and live connection against a real sbems, from Node
 * (no browser needed): sign in, read the model, refresh the token from the
 * sbems_rt cookie as a browser would, subscribe to a building over the
 * WebSocket, post a reading and see it arrive, optionally survive a server
 * restart (reconnect + re-subscribe), sign out.
 *
 *   SBEMS_PASSWORD=... NODE_OPTIONS=--experimental-websocket \
 *     npx vite-node tools/live-smoke.ts http://127.0.0.1:8080 USER [--restart]
 *
 * The user must be an operator or above (it posts readings).  With
 * --restart it prints RESTART-NOW and waits up to 90 s for the socket to
 * come back: restart sbems on the same port meanwhile.  With --password-flow
 * (an admin) it also creates a viewer with a temporary password, goes
 * through the forced password change as that user, and disables it.  Node 22 has
 * WebSocket built in; Node 20 needs --experimental-websocket.
 */
import { ApiClient } from '../src/api/client';
import { SessionEndedError } from '../src/api/errors';
import { LiveConnection } from '../src/live/socket';
import type { WebSocketCtor } from '../src/live/socket';
import { LiveStore, isStale } from '../src/live/store';
import { mainMeterPowerPoints, zoneTemperaturePoint } from '../src/lib/model';

const [base = 'http://127.0.0.1:8080', username = 'admin', ...flags] = process.argv.slice(2);
const password = process.env.SBEMS_PASSWORD ?? '';
const restart = flags.includes('--restart');
const passwordFlow = flags.includes('--password-flow');

function check(ok: unknown, what: string): void {
  if (!ok) {
    console.error(`FAIL: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

/** fetch with the browser's cookie behaviour for sbems_rt (Path=/api/v1/auth). */
let cookie: string | null = null;
const jarFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input), base);
  const headers = new Headers(init?.headers);
  if (cookie && url.pathname.startsWith('/api/v1/auth')) headers.set('cookie', `sbems_rt=${cookie}`);
  const res = await fetch(url, { ...init, headers });
  const set = res.headers.get('set-cookie');
  const m = set ? /sbems_rt=([^;]*)/.exec(set) : null;
  if (m) cookie = m[1] ? m[1] : null;
  return res;
};

function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

async function main(): Promise<void> {
  const client = new ApiClient({ baseUrl: base, fetch: jarFetch, locks: null });
  const user = await client.login(username, password);
  check(client.getSnapshot().status === 'signed_in', `signed in as ${user.username} (${user.roles.join(',')})`);
  check(cookie && cookie.length > 20, 'the refresh token came as the sbems_rt cookie');

  const [building] = await client.buildings();
  check(building, `a building: ${building?.id} in ${building?.timezone}`);
  if (!building) return;
  const [zones, equipment, points, overview] = await Promise.all([
    client.zones(building.id), client.equipment({ building: building.id }), client.points({ building: building.id }), client.overview(building.id),
  ]);
  check(points.length > 0 && points.every((p) => typeof p.point_id === 'number'), `${points.length} points with integer ids`);
  check(overview.alerts.available === false, 'overview: alerts not yet available');
  const meters = mainMeterPowerPoints(building.id, equipment, points);
  console.log(`   main meters: ${meters.map((m) => m.id).join(', ') || 'none'}; ${zones.length} zones`);
  const zone = zones[0];
  const temp = zone ? zoneTemperaturePoint(zone.id, equipment, points) : undefined;
  check(temp && typeof temp.point_id === 'number', `zone ${zone?.id} temperature point ${temp?.id}`);
  if (!temp || typeof temp.point_id !== 'number') return;
  const tempId = temp.point_id;

  // refresh exactly as the browser does: empty body, the cookie carries the token
  const before = cookie;
  await client.refresh();
  check(cookie && cookie !== before, 'refresh from the cookie rotated it');
  check((await client.sites()).length > 0, 'the refreshed access token works');

  const store = new LiveStore();
  store.describe(points);
  const WS = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  check(WS, 'this Node has a WebSocket (Node 22, or 20 with --experimental-websocket)');
  const conn = new LiveConnection({
    url: `${base.replace(/^http/, 'ws')}/api/v1/ws`,
    getToken: (force) => client.accessToken(force),
    store,
    WebSocketImpl: WS as WebSocketCtor,
    eventTarget: null,
    backoff: { initialMs: 500, maxMs: 4000 },
  });
  const states: string[] = [];
  conn.subscribeState(() => {
    const s = conn.getSnapshot().state;
    if (states[states.length - 1] !== s) states.push(s);
  });
  conn.subscribe(`building:${building.id}`);
  conn.start();
  await until(() => conn.getSnapshot().state === 'live', 10_000, 'the socket to be live');
  check(true, `socket live (${states.join(' -> ')})`);

  const post = async (v: number) => {
    const t = Date.now();
    await client.request('POST', '/api/v1/readings', { body: { readings: [{ point: temp.id, t, v }] } });
    return t;
  };
  const t1 = await post(21.25);
  await until(() => store.get(tempId)?.t === t1, 10_000, 'the posted reading on the socket');
  check(store.get(tempId)?.v === 21.25, 'the posted reading arrived over the WebSocket');
  check(!isStale(store.get(tempId), store.metaOf(tempId)?.pollMs ?? null, Date.now()), 'and it is fresh');

  if (restart) {
    console.log('RESTART-NOW');
    await until(() => conn.getSnapshot().state !== 'live', 60_000, 'the socket to drop');
    check(true, `socket dropped (${conn.getSnapshot().state})`);
    await until(() => conn.getSnapshot().state === 'live', 90_000, 'the socket to come back');
    check(true, `reconnected (${states.join(' -> ')})`);
    const t2 = await post(22.75);
    await until(() => store.get(tempId)?.t === t2, 10_000, 'a reading after the reconnect');
    check(store.get(tempId)?.v === 22.75, 'subscriptions were renewed: a new reading arrived');
  }

  if (passwordFlow) await forcedPasswordChange(client);

  conn.stop();
  await client.logout();
  check(cookie === null, 'logout cleared the cookie');
  const e = await client.refresh().catch((x: unknown) => x);
  check(e instanceof SessionEndedError && client.getSnapshot().status === 'signed_out', 'after logout no refresh is possible');
  console.log('PASS');
}

/** A new account must change its password first; the client follows. */
async function forcedPasswordChange(admin: ApiClient): Promise<void> {
  const name = `smoke${Date.now() % 1_000_000}`;
  const created = await admin.request<{ id: number; temporary_password: string }>('POST', '/api/v1/users', {
    body: { username: name, roles: ['viewer'] },
  });
  check(created.temporary_password, `created ${name} with a temporary password`);
  let jar: string | null = null;
  const f: typeof fetch = async (input, init) => {
    const url = new URL(String(input), base);
    const headers = new Headers(init?.headers);
    if (jar && url.pathname.startsWith('/api/v1/auth')) headers.set('cookie', `sbems_rt=${jar}`);
    const res = await fetch(url, { ...init, headers });
    const m = /sbems_rt=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (m) jar = m[1] ? m[1] : null;
    return res;
  };
  const c = new ApiClient({ baseUrl: base, fetch: f, locks: null });
  await c.login(name, created.temporary_password);
  check(c.getSnapshot().status === 'password_change', 'login says: change the password first');
  const refused = await c.sites().catch((x: unknown) => x);
  check(c.getSnapshot().status === 'password_change' && refused instanceof Error, 'other routes refuse until then (403 password_change_required)');
  await c.changePassword(created.temporary_password, `correct horse battery staple ${Date.now()}`);
  check(c.getSnapshot().status === 'signed_in', 'after the change: signed in');
  check(Array.isArray(await c.buildings()), 'and the API answers');
  await c.logout();
  await admin.request('DELETE', `/api/v1/users/${created.id}`);
  check(true, `${name} disabled again`);
}

main().catch((e: unknown) => {
  console.error('FAIL:', e);
  process.exit(1);
});
