#!/usr/bin/env node
// mksite.js - write the site document of the API benchmark: one site, one
// building, equipment of 50 points each, and N points (default 1000) of kind
// "other" with no unit and no min/max (so every value posted is accepted),
// no source (virtual: nothing polls them; readings come only from the API).
//
//   node mksite.js OUT.json [--points 1000] [--building bench]
//
// Point slugs are "eqNN.pNNNN" (eq00.p0001 .. eq19.p1000) and points are
// listed in order, so a fresh store gives point k the integer id k (sbems
// registers ids in document order, 1 upwards: src/model/model_sql.c
// register_ids).  Import it into an EMPTY data directory:
//     sbems import OUT.json --data-dir DIR
// (in a directory that already had points, ids continue from its highest
// one; check with GET /api/v1/points/1/latest after a reading.)
// Format: docs/site-format.md.
'use strict';
const fs = require('fs');

function die(msg) {
    process.stderr.write(`mksite.js: ${msg}\nusage: node mksite.js OUT.json [--points N] [--building ID]\n`);
    process.exit(2);
}

const argv = process.argv.slice(2);
const out = argv.shift();
if (!out || out.startsWith('--')) die('OUT.json is required');
let npoints = 1000, building = 'bench';
for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--points') npoints = Number(argv[i + 1]);
    else if (argv[i] === '--building') building = argv[i + 1];
    else die(`bad argument ${argv[i]}`);
}
if (!Number.isInteger(npoints) || npoints < 1 || npoints > 100000) die('--points must be 1..100000');
if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(building || '')) die('--building must be a slug');

const PER_EQ = 50;
const neq = Math.ceil(npoints / PER_EQ);
const w = Math.max(2, String(neq - 1).length), wp = Math.max(4, String(npoints).length);
const eqId = (e) => `eq${String(e).padStart(w, '0')}`;
const lines = [];
lines.push('{', '  "format": "sbems-site",', '  "version": 1,');
lines.push('  "sites": [', '    {"id": "bench-site", "name": "API benchmark site"}', '  ],');
lines.push('  "buildings": [',
    `    ${JSON.stringify({ id: building, site: 'bench-site', name: 'API benchmark building',
        timezone: 'UTC' })}`, '  ],');
lines.push('  "zones": [],');
const eq = [];
for (let e = 0; e < neq; e++)
    eq.push('    ' + JSON.stringify({ id: eqId(e), building, name: `Bench unit ${e}`, type: 'other' }));
lines.push('  "equipment": [', eq.join(',\n'), '  ],');
const pts = [];
for (let k = 1; k <= npoints; k++) {
    const e = Math.floor((k - 1) / PER_EQ);
    pts.push('    ' + JSON.stringify({ id: `${eqId(e)}.p${String(k).padStart(wp, '0')}`,
        equipment: eqId(e), name: `Bench point ${k}`, kind: 'other' }));
}
lines.push('  "points": [', pts.join(',\n'), '  ]', '}');
fs.writeFileSync(out, lines.join('\n') + '\n');
process.stderr.write(`mksite.js: ${out}: building "${building}", ${neq} equipment, ${npoints} points ` +
    `(ids 1..${npoints} in an empty store)\n`);
