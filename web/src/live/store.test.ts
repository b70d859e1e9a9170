import { describe, expect, it, vi } from 'vitest';
import type { Point } from '../api/types';
import { DEFAULT_POLL_MS, LiveStore, QUALITY_STALE, isStale, pollIntervalMs, staleAt } from './store';

const MIN = 60_000;

function point(slug: string, id: number, source: Point['source']): Point {
  return { id: slug, equipment: 'e', name: slug, kind: 'temperature', point_id: id, source };
}

describe('staleness', () => {
  it('is stale past three poll intervals, not at them', () => {
    const r = { v: 21, t: 0, q: 0 };
    expect(isStale(r, MIN, 3 * MIN)).toBe(false);
    expect(isStale(r, MIN, 3 * MIN + 1)).toBe(true);
    expect(isStale(r, 15_000, 45_001)).toBe(true);
    expect(isStale(r, 15_000, 44_000)).toBe(false);
  });

  it('is stale at once when the source flagged it (quality bit 0)', () => {
    expect(isStale({ v: 1, t: 1000, q: QUALITY_STALE }, MIN, 1000)).toBe(true);
    expect(isStale({ v: 1, t: 1000, q: 1 | 4 }, null, 1000)).toBe(true);
    // other flags (fault 2, overridden 4, estimated 8) are not staleness
    expect(isStale({ v: 1, t: 1000, q: 2 | 4 | 8 }, MIN, 1000)).toBe(false);
  });

  it('trusts the server flag alone while the link is live (COV points send nothing while they hold)', () => {
    const old = { v: 21, t: 0, q: 0 };
    expect(isStale(old, MIN, 100 * MIN, true)).toBe(false);
    expect(isStale({ ...old, q: QUALITY_STALE }, MIN, 0, true)).toBe(true);
    expect(isStale(old, MIN, 100 * MIN, false)).toBe(true);
  });

  it('judges pushed points (no poll interval) by the flag only', () => {
    expect(isStale({ v: 1, t: 0, q: 0 }, null, 10 * 86_400_000)).toBe(false);
  });

  it('has no opinion about a point without a reading', () => {
    expect(isStale(undefined, MIN, 1e12)).toBe(false);
  });

  it('says when a reading will turn stale', () => {
    expect(staleAt({ v: 1, t: 1000, q: 0 }, MIN)).toBe(1000 + 3 * MIN);
    expect(staleAt({ v: 1, t: 1000, q: 1 }, MIN)).toBe(1000);
    expect(staleAt({ v: 1, t: 1000, q: 0 }, null)).toBeNull();
  });

  it('takes the poll interval from the point source', () => {
    expect(pollIntervalMs(point('a', 1, { driver: 'bacnet', poll_s: 15 }))).toBe(15_000);
    expect(pollIntervalMs(point('a', 1, { driver: 'modbus' }))).toBe(DEFAULT_POLL_MS);
    expect(pollIntervalMs(point('a', 1, { driver: 'mqtt' }))).toBeNull();
    expect(pollIntervalMs(point('a', 1, { driver: 'mqtt', poll_s: 30 }))).toBe(30_000);
    expect(pollIntervalMs(point('a', 1, { driver: 'virtual', address: 'x + y' }))).toBeNull();
    expect(pollIntervalMs(point('a', 1, null))).toBeNull();
  });
});

describe('LiveStore', () => {
  it('judges by age only while the link is down, and tells the shown values when the link changes', () => {
    const s = new LiveStore();
    s.describe([point('cov', 1, { driver: 'bacnet', poll_s: 10 })]);
    s.ingest([[1, 0, 20, 0]]);
    const seen = vi.fn();
    s.subscribePoint(1, seen);
    expect(s.stale(1, 60_000)).toBe(true);     // link down: 60 s > 3 x 10 s
    s.setLinkLive(true);
    expect(seen).toHaveBeenCalledTimes(1);
    expect(s.stale(1, 60_000)).toBe(false);    // live: no flag, not stale
    s.ingest([[1, 0, 20, QUALITY_STALE]]);     // the server marks the held value (same time and value)
    expect(s.stale(1, 60_000)).toBe(true);
    expect(seen).toHaveBeenCalledTimes(2);
    s.ingest([[1, 0, 20, 0]]);                 // fresh again (COV confirmed)
    expect(s.stale(1, 60_000)).toBe(false);
    s.setLinkLive(true);                        // no change, no calls
    expect(seen).toHaveBeenCalledTimes(3);
  });

  it('uses each point its own interval', () => {
    const s = new LiveStore();
    s.describe([point('fast', 1, { driver: 'bacnet', poll_s: 10 }), point('slow', 2, { driver: 'weather', poll_s: 900 })]);
    s.ingest([[1, 0, 20, 0], [2, 0, 5, 0]]);
    expect(s.stale(1, 31_000)).toBe(true);
    expect(s.stale(2, 31_000)).toBe(false);
    expect(s.stale(2, 2_700_001)).toBe(true);
    expect(s.idOf('slow')).toBe(2);
    expect(s.metaOf(1)?.pollMs).toBe(10_000);
  });

  it('keeps the newest reading whatever the arrival order', () => {
    const s = new LiveStore();
    s.ingest([[1, 2000, 22, 0]]);
    s.ingest([[1, 1000, 21, 0]]);
    expect(s.get(1)).toEqual({ v: 22, t: 2000, q: 0 });
    s.ingest([[1, 3000, 23, 1]]);
    expect(s.get(1)).toEqual({ v: 23, t: 3000, q: 1 });
  });

  it('ignores malformed rows', () => {
    const s = new LiveStore();
    s.ingest([[1, 1000, null, 0], [2, Number.NaN, 3, 0], ['x' as unknown as number, 1, 1, 0], [3, 1000, 7, 0]]);
    expect(s.get(1)).toBeUndefined();
    expect(s.get(2)).toBeUndefined();
    expect(s.get(3)?.v).toBe(7);
  });

  it('calls point listeners once per batch, only for points that changed', () => {
    const s = new LiveStore();
    const a = vi.fn();
    const b = vi.fn();
    const batch = vi.fn();
    s.subscribePoint(1, a);
    const offB = s.subscribePoint(2, b);
    s.subscribeBatch(batch);
    s.ingest([[1, 1, 1, 0], [1, 2, 2, 0], [3, 1, 1, 0]]);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).not.toHaveBeenCalled();
    expect(batch).toHaveBeenCalledTimes(1);
    expect([...(batch.mock.calls[0]?.[0] as Set<number>)].sort()).toEqual([1, 3]);
    s.ingest([[1, 2, 2, 0]]); // same reading again: no change
    expect(a).toHaveBeenCalledTimes(1);
    offB();
    s.ingest([[2, 5, 5, 0]]);
    expect(b).not.toHaveBeenCalled();
  });

  it('seeds from REST answers, skipping points without a reading', () => {
    const s = new LiveStore();
    s.seed([
      { point: 55, ts: 1000, value: 21.2, quality: 0 },
      { point: 56, ts: null, value: null, quality: null },
    ]);
    expect(s.get(55)?.v).toBe(21.2);
    expect(s.get(56)).toBeUndefined();
  });

  it('clear() forgets readings and tells their listeners', () => {
    const s = new LiveStore();
    const fn = vi.fn();
    s.ingest([[1, 1, 1, 0]]);
    s.subscribePoint(1, fn);
    s.clear();
    expect(s.get(1)).toBeUndefined();
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
