import { describe, expect, it } from 'vitest';
import type { Equipment, History, Point } from '../api/types';
import { dailyFromCounter, dailyFromPower, dayKey, dayLabel, flatten, lastDays, meterTree, splitEndUses } from './enduse';
import type { DailyEnergy } from './enduse';

const eq = (id: string, extra: Partial<Equipment> = {}): Equipment => ({ id, building: 'hpo', name: `${id} name`, type: 'meter', ...extra });
const pt = (id: string, equipment: string, kind: Point['kind'], extra: Partial<Point> = {}): Point =>
  ({ id, equipment, name: id, kind, source: { driver: 'modbus' }, ...extra });

const EQUIPMENT: Equipment[] = [
  eq('m'),
  eq('light', { parent: 'm' }),
  eq('hvac', { parent: 'm' }),
  eq('chill', { parent: 'hvac' }),
  eq('plugs', { parent: 'm' }),
  eq('pv'), // a second main meter, no children
  eq('fan-meter', { parent: 'ahu-1' }), // fed by an AHU: no main meter, no end use
  eq('ahu-1', { type: 'ahu' }),
  eq('annex', { building: 'annex' }),
];
const POINTS: Point[] = [
  pt('m.kw', 'm', 'power'),
  pt('m.virt', 'm', 'energy', { source: { driver: 'virtual', address: 'a+b' } }),
  pt('m.kwh', 'm', 'energy'),
  pt('light.kwh', 'light', 'energy'),
  pt('hvac.kwh', 'hvac', 'energy'),
  pt('chill.kwh', 'chill', 'energy'),
  pt('plugs.kw', 'plugs', 'power'),
];

const TZ = 'America/New_York';
const DAYS = ['2026-11-25', '2026-11-26', '2026-11-27'];
const daily = (vals: (number | null)[]): DailyEnergy => ({
  days: new Map(vals.flatMap((v, i) => (v === null ? [] : [[DAYS[i] as string, v] as [string, number]]))),
  estimated: new Set(),
});

describe('meterTree', () => {
  it('finds main meters, their end uses and nested sub-meters from parent links', () => {
    const trees = meterTree('hpo', EQUIPMENT, POINTS);
    expect(trees.map((t) => t.id)).toEqual(['m', 'pv']);
    const m = trees[0]!;
    expect(m.children.map((c) => c.id)).toEqual(['light', 'hvac', 'plugs']);
    expect(m.children[1]?.children.map((c) => [c.id, c.depth])).toEqual([['chill', 2]]);
    expect(flatten(trees).map((n) => n.id)).toEqual(['m', 'light', 'hvac', 'chill', 'plugs', 'pv']);
  });

  it('reads energy counters first (never a virtual point), power when there is no counter', () => {
    const byId = new Map(flatten(meterTree('hpo', EQUIPMENT, POINTS)).map((n) => [n.id, n]));
    expect([byId.get('m')?.source, byId.get('m')?.point?.id]).toEqual(['energy', 'm.kwh']);
    expect([byId.get('plugs')?.source, byId.get('plugs')?.point?.id]).toEqual(['power', 'plugs.kw']);
    expect(byId.get('pv')?.source).toBe('none');
  });

  it('survives a parent loop', () => {
    const loop = [eq('a'), eq('b', { parent: 'c' }), eq('c', { parent: 'b' }), eq('d', { parent: 'a' })];
    expect(flatten(meterTree('hpo', loop, [])).map((n) => n.id)).toEqual(['a', 'd']);
  });
});

describe('days in the building zone', () => {
  it('keys instants by local day and lists the last n days across a month end', () => {
    // 03:30 UTC on Dec 1 is still Nov 30 in New York
    expect(dayKey(Date.UTC(2026, 11, 1, 3, 30), TZ)).toBe('2026-11-30');
    expect(dayKey(Date.UTC(2026, 11, 1, 5, 0), TZ)).toBe('2026-12-01');
    expect(lastDays(Date.UTC(2026, 11, 2, 15), TZ, 3)).toEqual(['2026-11-30', '2026-12-01', '2026-12-02']);
    expect(dayLabel('2026-11-27', 'en-US')).toBe('Fri, Nov 27');
  });

  it('sums daily counter buckets by local day and marks meter resets', () => {
    const h = {
      point: 1, res: '1d', kind: 'counter', from: 0, to: 0, limit: 10, count: 3, truncated: false, next: null,
      buckets: [
        { start: Date.UTC(2026, 10, 26, 5), n: 96, min: 0, max: 0, value: 1200, quality: 0 },
        { start: Date.UTC(2026, 10, 27, 5), n: 40, min: 0, max: 0, value: 530.5, quality: 8 },
        { start: Date.UTC(2026, 10, 25, 5), n: 0, min: null, max: null, value: null, quality: 0 },
      ],
    } as History;
    const d = dailyFromCounter(h, TZ);
    expect([...d.days]).toEqual([['2026-11-26', 1200], ['2026-11-27', 530.5]]);
    expect([...d.estimated]).toEqual(['2026-11-27']);
  });

  it('estimates energy from hourly power means x hours, the running hour up to now', () => {
    const now = Date.UTC(2026, 10, 27, 15, 30); // 10:30 in New York
    const h = {
      point: 2, res: '1h', kind: 'rate', from: 0, to: 0, limit: 10, count: 3, truncated: false, next: null,
      buckets: [
        { start: Date.UTC(2026, 10, 27, 4), n: 4, min: 0, max: 0, value: 10, quality: 0 }, // 23:00 Nov 26
        { start: Date.UTC(2026, 10, 27, 14), n: 4, min: 0, max: 0, value: 20, quality: 0 },
        { start: Date.UTC(2026, 10, 27, 15), n: 2, min: 0, max: 0, value: 40, quality: 0 }, // half an hour so far
      ],
    } as History;
    const d = dailyFromPower(h, TZ, now);
    expect([...d.days]).toEqual([['2026-11-26', 10], ['2026-11-27', 40]]);
    expect(d.estimated.has('2026-11-27')).toBe(true);
  });
});

