/**
 * The simulated office as `sbems-sim --site-json` describes it (meters
 * mtr-main with lighting, plugs and HVAC sub-meters, the chiller under
 * HVAC; every meter with an energy counter and a power point), and an sbems
 * that answers history requests for any range by generating buckets the way
 * the server aligns them (days at local midnight in America/New_York, hours
 * at local HH:00, 15-minute buckets on the UTC grid).
 *
 * Now: Friday 2026-11-27 10:37:12 EST (15:37:12 UTC).
 */
import type { Building, Equipment, History, HistoryBucket, Point } from '../api/types';
import { addDays } from '../lib/analytics';
import { apiError, json, tokens } from './fetchMock';
import type { Call } from './fetchMock';

export const A_NOW = Date.UTC(2026, 10, 27, 15, 37, 12);
export const TZ = 'America/New_York';

export const A_BUILDING: Building = { id: 'hpo', site: 'harbor-point', name: 'Harbor Point Office', timezone: TZ };

const meter = (id: string, name: string, parent?: string): Equipment =>
  ({ id, building: 'hpo', name, type: 'meter', ...(parent ? { parent } : {}), tags: ['elec', 'meter', 'equip'] });

export const A_EQUIPMENT: Equipment[] = [
  meter('mtr-main', 'Main electricity meter'),
  meter('mtr-lighting', 'Lighting sub-meter', 'mtr-main'),
  meter('mtr-plugs', 'Plug loads sub-meter', 'mtr-main'),
  meter('mtr-hvac', 'HVAC sub-meter', 'mtr-main'),
  meter('mtr-chiller', 'Chiller sub-meter', 'mtr-hvac'),
  { id: 'ahu-1', building: 'hpo', name: 'AHU 1', type: 'ahu' },
];

const modbus = (poll_s: number) => ({ driver: 'modbus' as const, address: {}, poll_s });
let pid = 1;
const pt = (equipment: string, q: 'power' | 'energy', unit: string): Point =>
  ({ id: `${equipment}.${q}`, equipment, name: q === 'power' ? 'Active power' : 'Active energy', kind: q, unit, point_id: pid++, source: modbus(q === 'power' ? 15 : 60) });

export const A_POINTS: Point[] = [
  pt('mtr-main', 'power', 'kW'), pt('mtr-main', 'energy', 'Wh'),
  ...['mtr-lighting', 'mtr-plugs', 'mtr-hvac', 'mtr-chiller'].flatMap((m) => [pt(m, 'power', 'W'), pt(m, 'energy', 'kWh')]),
  { id: 'ahu-1.sat', equipment: 'ahu-1', name: 'Supply air temperature', kind: 'temperature', unit: '°C', point_id: 99, source: { driver: 'bacnet', poll_s: 60 } },
];

/**
 * kWh per local day of each meter: other = 2000 - (400 + 300 + 900) = 400;
 * the chiller's 500 is part of HVAC's 900.
 */
export const DAILY_KWH: Record<string, number> = {
  'mtr-main.energy': 2000,
  'mtr-lighting.energy': 400,
  'mtr-plugs.energy': 300,
  'mtr-hvac.energy': 900,
  'mtr-chiller.energy': 500,
};

/** Before this week (Monday 2026-11-23 local) and in 2026, each hour used 25 % more: "20 % less" this week. */
export const THIS_MONDAY = Date.UTC(2026, 10, 23, 5);
const YEAR_START = Date.UTC(2026, 0, 1, 5);
export const hourFactor = (t: number) => (t >= YEAR_START && t < THIS_MONDAY ? 1.25 : 1);

/** The main meter's 15-minute mean kW: 100 + day of month, 150 + day at 14:00-14:15, and 400 kW on Tue Nov 24 at 14:15. */
export const SPIKE = Date.UTC(2026, 10, 24, 19, 15);
export function quarterKw(t: number): number {
  if (t === SPIKE) return 400;
  // New York's offset by arithmetic (EDT until 2026-11-01 06:00 UTC): Intl per bucket is slow in tests
  const local = new Date(t + (t < Date.UTC(2026, 10, 1, 6) ? -4 : -5) * 3_600_000);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  return 100 + local.getUTCDate() + (minute === 14 * 60 ? 50 : 0);
}

