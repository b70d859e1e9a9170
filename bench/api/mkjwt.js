#!/usr/bin/env node
// mkjwt.js - print an HS256 JWT for the benchmark anchors (express_anchor.js,
// sio_anchor.js), signed with the secret in env BENCH_JWT_SECRET.
//
//   BENCH_JWT_SECRET=... node mkjwt.js [--sub NAME] [--role ROLE] [--ttl SECONDS]
//                                      [--iss ISS] [--aud AUD]
//
// Claims: sub (default "bench"), role (default "admin"), iat, exp = iat + ttl
// (default 3600 s: a benchmark never outlives it), iss/aud only when given.
// The token goes to stdout with a newline; nothing else is printed there.
// RFC 7519 (JWT), RFC 7518 s.3.2 (HS256).
'use strict';
const jwt = require('jsonwebtoken');

function main(argv) {
    const opt = { sub: 'bench', role: 'admin', ttl: 3600, iss: null, aud: null };
    for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i], v = argv[i + 1];
        if (!/^--(sub|role|ttl|iss|aud)$/.test(k) || v === undefined) {
            process.stderr.write('usage: mkjwt.js [--sub NAME] [--role ROLE] [--ttl S] [--iss ISS] [--aud AUD]\n');
            return 2;
        }
        opt[k.slice(2)] = v;
    }
    const secret = process.env.BENCH_JWT_SECRET;
    if (!secret || secret.length < 32) {
        // RFC 7518 s.3.2: an HS256 key must be at least 256 bits.
        process.stderr.write('mkjwt.js: set BENCH_JWT_SECRET (at least 32 characters)\n');
        return 2;
    }
    const ttl = Number(opt.ttl);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) {
        process.stderr.write('mkjwt.js: --ttl must be 1..86400 seconds\n');
        return 2;
    }
    const claims = { sub: opt.sub, role: opt.role };
    const o = { algorithm: 'HS256', expiresIn: ttl };
    if (opt.iss) o.issuer = opt.iss;
    if (opt.aud) o.audience = opt.aud;
    process.stdout.write(jwt.sign(claims, secret, o) + '\n');
    return 0;
}

process.exitCode = main(process.argv.slice(2));
