#!/usr/bin/env node
// ws_load.js - multi-process WebSocket fan-out load client for the API
// benchmark: many live-data subscribers, end-to-end latency per reading.
//
//   node ws_load.js --mode sbems|sio --url URL --token-file F
//                   [--clients 1000] [--procs 2] [--points 1000] [--first 1]
//                   [--per-client 10] [--duration 20] [--ramp 500]
//                   [--retries 3] [--timeout 10] [--ready-file PATH] [--seed 1]
//                   [--min-t MS]
//
// The parent forks --procs children (child_process.fork); child k opens its
// share of --clients connections, at most --ramp per second in all, each
// handshake bounded by --timeout seconds and retried up to --retries times.
// Every client subscribes to --per-client distinct random point ids out of
// [first, first + points).  When every client is subscribed or has failed,
// the parent writes --ready-file (JSON) - the runner starts the ingest driver
// then - and collects for --duration seconds; then each child sends its
// counters and latency histogram, and the parent prints one JSON object on
// stdout (progress and errors go to stderr).
//
// sbems protocol (URL ws://HOST:PORT/api/v1/ws):
//   -> {"type":"auth","token":"<JWT>"}            <- {"type":"ready",...}
//   -> {"type":"subscribe","id":1,"channels":["point:<id>",...]}
//                                                 <- {"type":"subscribed","id":1,...}
//   <- {"type":"readings","data":[[point,t_ms,value,quality],...]}   (pushed)
//   <- {"type":"lagged","dropped":n}   (the server dropped n readings for us)
//   <- {"type":"error",...} during the handshake fails the attempt.
// Socket.IO (URL http://HOST:PORT, sio_anchor.js): socket.io-client with
// transports ['websocket'], auth {token}; emit "subscribe" [ids] with an ack;
// event "readings" [[point, t, v, q], ...].
//
// Latency: the ingest driver sends value = its wall clock in ms with a
// microsecond fraction (performance.timeOrigin + performance.now()); a client
// takes the same clock when a frame has been parsed and counts now - value
// per reading into a histogram of 0.1 ms buckets up to 10 s (percentiles
// are the upper edge of the nearest-rank bucket; max is exact).  All
// processes run on this machine, so the clocks are the same clock.
// --min-t MS (sbems): a reading whose t is before MS is not timed but
// counted as "snapshot_deliveries" - sbems sends each point's current value
// when a client subscribes, which may be a reading of an earlier run (or
// one whose value is not a send time); the runner passes the time ws_load
// was started.
//
// Bounds: the ramp phase ends after max(30 s, 4 x clients/ramp) whatever
// happened; the run after --duration; children exit when the parent goes;
// the parent kills children that did not report 15 s after the end, by PID.
'use strict';
const { fork } = require('child_process');
const fs = require('fs');
const { performance } = require('perf_hooks');

const BUCKET_MS = 0.1;
const NBUCKETS = 100000;               // 0.1 ms .. 10 s
const now = () => performance.timeOrigin + performance.now();

// ---- options -----------------------------------------------------------------
const DEFAULTS = {
    mode: null, url: null, 'token-file': null, clients: 1000, procs: 2, points: 1000, first: 1,
    'per-client': 10, duration: 20, ramp: 500, retries: 3, timeout: 10, 'ready-file': null, seed: 1,
    'min-t': 0,
};
const NUMERIC = ['clients', 'procs', 'points', 'first', 'per-client', 'duration', 'ramp', 'retries',
    'timeout', 'seed', 'min-t'];

function die(msg) {
    process.stderr.write(`ws_load: ${msg}\n`);
    process.exit(2);
}

function parseArgs(argv) {
    const o = { ...DEFAULTS };
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z-]+)$/.exec(argv[i]);
        if (!m || !(m[1] in DEFAULTS) || argv[i + 1] === undefined) die(`bad argument ${argv[i]}`);
        o[m[1]] = argv[++i];
    }
    for (const k of NUMERIC) {
        o[k] = Number(o[k]);
        if (!Number.isFinite(o[k]) || o[k] < 0) die(`--${k} must be a number >= 0`);
    }
    if (o.mode !== 'sbems' && o.mode !== 'sio') die('--mode must be sbems or sio');
    if (!o.url) die('--url is required');
    if (!o['token-file']) die('--token-file is required');
    if (!(o.procs >= 1 && o.procs <= 64)) die('--procs must be 1..64');
    if (!(o.clients >= 1 && o.clients <= 200000)) die('--clients must be 1..200000');
    if (!(o['per-client'] >= 1 && o['per-client'] <= o.points)) die('--per-client must be 1..points');
    if (!(o.duration > 0 && o.duration <= 3600)) die('--duration must be 0..3600 s');
    if (!(o.ramp >= 1)) die('--ramp must be >= 1');
    if (o.retries > 20) die('--retries must be <= 20');
    return o;
}

