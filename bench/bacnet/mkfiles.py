#!/usr/bin/env python3
"""mkfiles.py - the inputs of the BACnet benchmark (bench/bacnet/run).

    python3 mkfiles.py DIR --devices N --objects M --cov C --first-port P
                       --first-instance I --sbems-port Q [--poll-s S]

Writes into DIR:

  gen.json      for `sbems bacnet serve`: {"generate": ...} - N devices,
                instances I..I+N-1, device i on 127.0.0.1:(P + i), each with
                M analog inputs analog-input:1..M whose values wave
                (src/cli/cmd_bacnet.c: COV increment 0.5, amplitude 1.0,
                period 60 + k s), so COV notifications keep coming.
  site.json     one site, one building, N equipment ("sensor") with M
                temperature points each (degC), driver "bacnet", poll_s S
                (default 10).  The first C / N objects of every device are
                bound with "cov": true, the rest with "cov": false (polled):
                C subscriptions spread evenly over the devices, as a site has
                a few COV points on every controller.
  drivers.json  {"bacnet": {"bind": "127.0.0.1", "port": Q, "devices":
                {"<inst>": "127.0.0.1:<port>"}}}: every address fixed, so no
                Who-Is; every other key at the driver's default
                (docs/internals/bacnet-driver.md).
  devices.json  the anchor's list (bench/bacnet/anchor.js): every device
                with ALL its M objects - the same 10,000 Present_Values, read
                by RPM every S seconds.
  points.json   {"cov": [slugs], "polled": [slugs], "by_device": [[slugs]]}:
                which point is which, for the refresh check.

Points are listed device by device, so in an EMPTY data directory point
(device d, object k) gets the integer id d*M + k (sbems registers ids in
document order); slugs are b<d>.ai<k>.  Format: docs/site-format.md.
"""
import json
import os
import sys

OPTS = {'--devices': None, '--objects': None, '--cov': None, '--first-port': None,
        '--first-instance': None, '--sbems-port': None, '--poll-s': '10'}


def die(msg):
    sys.stderr.write(f'mkfiles.py: {msg}\n{__doc__.splitlines()[2]}\n')
    sys.exit(2)


def main(argv):
    if not argv or argv[0].startswith('--'):
        die('DIR is required')
    out, rest = argv[0], argv[1:]
    if len(rest) % 2:
        die('an option lacks its value')
    opts = dict(OPTS)
    for name, val in zip(rest[::2], rest[1::2]):
        if name not in opts:
            die(f'unknown option {name}')
        opts[name] = val
    try:
        n, m, c = int(opts['--devices']), int(opts['--objects']), int(opts['--cov'])
        port, inst = int(opts['--first-port']), int(opts['--first-instance'])
        sbport, poll = int(opts['--sbems-port']), float(opts['--poll-s'])
    except (TypeError, ValueError):
        die('every option but --poll-s is a required integer')
    if not (1 <= n <= 1000 and 1 <= m <= 1000 and 0 <= c <= n * m and 1024 <= port
            and port + n <= 65536 and 0 <= inst and inst + n < 4194303 and 0 < sbport < 65536
            and 0.1 <= poll <= 86400):
        die('out of range: --devices 1..1000, --objects 1..1000, --cov 0..N*M, ports 1024..65535')
    if c % n:
        die(f'--cov {c} must be a multiple of --devices {n} (the same number on every device)')
    per_dev_cov = c // n

    gen = {'generate': {'devices': n, 'objects': m, 'first_instance': inst, 'bind': '127.0.0.1',
                        'first_port': port}}
    site = {'format': 'sbems-site', 'version': 1,
            'sites': [{'id': 'bacbench-site', 'name': 'BACnet benchmark site'}],
            'buildings': [{'id': 'bacbench', 'site': 'bacbench-site',
                           'name': 'BACnet benchmark building', 'timezone': 'UTC'}],
            'zones': [], 'equipment': [], 'points': []}
    drivers = {'bacnet': {'bind': '127.0.0.1', 'port': sbport, 'devices': {}}}
    devices, cov, polled, by_dev = [], [], [], []
    pol = int(poll) if poll == int(poll) else poll
    for d in range(n):
        eq, dev = f'b{d:03d}', inst + d
        drivers['bacnet']['devices'][str(dev)] = f'127.0.0.1:{port + d}'
        devices.append({'ip': '127.0.0.1', 'port': port + d, 'device': dev,
                        'objects': [f'analog-input:{k}' for k in range(1, m + 1)]})
        site['equipment'].append({'id': eq, 'building': 'bacbench', 'name': f'Controller {dev}',
                                  'type': 'sensor', 'vendor': 'sbems bacnet serve',
                                  'model': 'bench'})
        slugs = []
        for k in range(1, m + 1):
            slug, want_cov = f'{eq}.ai{k}', k <= per_dev_cov
            site['points'].append({
                'id': slug, 'equipment': eq, 'name': f'Zone {d} temperature {k}',
                'kind': 'temperature', 'unit': '°C',
                'source': {'driver': 'bacnet', 'poll_s': pol,
                           'address': {'device': dev, 'object': f'analog-input:{k}',
                                       'cov': want_cov}}})
            (cov if want_cov else polled).append(slug)
            slugs.append(slug)
        by_dev.append(slugs)

    def put(name, obj):
        with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
            json.dump(obj, f, separators=(',', ':'), ensure_ascii=False)
            f.write('\n')
    put('gen.json', gen)
    put('site.json', site)
    put('drivers.json', drivers)
    put('devices.json', devices)
    put('points.json', {'cov': cov, 'polled': polled, 'by_device': by_dev})
    os.chmod(os.path.join(out, 'drivers.json'), 0o600)
    sys.stderr.write(f'mkfiles.py: {n} devices x {m} objects on 127.0.0.1:{port}..{port + n - 1}, '
                     f'{c} COV + {n * m - c} polled points every {pol} s\n')


if __name__ == '__main__':
    main(sys.argv[1:])
