import { describe, expect, it } from 'vitest';
import type { Equipment, History, Point } from '../api/types';
import { canonicalUnit, mainMeterPowerPoints, sumKnown, zoneTemperaturePoint } from './model';
import { appendLive, mergeHistories, sumHistories } from './series';

const eq = (id: string, type: Equipment['type'], extra: Partial<Equipment> = {}): Equipment => ({ id, building: 'hpo', name: id, type, ...extra });
const pt = (id: string, equipment: string, kind: Point['kind'], extra: Partial<Point> = {}): Point => ({ id, equipment, name: id, kind, ...extra });

describe('model rules shared with the server', () => {
  const equipment = [
    eq('mtr-main', 'meter'),
    eq('mtr-hvac', 'meter', { parent: 'mtr-main' }),
    eq('mtr-pv', 'meter'),
    eq('vav-1', 'vav', { zone: 'f1' }),
    eq('ahu-1', 'ahu'),
    eq('other-bldg-meter', 'meter', { building: 'annex' }),
  ];
  const points = [
    pt('mtr-main.virtual', 'mtr-main', 'power', { source: { driver: 'virtual', address: 'a+b' } }),
    pt('mtr-main.kw', 'mtr-main', 'power', { source: { driver: 'modbus' } }),
    pt('mtr-main.kw2', 'mtr-main', 'power', { source: { driver: 'modbus' } }),
    pt('mtr-hvac.kw', 'mtr-hvac', 'power', { source: { driver: 'modbus' } }),
    pt('mtr-pv.kw', 'mtr-pv', 'power', { source: { driver: 'modbus' } }),
    pt('other-bldg-meter.kw', 'other-bldg-meter', 'power', { source: { driver: 'modbus' } }),
    pt('ahu-1.sat', 'ahu-1', 'temperature'),
    pt('vav-1.dat', 'vav-1', 'temperature'),
    pt('vav-1.zat', 'vav-1', 'temperature'),
  ];

  it('sums main meters: no parent, first non-virtual power point, this building only', () => {
    expect(mainMeterPowerPoints('hpo', equipment, points).map((p) => p.id)).toEqual(['mtr-main.kw', 'mtr-pv.kw']);
  });

  it('takes the first temperature point of equipment serving the zone', () => {
    expect(zoneTemperaturePoint('f1', equipment, points)?.id).toBe('vav-1.dat');
    expect(zoneTemperaturePoint('f2', equipment, points)).toBeUndefined();
  });

  it('knows the unit readings arrive in', () => {
    expect(canonicalUnit({ kind: 'temperature', unit: '°F' })).toBe('°C');
    expect(canonicalUnit({ kind: 'power', unit: 'W' })).toBe('kW');
    // a setpoint's readings are in its declared unit's canonical unit (docs/site-format.md)
    expect(canonicalUnit({ kind: 'setpoint', unit: '°F' })).toBe('°C');
    expect(canonicalUnit({ kind: 'setpoint', unit: 'm³/s' })).toBe('L/s');
    expect(canonicalUnit({ kind: 'other', unit: 'Hz' })).toBe('Hz');
    expect(canonicalUnit({ kind: 'other', unit: 'furlong/fortnight' })).toBe('furlong/fortnight');
    expect(canonicalUnit({ kind: 'status' })).toBe('');
  });

  it('sums only known values', () => {
    expect(sumKnown([1, undefined, 2.5, null, Number.NaN])).toBe(3.5);
    expect(sumKnown([undefined, null])).toBeNull();
  });
});

describe('series', () => {
  const h = (buckets: [number, number | null][]): History => ({
    point: 1, res: '1m', from: 0, to: 0, limit: 0, count: buckets.length, truncated: false, next: null,
    buckets: buckets.map(([start, value]) => ({ start, n: 1, min: value, max: value, value, quality: 0 })),
  });

  it('sums histories bucket by bucket', () => {
    expect(sumHistories([h([[0, 10], [60, 11], [120, null]]), h([[60, 5], [120, 6]])], 'kw')).toEqual([
      { t: 0, kw: 10 },
      { t: 60, kw: 16 },
      { t: 120, kw: 6 },
    ]);
  });

  it('merges raw samples and buckets on one axis', () => {
    const raw: History = { point: 2, res: 'raw', from: 0, to: 0, limit: 0, count: 1, truncated: false, next: null, samples: [{ ts: 60, value: 3, quality: 0 }] };
    expect(mergeHistories([{ key: 'a', h: h([[0, 1], [60, 2]]) }, { key: 'b', h: raw }])).toEqual([
      { t: 0, a: 1 },
      { t: 60, a: 2, b: 3 },
    ]);
  });

  it('appends live rows in order and trims to the window', () => {
    const rows = [{ t: 10, v: 1 }, { t: 20, v: 2 }];
    expect(appendLive(rows, { t: 30, v: 3 }, 0).map((r) => r.t)).toEqual([10, 20, 30]);
    expect(appendLive(rows, { t: 20, v: 9 }, 0)).toEqual([{ t: 10, v: 1 }, { t: 20, v: 9 }]);
    expect(appendLive(rows, { t: 15, v: 9 }, 0)).toBe(rows); // older than the last: ignored
    expect(appendLive(rows, { t: 30, v: 3 }, 15).map((r) => r.t)).toEqual([20, 30]);
    expect(appendLive(rows, { t: 30, v: 3 }, 0, 2).map((r) => r.t)).toEqual([20, 30]);
  });
});
