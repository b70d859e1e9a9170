#!/usr/bin/env node
// express_anchor.js - the seed's own REST stack as the benchmark anchor: one
// Node process (one event loop, like sbems's loop thread) running Express 4,
// checking an HS256 JWT Bearer token on every /api request with jsonwebtoken,
// and answering two read endpoints with fixed bodies.
//
//   BENCH_JWT_SECRET=... node express_anchor.js PORT LATEST.json OVERVIEW.json
//
//   GET /api/v1/points/:id/latest       -> 200, the bytes of LATEST.json
//   GET /api/v1/buildings/:id/overview  -> 200, the bytes of OVERVIEW.json
//   GET /healthz                        -> 200 {"status":"ok"} (no token: for the runner)
//
// The bodies are read once at start from files the runner saved from sbems's
// own answers, so both servers send byte-identical bodies and the comparison
// measures the stacks, not the JSON. A missing, malformed or expired token is
// a 401 {"error":..,"code":"unauthorized"} with WWW-Authenticate (RFC 6750
// s.3). Listens on 127.0.0.1 only. Stops on SIGTERM/SIGINT.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const express = require('express');
const jwt = require('jsonwebtoken');

function usage(msg) {
    process.stderr.write(`express_anchor.js: ${msg}\n` +
        'usage: BENCH_JWT_SECRET=... node express_anchor.js PORT LATEST.json OVERVIEW.json\n');
    process.exit(2);
}

const [portArg, latestFile, overviewFile] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 1 || port > 65535) usage('PORT must be 1..65535');
if (!latestFile || !overviewFile) usage('two body files are needed');
if (!process.env.BENCH_JWT_SECRET) usage('BENCH_JWT_SECRET is not set');
// The key as a KeyObject, made once.  Given the secret as a string,
// jsonwebtoken 9 first tries to parse it as a PEM public key on every call
// (and fails, with an exception): 340 us per verify here instead of 8 us.
// The anchor takes the fast form, so it is not beaten by a slip.
const secret = crypto.createSecretKey(Buffer.from(process.env.BENCH_JWT_SECRET, 'utf8'));
const latest = fs.readFileSync(latestFile);
const overview = fs.readFileSync(overviewFile);

const app = express();
app.disable('x-powered-by');
app.set('etag', false);           // sbems sends no ETag (Cache-Control: no-store)

function auth(req, res, next) {
    const h = req.get('authorization') || '';
    const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(h);
    if (!m) return deny(res, 'missing bearer token');
    try {
        req.user = jwt.verify(m[1], secret, { algorithms: ['HS256'] });
    } catch (e) {
        return deny(res, 'invalid token');
    }
    return next();
}

function deny(res, msg) {
    res.status(401).set('WWW-Authenticate', 'Bearer').type('application/json')
        .send(JSON.stringify({ error: msg, code: 'unauthorized' }) + '\n');
}

function fixed(body) {
    return (req, res) => {
        res.set('Cache-Control', 'no-store').type('application/json').send(body);
    };
}

// Same id rule as sbems (docs/internals/http.md): 1 to 10 decimal digits.
app.param('pid', (req, res, next, id) => {
    if (!/^[0-9]{1,10}$/.test(id) || Number(id) > 4294967295)
        return res.status(400).type('application/json')
            .send('{"error":"bad point id","code":"bad_request"}\n');
    return next();
});

app.get('/healthz', (req, res) => res.type('application/json').send('{"status":"ok"}\n'));
app.use('/api', auth);
app.get('/api/v1/points/:pid/latest', fixed(latest));
app.get('/api/v1/buildings/:bid/overview', fixed(overview));
app.use((req, res) => res.status(404).type('application/json')
    .send('{"error":"not found","code":"not_found"}\n'));

const server = app.listen(port, '127.0.0.1', () => {
    process.stderr.write(`express_anchor: listening on http://127.0.0.1:${port} (pid ${process.pid})\n`);
});
server.on('error', (e) => { process.stderr.write(`express_anchor: ${e.message}\n`); process.exit(1); });
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { server.close(); process.exit(0); });