describe('splitEndUses', () => {
  const trees = meterTree('hpo', EQUIPMENT, POINTS);
  const row = (s: ReturnType<typeof splitEndUses>, key: string) => s.rows.find((r) => r.key === key)!;

  it('gives other = main - direct children, counts nested meters once, and shares of the total', () => {
    const data = new Map<string, DailyEnergy>([
      ['m', daily([1000, 1100, 400])],
      ['light', daily([200, 200, 100])],
      ['hvac', daily([500, 600, 150])],
      ['chill', daily([300, 350, 50])], // inside hvac: not subtracted again
      ['plugs', daily([100, 100, 50])],
    ]);
    const s = splitEndUses(trees, data, DAYS);
    expect(s.rows.map((r) => [r.name, r.depth])).toEqual([
      ['m name', 0], ['light name', 1], ['hvac name', 1], ['chill name', 2], ['plugs name', 1], ['Other / unmetered', 1], ['pv name', 0],
    ]);
    const other = row(s, 'other:m');
    expect(other.byDay).toEqual([200, 200, 100]);
    expect(other.today).toBe(100);
    expect(other.period).toBe(500);
    expect(other.clampedDays).toEqual([]);
    expect(row(s, 'm:hvac').shareToday).toBeCloseTo(37.5);
    expect(row(s, 'm:chill').sharePeriod).toBeCloseTo(100 * 700 / 2500);
    expect(s.totalToday).toBe(400);
    expect(s.totalPeriod).toBe(2500);
    // the stacks add up to the total: direct children + other (+ the childless pv, no data)
    expect(s.stacked.map((r) => r.key)).toEqual(['m:light', 'm:hvac', 'm:plugs', 'other:m', 'm:pv']);
    const stackToday = s.stacked.reduce((a, r) => a + (r.today ?? 0), 0);
    expect(stackToday).toBe(400);
  });

  it('clamps other at zero when the children exceed the main meter, and says by how much', () => {
    const data = new Map<string, DailyEnergy>([
      ['m', daily([1000, 500, 400])],
      ['light', daily([200, 300, 100])],
      ['hvac', daily([500, 400, 150])],
      ['plugs', daily([100, 100, 50])],
    ]);
    const o = row(splitEndUses(trees, data, DAYS), 'other:m');
    expect(o.byDay).toEqual([200, 0, 100]);
    expect(o.clampedDays).toEqual(['2026-11-26']);
    expect(o.excess).toBe(300);
  });

  it('takes an excess within rounding (0.1 %) as zero other, not as a metering error', () => {
    const data = new Map<string, DailyEnergy>([
      ['m', daily([1000, 1000, 1000])],
      ['light', daily([400.9, 401.5, 400 + 1e-9])], // 0.9, 1.5 (over 1 kWh = 0.1 %) and a float's worth over
      ['hvac', daily([500, 500, 500])],
      ['plugs', daily([100, 100, 100])],
    ]);
    const o = row(splitEndUses(trees, data, DAYS), 'other:m');
    expect(o.byDay).toEqual([0, 0, 0]);
    expect(o.clampedDays).toEqual(['2026-11-26']);
  });

  it('leaves other unknown on days a sub-meter or the main meter has no data', () => {
    const data = new Map<string, DailyEnergy>([
      ['m', daily([null, 1100, 400])],
      ['light', daily([200, null, 100])],
      ['hvac', daily([500, 600, 150])],
      ['plugs', daily([100, 100, 50])],
    ]);
    const s = splitEndUses(trees, data, DAYS);
    const o = row(s, 'other:m');
    expect(o.byDay).toEqual([null, null, 100]);
    expect(o.missing).toEqual(['light name']);
    expect(o.knownDays).toBe(1);
    expect(row(s, 'm:m').period).toBe(1500);
  });

  it('has no shares without a total', () => {
    const s = splitEndUses(trees, new Map(), DAYS);
    expect(s.totalToday).toBeNull();
    expect(s.rows.every((r) => r.shareToday === null && r.today === null)).toBe(true);
  });
});