// ---- histogram -----------------------------------------------------------------
function newStats() {
    return {
        clients: 0, connected: 0, failed: 0, attempts: 0, subscriptions: 0, deliveries: 0,
        negative: 0, over: 0, max: -Infinity, lagged: 0, dropped: 0, foreign: 0, closed: 0,
        protoErrors: 0, snapshot: 0, first: Infinity, last: -Infinity, errors: [], cpuUs: 0,
        hist: new Uint32Array(NBUCKETS),
    };
}

function record(st, lat) {
    st.deliveries++;
    if (lat > st.max) st.max = lat;
    if (lat < 0) {
        st.negative++;
        st.hist[0]++;
        return;
    }
    let i = Math.floor(lat / BUCKET_MS);
    if (i >= NBUCKETS) {
        st.over++;
        i = NBUCKETS - 1;
    }
    st.hist[i]++;
}

function noteError(st, msg) {
    if (st.errors.length < 5 && !st.errors.includes(msg)) st.errors.push(msg);
}

// Nearest rank: the smallest bucket with at least p of the samples at or below.
function percentile(hist, total, p) {
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil(p * total));
    let acc = 0;
    for (let i = 0; i < hist.length; i++) {
        acc += hist[i];
        if (acc >= rank) return +((i + 1) * BUCKET_MS).toFixed(1);
    }
    return null;
}

