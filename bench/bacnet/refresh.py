#!/usr/bin/env python3
"""refresh.py - did every point of the BACnet benchmark get its readings?

    python3 refresh.py URL TOKEN POINTS.json FROM_MS TO_MS POLL_S

Reads the raw readings each point stored in [FROM_MS, TO_MS] through
GET /api/v1/export (format=json, resolution=raw; 100 points per request,
one request per device: 100 requests for 10,000 points) and prints
key=value lines:

  polled_points, polled_readings, polled_min, polled_max      counts per polled point
  polled_short      polled points with fewer than floor(T / S) readings
  polled_gap_max_s  the longest gap between two readings of one polled point
                    (or between the window's edge and its first / last one)
  polled_late       polled points with such a gap over 1.5 S
  cov_points, cov_readings, cov_min, cov_max, cov_zero, cov_gap_max_s
                    the same for the COV points (a COV point is refreshed
                    when its value moves by its COV increment, so gaps over
                    S are not faults there)
  export_ms         time the 100 requests took

POINTS.json is mkfiles.py's: {"cov": [...], "polled": [...], "by_device": [[...]]}.
Loopback only: URL must be http://127.0.0.1:PORT.
"""
import json
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime


def ms(s):
    return int(datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp() * 1000)


def main(argv):
    if len(argv) != 6:
        sys.stderr.write(__doc__)
        sys.exit(2)
    url, token, pfile, t0, t1, poll = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4]), float(argv[5])
    if not url.startswith('http://127.0.0.1:'):
        sys.exit('refresh.py: loopback URLs only')
    pts = json.load(open(pfile))
    cov = set(pts['cov'])
    times = {}
    start = time.monotonic()
    for slugs in pts['by_device']:
        for i in range(0, len(slugs), 100):
            part = slugs[i:i + 100]
            q = urllib.parse.urlencode({'points': ','.join(part), 'from': t0, 'to': t1,
                                        'resolution': 'raw', 'format': 'json'})
            req = urllib.request.Request(f'{url}/api/v1/export?{q}',
                                         headers={'Authorization': f'Bearer {token}'})
            with urllib.request.urlopen(req, timeout=30) as r:
                doc = json.load(r)
            names = [c['name'] for c in doc['columns']]
            for n in names:
                times.setdefault(n, [])
            for row in doc['rows']:
                t = ms(row[0])
                for n, v in zip(names, row[1:]):
                    if v is not None:
                        times[n].append(t)
    export_ms = int((time.monotonic() - start) * 1000)

    def stats(slugs):
        counts, gaps = [], []
        for s in slugs:
            ts = sorted(times.get(s, []))
            counts.append(len(ts))
            edges = [t0] + ts + [t1]
            gaps.append(max(b - a for a, b in zip(edges, edges[1:])) / 1000)
        return counts, gaps

    want = int((t1 - t0) / 1000 // poll)
    pol = [s for slugs in pts['by_device'] for s in slugs if s not in cov]
    cv = [s for slugs in pts['by_device'] for s in slugs if s in cov]
    pc, pg = stats(pol)
    cc, cg = stats(cv)
    out = {
        'polled_points': len(pol), 'polled_readings': sum(pc),
        'polled_min': min(pc, default=0), 'polled_max': max(pc, default=0),
        'polled_expected': want,
        'polled_short': sum(1 for c in pc if c < want),
        'polled_gap_max_s': round(max(pg, default=0), 3),
        'polled_late': sum(1 for g in pg if g > 1.5 * poll),
        'cov_points': len(cv), 'cov_readings': sum(cc),
        'cov_min': min(cc, default=0), 'cov_max': max(cc, default=0),
        'cov_zero': sum(1 for c in cc if c == 0),
        'cov_gap_max_s': round(max(cg, default=0), 3),
        'export_ms': export_ms,
    }
    for k, v in out.items():
        print(f'{k}={v}')


if __name__ == '__main__':
    main(sys.argv[1:])
