#!/usr/bin/env node
// sio_anchor.js - the seed's live-data stack as the anchor of the WebSocket
// fan-out benchmark: one Node process with Socket.IO 4 on a plain http
// server, rooms per point, JWT checked at connect.
//
//   BENCH_JWT_SECRET=... node sio_anchor.js PORT
//
// Socket.IO (path /socket.io/): the handshake must carry auth {token: <JWT>}
// (HS256, checked with jsonwebtoken); a client sends
//     "subscribe", [id, ...]        (at most 1000 point ids, each 1..4294967295)
// and, when it passes an acknowledgement callback, gets {ok: true, n} once it
// is in the rooms "point:<id>".
//
// HTTP:
//   POST /readings   Authorization: Bearer <JWT>
//                    {"readings":[{"point":id,"t":ms,"v":number},...]}
//                    -> 202 {"accepted":n}; every reading is emitted to the
//                       room "point:<id>" as event "readings" with payload
//                       [[point, t, v, 0]] - one emit per reading, as
//                       Socket.IO applications do.
//   GET  /healthz    -> 200 {"status":"ok"}
//   GET  /stats      -> {"sockets":n,"readings":n,"emits":n} (no token: for the runner)
//
// Listens on 127.0.0.1 only; request bodies over 4 MiB are refused (413).
// Stops on SIGTERM/SIGINT.
'use strict';
const crypto = require('crypto');
const http = require('http');
const jwt = require('jsonwebtoken');
const { Server } = require('socket.io');

const BODY_MAX = 4 << 20;
const SUB_MAX = 1000;

function usage(msg) {
    process.stderr.write(`sio_anchor.js: ${msg}\nusage: BENCH_JWT_SECRET=... node sio_anchor.js PORT\n`);
    process.exit(2);
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) usage('PORT must be 1..65535');
if (!process.env.BENCH_JWT_SECRET) usage('BENCH_JWT_SECRET is not set');
// A KeyObject made once (see express_anchor.js: a string costs 40x per verify).
const secret = crypto.createSecretKey(Buffer.from(process.env.BENCH_JWT_SECRET, 'utf8'));
const stats = { readings: 0, emits: 0 };

function tokenOk(t) {
    if (typeof t !== 'string') return false;
    try {
        jwt.verify(t, secret, { algorithms: ['HS256'] });
        return true;
    } catch (e) {
        return false;
    }
}

function validId(x) {
    return Number.isInteger(x) && x >= 1 && x <= 4294967295;
}

function send(res, status, obj) {
    const b = JSON.stringify(obj) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
    res.end(b);
}

function postReadings(req, res) {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    if (!m || !tokenOk(m[1])) return send(res, 401, { error: 'invalid token', code: 'unauthorized' });
    const chunks = [];
    let len = 0, over = false;
    req.on('data', (c) => {
        len += c.length;
        if (len > BODY_MAX) over = true;
        else chunks.push(c);
    });
    req.on('end', () => {
        if (over) return send(res, 413, { error: 'body too large', code: 'too_large' });
        let doc;
        try {
            doc = JSON.parse(Buffer.concat(chunks, len).toString('utf8'));
        } catch (e) {
            return send(res, 400, { error: 'bad JSON', code: 'bad_request' });
        }
        const rs = doc && Array.isArray(doc.readings) ? doc.readings : null;
        if (!rs) return send(res, 400, { error: 'readings must be an array', code: 'bad_request' });
        let n = 0;
        for (const r of rs) {
            if (!r || !validId(r.point) || !Number.isFinite(r.t) || !Number.isFinite(r.v)) continue;
            io.to('point:' + r.point).emit('readings', [[r.point, r.t, r.v, 0]]);
            n++;
        }
        stats.readings += n;
        stats.emits += n;
        return send(res, 202, { accepted: n });
    });
    return undefined;
}

const server = http.createServer((req, res) => {
    const url = req.url.split('?')[0];
    if (req.method === 'POST' && url === '/readings') return postReadings(req, res);
    if (req.method === 'GET' && url === '/healthz') return send(res, 200, { status: 'ok' });
    if (req.method === 'GET' && url === '/stats')
        return send(res, 200, { sockets: io.engine.clientsCount, readings: stats.readings, emits: stats.emits });
    return send(res, 404, { error: 'not found', code: 'not_found' });
});

// Defaults otherwise (per-message deflate is off by default in Socket.IO 4).
const io = new Server(server, { serveClient: false });
io.use((socket, next) => {
    if (tokenOk(socket.handshake.auth && socket.handshake.auth.token)) return next();
    return next(new Error('unauthorized'));
});
io.on('connection', (socket) => {
    socket.on('subscribe', (ids, ack) => {
        const ok = Array.isArray(ids) && ids.length <= SUB_MAX && ids.every(validId);
        if (ok) socket.join(ids.map((id) => 'point:' + id));
        if (typeof ack === 'function') ack(ok ? { ok: true, n: ids.length } : { ok: false, error: 'bad ids' });
    });
});

server.on('error', (e) => { process.stderr.write(`sio_anchor: ${e.message}\n`); process.exit(1); });
server.listen(port, '127.0.0.1', () => {
    process.stderr.write(`sio_anchor: listening on http://127.0.0.1:${port} (pid ${process.pid})\n`);
});
for (const s of ['SIGTERM', 'SIGINT']) {
    process.on(s, () => {
        process.stderr.write(`sio_anchor: ${stats.readings} readings, ${stats.emits} emits\n`);
        io.close();
        process.exit(0);
    });
}