// ---- child: the clients ------------------------------------------------------------
function mulberry32(a) {            // small seeded PRNG (Tommy Ettinger's mulberry32)
    return () => {
        a = (a + 0x6D2B79F5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function pickIds(rnd, o) {
    const ids = new Set();
    while (ids.size < o['per-client']) ids.add(o.first + Math.floor(rnd() * o.points));
    return [...ids];
}

// One client: connect, authenticate, subscribe (retried), then count readings.
// done(ok) is called once, when it is subscribed or has given up.
function client(o, token, ids, st, done) {
    let attempt = 0, settled = false, live = false;
    const mine = new Set(ids);

    function deliver(data) {
        const t = now();
        let timed = 0;
        if (!Array.isArray(data)) {
            st.protoErrors++;
            return;
        }
        for (const r of data) {
            if (!Array.isArray(r) || r.length < 3) {
                st.protoErrors++;
                continue;
            }
            if (!mine.has(r[0])) st.foreign++;
            if (r[1] < o['min-t']) {
                st.snapshot++;
                continue;
            }
            timed++;
            record(st, t - r[2]);
        }
        if (!timed) return;
        if (t < st.first) st.first = t;
        if (t > st.last) st.last = t;
    }

    function settle(ok) {
        if (settled) return;
        settled = true;
        done(ok);
    }

    function failed(why, retry) {
        noteError(st, why);
        if (retry && attempt <= o.retries) setTimeout(start, 200 * attempt);
        else settle(false);
    }

    function start() {
        attempt++;
        st.attempts++;
        if (o.mode === 'sbems') startSbems();
        else startSio();
    }

    function startSbems() {
        const WebSocket = require('ws');
        let state = 'auth', over = false;
        const ws = new WebSocket(o.url, { perMessageDeflate: false, handshakeTimeout: o.timeout * 1000 });
        const timer = setTimeout(() => fail(`handshake timeout in state ${state}`), o.timeout * 1000);
        function fail(why) {
            if (over) return;
            over = true;
            clearTimeout(timer);
            ws.terminate();
            failed(why, true);
        }
        ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
        ws.on('message', (buf) => {
            let m;
            try {
                m = JSON.parse(buf);
            } catch (e) {
                st.protoErrors++;
                return;
            }
            if (m.type === 'readings') return deliver(m.data);
            if (m.type === 'lagged') {
                st.lagged++;
                st.dropped += Number(m.dropped) || 0;
                return;
            }
            if (state === 'auth' && m.type === 'ready') {
                state = 'subscribe';
                ws.send(JSON.stringify({ type: 'subscribe', id: 1, channels: ids.map((i) => 'point:' + i) }));
            } else if (state === 'subscribe' && m.type === 'subscribed' && m.id === 1) {
                state = 'live';
                over = true;
                live = true;
                clearTimeout(timer);
                settle(true);
            } else if (m.type === 'error' && state !== 'live') {
                fail(`server error in state ${state}: ${JSON.stringify(m).slice(0, 200)}`);
            } else if (state !== 'live') {
                st.protoErrors++;
            }
            return undefined;
        });
        ws.on('error', (e) => fail(`${state}: ${e.message}`));
        ws.on('close', (code) => {
            if (live) {
                st.closed++;
                noteError(st, `closed while live (code ${code})`);
            } else fail(`closed in state ${state} (code ${code})`);
        });
        st.sockets.push(() => ws.terminate());
    }

    function startSio() {
        const { io } = require('socket.io-client');
        let over = false;
        const s = io(o.url, {
            transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true,
            timeout: o.timeout * 1000,
        });
        const timer = setTimeout(() => fail('handshake timeout'), o.timeout * 1000);
        function fail(why) {
            if (over) return;
            over = true;
            clearTimeout(timer);
            s.close();
            failed(why, true);
        }
        s.on('connect', () => {
            s.emit('subscribe', ids, (ack) => {
                if (!ack || !ack.ok) return fail(`subscribe refused: ${JSON.stringify(ack)}`);
                over = true;
                live = true;
                clearTimeout(timer);
                return settle(true);
            });
        });
        s.on('connect_error', (e) => fail(`connect_error: ${e.message}`));
        s.on('readings', deliver);
        s.on('disconnect', (why) => {
            if (live) {
                st.closed++;
                noteError(st, `disconnected while live (${why})`);
            } else fail(`disconnected: ${why}`);
        });
        st.sockets.push(() => s.close());
    }

    start();
}

function child() {
    let st = null;
    const cpu0 = process.cpuUsage();
    process.on('disconnect', () => process.exit(0));     // the parent went away
    process.on('message', (msg) => {
        if (msg.type === 'start') run(msg);
        else if (msg.type === 'stop') report();
    });

    function run({ o, index, count }) {
        const token = fs.readFileSync(o['token-file'], 'utf8').trim();
        const rnd = mulberry32((o.seed * 1000003 + index) >>> 0);
        st = newStats();
        st.sockets = [];
        st.clients = count;
        let opened = 0, pending = 0, settledN = 0;
        const perTick = (o.ramp / o.procs) / 100;     // ramp share per 10 ms tick
        let credit = 0;
        const tick = setInterval(() => {
            credit = Math.min(credit + perTick, 100);
            // At most 200 handshakes in flight per child: a slow server is
            // not buried under new connections while it answers the old ones.
            while (credit >= 1 && opened < count && pending < 200) {
                credit--;
                opened++;
                pending++;
                client(o, token, pickIds(rnd, o), st, (ok) => {
                    pending--;
                    settledN++;
                    if (ok) {
                        st.connected++;
                        st.subscriptions += o['per-client'];
                    } else st.failed++;
                    if (settledN === count) process.send({ type: 'ready', connected: st.connected, failed: st.failed });
                });
            }
            if (opened >= count) clearInterval(tick);
        }, 10);
    }

    function report() {
        const sparse = [];
        if (st) {
            for (let i = 0; i < NBUCKETS; i++) if (st.hist[i]) sparse.push(i, st.hist[i]);
            const c = process.cpuUsage(cpu0);
            st.cpuUs = c.user + c.system;
        }
        // JSON over IPC: infinities would arrive as null, so send null.
        const fin = (x) => (Number.isFinite(x) ? x : null);
        const out = st ? { ...st, hist: sparse, sockets: undefined, max: fin(st.max), first: fin(st.first),
            last: fin(st.last) } : { clients: 0, hist: [] };
        process.send({ type: 'stats', stats: out }, () => {
            if (st) for (const close of st.sockets) close();
            setTimeout(() => process.exit(0), 200);
        });
    }
}

// ---- parent ------------------------------------------------------------------------
function parent() {
    const o = parseArgs(process.argv.slice(2));
    const token = fs.readFileSync(o['token-file'], 'utf8').trim();
    if (!token) die(`empty token file ${o['token-file']}`);
    const kids = [];
    const ready = new Map(), stats = new Map();
    const t0 = Date.now();
    const rampLimit = Math.max(30, 4 * o.clients / o.ramp) * 1000;
    let phase = 'ramp', rampTimer = null, endTimer = null;

    process.stderr.write(`ws_load: ${o.mode} ${o.url}: ${o.clients} clients in ${o.procs} processes, ` +
        `${o['per-client']} of ${o.points} points each\n`);
    for (let k = 0; k < o.procs; k++) {
        const count = Math.floor(o.clients / o.procs) + (k < o.clients % o.procs ? 1 : 0);
        const c = fork(__filename, [], { env: { ...process.env, WS_LOAD_CHILD: '1' } });
        kids.push(c);
        c.on('message', (msg) => {
            if (msg.type === 'ready') {
                ready.set(k, msg);
                if (ready.size === o.procs && phase === 'ramp') startRun();
            } else if (msg.type === 'stats') {
                stats.set(k, msg.stats);
                if (stats.size === o.procs) finish();
            }
        });
        c.on('exit', (code) => {
            if (!stats.has(k)) {
                process.stderr.write(`ws_load: child ${k} (pid ${c.pid}) exited (${code}) without a report\n`);
                stats.set(k, { clients: count, hist: [], failed: count, errors: [`child exited ${code}`] });
                if (stats.size === o.procs) finish();
            }
        });
        c.send({ type: 'start', o, index: k, count });
    }
    rampTimer = setTimeout(() => {
        process.stderr.write(`ws_load: ramp not finished after ${rampLimit / 1000} s; going on\n`);
        startRun();
    }, rampLimit);

    function startRun() {
        if (phase !== 'ramp') return;
        phase = 'run';
        clearTimeout(rampTimer);
        let connected = 0, failed = 0;
        for (const r of ready.values()) {
            connected += r.connected;
            failed += r.failed;
        }
        const info = { connected, failed, ramp_s: (Date.now() - t0) / 1000 };
        process.stderr.write(`ws_load: ${connected} subscribed, ${failed} failed in ${info.ramp_s} s; ` +
            `collecting for ${o.duration} s\n`);
        if (o['ready-file']) {
            const tmp = o['ready-file'] + '.tmp';
            fs.writeFileSync(tmp, JSON.stringify(info) + '\n');
            fs.renameSync(tmp, o['ready-file']);
        }
        endTimer = setTimeout(stopAll, o.duration * 1000);
    }

    function stopAll() {
        phase = 'stop';
        for (const c of kids) if (c.connected) c.send({ type: 'stop' });
        setTimeout(() => {
            for (let k = 0; k < kids.length; k++) {
                if (!stats.has(k) && kids[k].exitCode === null) {
                    process.stderr.write(`ws_load: child ${k} did not report; killing pid ${kids[k].pid}\n`);
                    kids[k].kill('SIGKILL');
                }
            }
        }, 15000).unref();
    }

    function finish() {
        if (phase === 'done') return;
        phase = 'done';
        clearTimeout(rampTimer);
        clearTimeout(endTimer);
        const hist = new Uint32Array(NBUCKETS);
        const sum = newStats();
        for (const s of stats.values()) {
            for (const k of ['clients', 'connected', 'failed', 'attempts', 'subscriptions', 'deliveries',
                'negative', 'over', 'lagged', 'dropped', 'foreign', 'closed', 'protoErrors', 'snapshot',
                'cpuUs'])
                sum[k] += s[k] || 0;
            if (s.max != null && s.max > sum.max) sum.max = s.max;
            if (s.first != null && s.first < sum.first) sum.first = s.first;
            if (s.last != null && s.last > sum.last) sum.last = s.last;
            for (const e of s.errors || []) noteError(sum, e);
            for (let i = 0; i + 1 < s.hist.length; i += 2) hist[s.hist[i]] += s.hist[i + 1];
        }
        const window = sum.last > sum.first ? (sum.last - sum.first) / 1000 : 0;
        const out = {
            mode: o.mode,
            clients: o.clients,
            clients_connected: sum.connected,
            connection_failures: sum.clients - sum.connected,
            connect_attempts: sum.attempts,
            subscriptions: sum.subscriptions,
            deliveries: sum.deliveries,
            window_s: +window.toFixed(3),
            deliveries_per_s: window > 0 ? +(sum.deliveries / window).toFixed(1) : 0,
            latency_ms: {
                p50: percentile(hist, sum.deliveries, 0.50),
                p90: percentile(hist, sum.deliveries, 0.90),
                p99: percentile(hist, sum.deliveries, 0.99),
                max: sum.deliveries ? +sum.max.toFixed(3) : null,
            },
            snapshot_deliveries: sum.snapshot,
            negative_latency: sum.negative,
            over_10s: sum.over,
            lagged_messages: sum.lagged,
            lagged_dropped: sum.dropped,
            foreign_deliveries: sum.foreign,
            closed_during_run: sum.closed,
            protocol_errors: sum.protoErrors,
            client_cpu_s: +(sum.cpuUs / 1e6).toFixed(3),
            errors: sum.errors,
        };
        process.stdout.write(JSON.stringify(out) + '\n');
        setTimeout(() => process.exit(0), 100);
    }
}

if (process.env.WS_LOAD_CHILD === '1') child();
else if (require.main === module) parent();