/*
 * New York's local midnights by the US rule written out (EDT from the second
 * Sunday of March to the first Sunday of November), an independent reference
 * for the page's Intl-based arithmetic, and fast.
 */
const DST: Record<string, [string, string]> = { 2025: ['2025-03-09', '2025-11-02'], 2026: ['2026-03-08', '2026-11-01'] };
export function nyMidnight(day: string): number {
  const [a, b] = DST[day.slice(0, 4)] ?? ['', ''];
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, day > a && day <= b ? 4 : 5);
}
/** The local day of a local midnight (what the page asks from). */
const nyDay = (t: number) => new Date(t - 4 * 3_600_000).toISOString().slice(0, 10);

const bucket = (start: number, value: number, peak?: number): HistoryBucket =>
  ({ start, n: 15, min: value, max: value, value, ...(peak !== undefined ? { peak } : {}), quality: 0 });

/** The buckets sbems would return for [from, to) at this resolution. */
export function buckets(slug: string, res: string, agg: string | null, from: number, to: number): HistoryBucket[] {
  const out: HistoryBucket[] = [];
  const daily = DAILY_KWH[slug];
  if (res === '1d') {
    for (let d = nyDay(from); nyMidnight(d) < to; d = addDays(d, 1)) {
      const t = nyMidnight(d);
      if (agg === 'counter' && daily !== undefined) out.push(bucket(t, daily));
      if (agg === 'rate' && slug === 'mtr-main.power') {
        const day = Number(d.slice(8));
        out.push(bucket(t, 120, d === '2026-11-24' ? 400 : 150 + day));
      }
    }
  } else if (res === '1h' && agg === 'counter' && daily !== undefined) {
    for (let t = from - (from % 3_600_000); t < to; t += 3_600_000) out.push(bucket(t, (daily / 24) * hourFactor(t)));
  } else if (res === '15m' && agg === 'rate' && slug === 'mtr-main.power') {
    for (let t = from - (from % 900_000); t < to; t += 900_000) {
      const kw = quarterKw(t);
      out.push(bucket(t, kw, kw));
    }
  }
  return out;
}

export function historyAnswer(c: Call, slug: string, dataFrom = -Infinity): History {
  const from = Math.max(dataFrom, Number(c.query.get('from')));
  const to = Number(c.query.get('to') ?? A_NOW);
  const res = (c.query.get('resolution') ?? 'raw') as History['res'];
  const agg = c.query.get('agg');
  const b = from < to ? buckets(slug, res, agg, from, to) : [];
  return { point: 1, res, kind: (agg ?? 'mean') as History['kind'], from, to, limit: 100000, count: b.length, truncated: false, next: null, buckets: b };
}

const page = <T,>(items: T[]) => ({ items, next_cursor: null });

const notYet = () => apiError(501, 'not_implemented', 'analytics (consumption, savings) arrive with the analytics engine');

/**
 * sbems for the Analytics page; `savings` answers the savings probe (501 by
 * default); history starts at `dataFrom` (a local midnight), none before.
 */
export function analyticsServer(savings: () => Response = notYet, dataFrom = -Infinity) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: ['viewer'] }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, A_BUILDING);
    if (c.path === '/api/v1/equipment') return json(200, page(A_EQUIPMENT));
    if (c.path === '/api/v1/points') return json(200, page(A_POINTS));
    if (c.path === '/api/v1/analytics/savings') return savings();
    const m = /^\/api\/v1\/points\/([^/]+)\/history$/.exec(c.path);
    if (m) return json(200, historyAnswer(c, decodeURIComponent(m[1] as string), dataFrom));
    return apiError(404, 'not_found');
  };
}
