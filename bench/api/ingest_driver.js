#!/usr/bin/env node
// ingest_driver.js - posts readings at a fixed rate for the fan-out benchmark;
// each reading's value is its send time, so subscribers can time delivery.
//
//   node ingest_driver.js --mode sbems|sio --url http://HOST:PORT --token-file F
//                         [--rate 1000] [--duration 20] [--points 1000] [--first 1]
//                         [--batch-ms 10] [--inflight 8]
//
// Every --batch-ms the readings due by then (rate x elapsed, so the rate does
// not drift with timer jitter) go out in one POST:
//   sbems: POST /api/v1/readings?wait=0    (expects 202 or 200)
//   sio:   POST /readings                  (sio_anchor.js; expects 202)
// with Authorization: Bearer <token> and the body
//   {"readings":[{"point":id,"t":<ms, integer>,"v":<send time, ms with us fraction>},...]}
// Points are taken round-robin from [first, first + points); a point's t is
// the send time in whole ms, made strictly increasing per point.  The value is
// performance.timeOrigin + performance.now() when the body is built (about
// 1.8e12: a double keeps ~0.25 us there).  Connections are kept alive
// (http.Agent keepAlive, at most --inflight at once); while --inflight POSTs
// are out, readings wait for the next tick (counted as "late_ticks"), at most
// 50,000 per POST.  After --duration seconds no more readings are made; the
// POSTs in flight get 10 s to finish.  One JSON object goes to stdout.
'use strict';
const fs = require('fs');
const http = require('http');
const { performance } = require('perf_hooks');

const now = () => performance.timeOrigin + performance.now();
const BATCH_MAX = 50000;

function die(msg) {
    process.stderr.write(`ingest_driver: ${msg}\n`);
    process.exit(2);
}

function parseArgs(argv) {
    const o = { mode: null, url: null, 'token-file': null, rate: 1000, duration: 20, points: 1000,
        first: 1, 'batch-ms': 10, inflight: 8 };
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z-]+)$/.exec(argv[i]);
        if (!m || !(m[1] in o) || argv[i + 1] === undefined) die(`bad argument ${argv[i]}`);
        o[m[1]] = argv[++i];
    }
    for (const k of ['rate', 'duration', 'points', 'first', 'batch-ms', 'inflight']) {
        o[k] = Number(o[k]);
        if (!Number.isFinite(o[k]) || o[k] <= 0) die(`--${k} must be a number > 0`);
    }
    if (o.mode !== 'sbems' && o.mode !== 'sio') die('--mode must be sbems or sio');
    if (!o.url || !/^http:\/\//.test(o.url)) die('--url http://HOST:PORT is required');
    if (!o['token-file']) die('--token-file is required');
    if (o.duration > 3600) die('--duration must be <= 3600 s');
    if (o['batch-ms'] < 1 || o['batch-ms'] > 1000) die('--batch-ms must be 1..1000');
    if (o.inflight > 256) die('--inflight must be <= 256');
    return o;
}

function main() {
    const o = parseArgs(process.argv.slice(2));
    const token = fs.readFileSync(o['token-file'], 'utf8').trim();
    const base = new URL(o.url);
    const pathq = o.mode === 'sbems' ? '/api/v1/readings?wait=0' : '/readings';
    const okStatus = o.mode === 'sbems' ? [200, 202] : [202];
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.inflight });
    const lastT = new Float64Array(o.points);
    const st = { made: 0, sent: 0, ok: 0, requests: 0, okRequests: 0, lateTicks: 0, netErrors: 0,
        status: {}, serverAccepted: 0, serverRejected: 0, sawCounts: false, errors: [], post: [] };
    let seq = 0, inflight = 0, stopped = false;
    const t0 = now();

    function body(n) {
        const v = now();
        const tms = Math.floor(v);
        const vs = v.toFixed(3);
        const parts = new Array(n);
        for (let i = 0; i < n; i++) {
            const k = seq++ % o.points;
            const t = tms > lastT[k] ? tms : lastT[k] + 1;
            lastT[k] = t;
            parts[i] = `{"point":${o.first + k},"t":${t},"v":${vs}}`;
        }
        return `{"readings":[${parts.join(',')}]}`;
    }

    function note(msg) {
        if (st.errors.length < 5 && !st.errors.includes(msg)) st.errors.push(msg);
    }

    function post(n) {
        const b = body(n);
        const start = now();
        inflight++;
        st.requests++;
        st.sent += n;
        const req = http.request({
            host: base.hostname, port: base.port, path: pathq, method: 'POST', agent,
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b),
                Authorization: `Bearer ${token}` },
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                inflight--;
                st.post.push(now() - start);
                st.status[res.statusCode] = (st.status[res.statusCode] || 0) + 1;
                const text = Buffer.concat(chunks).toString('utf8');
                if (okStatus.includes(res.statusCode)) {
                    st.ok += n;
                    st.okRequests++;
                    counts(text);
                } else note(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
                maybeDone();
            });
        });
        req.on('error', (e) => {
            inflight--;
            st.netErrors++;
            note(`network: ${e.message}`);
            maybeDone();
        });
        req.end(b);
    }

    // Count what the server says it accepted or refused, when it says so.
    function counts(text) {
        let j;
        try {
            j = JSON.parse(text);
        } catch (e) {
            return;
        }
        if (j && typeof j.accepted === 'number') {
            st.sawCounts = true;
            st.serverAccepted += j.accepted;
        }
        if (j && (typeof j.rejected === 'number' || Array.isArray(j.rejected))) {
            st.sawCounts = true;
            st.serverRejected += typeof j.rejected === 'number' ? j.rejected : j.rejected.length;
        }
    }

    const tick = setInterval(() => {
        const el = (now() - t0) / 1000;
        const due = Math.floor(Math.min(el, o.duration) * o.rate) - st.made;
        if (due > 0) {
            if (inflight >= o.inflight) st.lateTicks++;
            else {
                const n = Math.min(due, BATCH_MAX);
                st.made += n;
                post(n);
            }
        }
        if (el >= o.duration) {
            clearInterval(tick);
            stopped = true;
            st.elapsed = el;
            setTimeout(() => {
                note(`${inflight} POSTs still in flight after 10 s`);
                report();
            }, 10000).unref();
            maybeDone();
        }
    }, o['batch-ms']);

    function maybeDone() {
        if (stopped && inflight === 0) report();
    }

    let reported = false;
    function report() {
        if (reported) return;
        reported = true;
        const p = st.post.sort((a, b) => a - b);
        const pct = (q) => (p.length ? +p[Math.max(0, Math.ceil(q * p.length) - 1)].toFixed(3) : null);
        const out = {
            mode: o.mode,
            target_rate: o.rate,
            duration_s: +st.elapsed.toFixed(3),
            readings_sent: st.sent,
            readings_ok: st.ok,
            achieved_rate: +(st.ok / st.elapsed).toFixed(1),
            requests: st.requests,
            status: st.status,
            network_errors: st.netErrors,
            late_ticks: st.lateTicks,
            server_accepted: st.sawCounts ? st.serverAccepted : null,
            server_rejected: st.sawCounts ? st.serverRejected : null,
            post_ms: { p50: pct(0.5), p99: pct(0.99), max: p.length ? +p[p.length - 1].toFixed(3) : null },
            errors: st.errors,
        };
        process.stdout.write(JSON.stringify(out) + '\n');
        agent.destroy();
        process.exitCode = st.ok === st.made && st.netErrors === 0 ? 0 : 1;
    }
}

main();
