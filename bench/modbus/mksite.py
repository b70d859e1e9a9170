#!/usr/bin/env python3
"""mksite.py - the site document of the Modbus benchmark.

    python3 mksite.py OUT.json --devices N --base PORT [--points K] [--poll-s S]

One site, one building, N equipment of type "meter" (m0000 .. m0999), each
with K points (default 10) of kind "power" in kW, read by the "modbus"
driver from 127.0.0.1:(PORT + i), unit 1: float32 input registers 30001,
30003, ... (input addresses 0, 2, ..., 2K-2, high word first: what mbsim.c
serves), every S seconds (default 5).  The K registers are contiguous, so
sbems' planner reads each device in one request (2K registers <= 125).

Points are listed device by device, so in an EMPTY data directory point
(device i, register k) gets the integer id i*K + k + 1 (sbems registers ids in
document order).  mbsim serves (i + 1) * 100 + k + a changing fraction there.
Format: docs/site-format.md; addresses: docs/internals/modbus.md.
"""
import json
import sys


def die(msg):
    sys.stderr.write(f"mksite.py: {msg}\nusage: python3 mksite.py OUT.json --devices N "
                     "--base PORT [--points K] [--poll-s S]\n")
    sys.exit(2)


def main(argv):
    if not argv or argv[0].startswith('--'):
        die('OUT.json is required')
    out, opts = argv[0], {'--devices': None, '--base': None, '--points': '10', '--poll-s': '5'}
    rest = argv[1:]
    if len(rest) % 2:
        die('an option lacks its value')
    for name, val in zip(rest[::2], rest[1::2]):
        if name not in opts:
            die(f'unknown option {name}')
        opts[name] = val
    try:
        n, base = int(opts['--devices']), int(opts['--base'])
        k, poll = int(opts['--points']), float(opts['--poll-s'])
    except (TypeError, ValueError):
        die('--devices and --base are required integers')
    if not 1 <= n <= 10000 or not 1 <= base or base + n > 65536:
        die('--devices 1..10000 on ports --base .. --base+N-1 <= 65535')
    if not 1 <= k <= 62 or not 0.1 <= poll <= 86400:
        die('--points 1..62 (one request of <= 125 registers), --poll-s 0.1..86400')

    doc = {
        'format': 'sbems-site', 'version': 1,
        'sites': [{'id': 'mbbench-site', 'name': 'Modbus benchmark site'}],
        'buildings': [{'id': 'mbbench', 'site': 'mbbench-site', 'name': 'Modbus benchmark building',
                       'timezone': 'UTC'}],
        'zones': [],
        'equipment': [],
        'points': [],
    }
    w = max(4, len(str(n - 1)))
    for i in range(n):
        eq = f'm{i:0{w}d}'
        doc['equipment'].append({'id': eq, 'building': 'mbbench', 'name': f'Simulated meter {i}',
                                 'type': 'meter', 'vendor': 'mbsim', 'model': 'bench'})
        for p in range(k):
            doc['points'].append({
                'id': f'{eq}.p{p:02d}', 'equipment': eq, 'name': f'Meter {i} value {p}',
                'kind': 'power', 'unit': 'kW',
                'source': {'driver': 'modbus',
                           'address': {'host': '127.0.0.1', 'port': base + i, 'unit': 1,
                                       'register': 30001 + 2 * p, 'type': 'float32'},
                           'poll_s': int(poll) if poll == int(poll) else poll}})
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    sys.stderr.write(f'mksite.py: {out}: {n} meters x {k} points on 127.0.0.1:{base}..{base + n - 1}, '
                     f'poll {poll:g} s (ids 1..{n * k} in an empty store)\n')


if __name__ == '__main__':
    main(sys.argv[1:])
