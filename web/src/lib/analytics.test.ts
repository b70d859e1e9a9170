import { describe, expect, it } from 'vitest';
import type { History, HistoryBucket } from '../api/types';
import {
  addDays, assemble, change, checkRange, compareWindows, daysInRange, daysOf, hourlyEnergy, midnightOf,
  peakSource, peaksByPeriod, periodLabel, periodsOf, presetRange, rangeWindow, windowEnergy,
} from './analytics';
import { QUALITY_ESTIMATED } from '../live/store';
import { dailyFromCounter } from './enduse';

const NY = 'America/New_York';
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function hist(res: History['res'], buckets: HistoryBucket[]): History {
  return { point: 1, res, from: 0, to: 0, limit: 100000, count: buckets.length, truncated: false, next: null, buckets };
}
const b = (start: number, value: number | null, extra: Partial<HistoryBucket> = {}): HistoryBucket =>
  ({ start, n: 1, min: null, max: null, value, quality: 0, ...extra });

describe('local calendar', () => {
  it('local midnights across the 2026 DST changes in New York', () => {
    expect(iso(midnightOf('2026-03-08', NY))).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(midnightOf('2026-03-09', NY))).toBe('2026-03-09T04:00:00.000Z'); // the 8th had 23 hours
    expect(iso(midnightOf('2026-11-01', NY))).toBe('2026-11-01T04:00:00.000Z');
    expect(iso(midnightOf('2026-11-02', NY))).toBe('2026-11-02T05:00:00.000Z'); // the 1st had 25 hours
  });

  it('presets end today and start on a day, a Monday, the first of a month', () => {
    const now = Date.UTC(2026, 10, 27, 15, 37); // Fri Nov 27, 10:37 EST
    expect(presetRange('14d', now, NY)).toEqual({ start: '2026-11-14', end: '2026-11-27' });
    expect(presetRange('8w', now, NY)).toEqual({ start: '2026-10-05', end: '2026-11-27' });
    expect(presetRange('12mo', now, NY)).toEqual({ start: '2025-12-01', end: '2026-11-27' });
    // 02:00 UTC on the 28th is still the 27th in New York
    expect(presetRange('14d', Date.UTC(2026, 10, 28, 2), NY).end).toBe('2026-11-27');
    expect(rangeWindow({ start: '2026-10-05', end: '2026-11-27' }, NY, now)).toEqual({ from: Date.UTC(2026, 9, 5, 4), to: now });
  });

  it('labels periods and counts the days of a cut period', () => {
    expect(periodLabel('2026-11-23', 'week', 'en-US')).toBe('Nov 23 – 29');
    expect(periodLabel('2026-11-30', 'week', 'en-US')).toBe('Nov 30 – Dec 6');
    expect(periodLabel('2026-11', 'month', 'en-US')).toBe('Nov 2026');
    const r = { start: '2026-11-14', end: '2026-11-27' };
    expect(periodsOf(r, 'week')).toEqual(['2026-11-09', '2026-11-16', '2026-11-23']);
    expect(periodsOf(r, 'week').map((p) => daysInRange(p, 'week', r))).toEqual([2, 7, 5]);
    expect(periodsOf({ start: '2025-12-30', end: '2026-02-02' }, 'month')).toEqual(['2025-12', '2026-01', '2026-02']);
  });

  it('refuses custom ranges it cannot show', () => {
    expect(checkRange({ start: '2026-11-20', end: '2026-11-10' }, '2026-11-27')).toMatch(/after/);
    expect(checkRange({ start: '2026-12-01', end: '2026-12-02' }, '2026-11-27')).toMatch(/future/);
    expect(checkRange({ start: '2020-01-01', end: '2026-11-27' }, '2026-11-27')).toMatch(/at most 1096 days/);
    expect(checkRange({ start: '2026-01-01', end: '2026-11-27' }, '2026-11-27')).toBeNull();
  });
});

describe('weeks from daily buckets', () => {
  it('a week across a DST change is seven local days (America/New_York, March and November 2026)', () => {
    // daily counter buckets as the server sends them: one per local day, starting at local midnight;
    // each day's kWh is its day of month, so a week's sum says which days it holds
    const range = { start: '2026-03-02', end: '2026-03-15' };
    const days = daysOf(range);
    const h = hist('1d', [b(midnightOf('2026-03-01', NY), 999), ...days.map((d) => b(midnightOf(d, NY), Number(d.slice(8))))]);
    const daily = dailyFromCounter(h, NY);
    const weeks = assemble(daily, days, 'week');
    // Mon Mar 2 - Sun Mar 8 (the 8th has 23 hours) and Mon Mar 9 - Sun Mar 15; Mar 1 is outside the range
    expect([...weeks.days]).toEqual([['2026-03-02', 2 + 3 + 4 + 5 + 6 + 7 + 8], ['2026-03-09', 9 + 10 + 11 + 12 + 13 + 14 + 15]]);
    expect([...weeks.known]).toEqual([['2026-03-02', 7], ['2026-03-09', 7]]);
    // the bucket of the 23-hour Sunday starts 23 h before Monday's, and still belongs to the first week
    expect(midnightOf('2026-03-09', NY) - midnightOf('2026-03-08', NY)).toBe(23 * H);

    const fall = { start: '2026-10-26', end: '2026-11-08' };
    const fd = daysOf(fall);
    const fw = assemble(dailyFromCounter(hist('1d', fd.map((d) => b(midnightOf(d, NY), 1))), NY), fd, 'week');
    // Mon Oct 26 - Sun Nov 1 (25 hours on the 1st): seven days, not six or eight
    expect([...fw.days]).toEqual([['2026-10-26', 7], ['2026-11-02', 7]]);
  });

  it('cutting a range mid-week counts only its days, and an estimated day marks its week', () => {
    const range = { start: '2026-11-14', end: '2026-11-27' };
    const days = daysOf(range);
    const h = hist('1d', days.map((d) => b(midnightOf(d, NY), 10, d === '2026-11-18' ? { quality: QUALITY_ESTIMATED } : {})));
    const w = assemble(dailyFromCounter(h, NY), days, 'week');
    expect([...w.days]).toEqual([['2026-11-09', 20], ['2026-11-16', 70], ['2026-11-23', 50]]);
    expect([...w.estimated]).toEqual(['2026-11-16']);
    const months = assemble(dailyFromCounter(h, NY), days, 'month');
    expect([...months.days]).toEqual([['2026-11', 140]]);
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
  });
});

describe('like-for-like comparisons', () => {
  it('this week and month up to the running hour against the same elapsed span before', () => {
    const now = Date.UTC(2026, 10, 27, 15, 37, 12, 345); // Fri Nov 27, 10:37:12 EST
    const cw = compareWindows(now, NY);
    expect(iso(cw.cutoff)).toBe('2026-11-27T15:00:00.000Z');
    expect(cw.week).toMatchObject({ days: 4, hours: 10 });
    expect(iso(cw.week.cur.from)).toBe('2026-11-23T05:00:00.000Z');
    expect(iso(cw.week.prev.from)).toBe('2026-11-16T05:00:00.000Z');
    expect(iso(cw.week.prev.to)).toBe('2026-11-20T15:00:00.000Z'); // Fri Nov 20, 10:00 EST
    // the month began in EDT; the same month last year likewise, to Nov 27 10:00
    expect(iso(cw.month.cur.from)).toBe('2026-11-01T04:00:00.000Z');
    expect(iso(cw.month.prev.from)).toBe('2025-11-01T04:00:00.000Z');
    expect(iso(cw.month.prev.to)).toBe('2025-11-27T15:00:00.000Z');
  });

  it('follows the local clock across DST, in half-hour zones, and on 29 February', () => {
    // Mon Mar 9 2026, 08:30 EDT: last week's Monday 08:00 was EST
    const cw = compareWindows(Date.UTC(2026, 2, 9, 12, 30), NY);
    expect(iso(cw.week.cur.from)).toBe('2026-03-09T04:00:00.000Z');
    expect(iso(cw.week.prev.from)).toBe('2026-03-02T05:00:00.000Z');
    expect(iso(cw.week.prev.to)).toBe('2026-03-02T13:00:00.000Z');
    // India, UTC+05:30: 10:37 local is cut at 10:00 local = 04:30 UTC
    expect(iso(compareWindows(Date.UTC(2026, 10, 27, 5, 7), 'Asia/Kolkata').cutoff)).toBe('2026-11-27T04:30:00.000Z');
    // 29 Feb 2028 against all of February 2027
    const leap = compareWindows(Date.UTC(2028, 1, 29, 12), 'UTC');
    expect(iso(leap.month.prev.from)).toBe('2027-02-01T00:00:00.000Z');
    expect(iso(leap.month.prev.to)).toBe('2027-03-01T00:00:00.000Z');
  });

  it('sums only the elapsed hours of the earlier period, and says the change in words', () => {
    const now = Date.UTC(2026, 10, 27, 15, 37);
    const cw = compareWindows(now, NY);
    // 1 kWh every hour of both weeks, including all of last week and this week's running hour
    const bs: HistoryBucket[] = [];
    for (let t = cw.week.prev.from; t <= cw.cutoff; t += H) bs.push(b(t, t >= cw.week.cur.from ? 0.88 : 1));
    const h = hourlyEnergy(hist('1h', bs), 'energy');
    const cur = windowEnergy(h, cw.week.cur);
    const prev = windowEnergy(h, cw.week.prev);
    expect(cur.hours).toBe(106); // Mon 00:00 to Fri 10:00: 4 days and 10 hours, the running hour left out
    expect(prev.hours).toBe(106); // not last week's 168
    expect(cur.kwh).toBeCloseTo(93.28, 9);
    expect(prev.kwh).toBe(106);
    const c = change(cur.kwh, prev.kwh, 'en-US');
    expect(c.diff).toBeCloseTo(-12.72, 9);
    expect(c.pct).toBeCloseTo(-12, 9);
    expect(c.words).toBe('12 % less');

    expect(change(1050, 1000, 'en-US').words).toBe('5 % more');
    expect(change(1004, 1000, 'en-US').words).toBe('about the same');
    expect(change(5, 0).words).toBe('more (none in the earlier period)');
    expect(change(null, 3).words).toBe('not comparable: data missing');
    expect(change(2400, 1000, 'en-US').words).toBe('140 % more');
  });

  it('estimates from power means (kW x 1 h) and marks them', () => {
    const h = hourlyEnergy(hist('1h', [b(0, 10), b(H, 20), b(2 * H, null)]), 'power');
    expect(windowEnergy(h, { from: 0, to: 3 * H })).toEqual({ kwh: 30, hours: 2, estimated: true });
    expect(windowEnergy(h, { from: 3 * H, to: 4 * H })).toEqual({ kwh: null, hours: 0, estimated: false });
  });
});

describe('peak demand', () => {
  const range = { start: '2026-11-23', end: '2026-11-27' };

  it('picks the highest 15-minute mean of each period and when it began', () => {
    const t = (d: number, hh: number, mm: number) => Date.UTC(2026, 10, d, hh + 5, mm); // EST
    const h = hist('15m', [
      b(t(22, 23, 45), 900), // Sunday before the range: not counted
      b(t(23, 9, 0), 180), b(t(23, 9, 15), 250.5), b(t(23, 9, 30), 250.5), // a tie keeps the earlier
      b(t(24, 14, 15), 312.4), b(t(24, 14, 30), 300), b(t(24, 15, 0), null),
      b(t(27, 8, 0), 120),
    ]);
    const days = peaksByPeriod(h, NY, 'day', '15m', range);
    expect(days.get('2026-11-23')).toEqual({ kw: 250.5, at: t(23, 9, 15), day: '2026-11-23' });
    expect(days.get('2026-11-24')).toEqual({ kw: 312.4, at: t(24, 14, 15), day: '2026-11-24' });
    expect(days.has('2026-11-22')).toBe(false);
    expect(days.has('2026-11-25')).toBe(false);
    const week = peaksByPeriod(h, NY, 'week', '15m', range);
    expect([...week]).toEqual([['2026-11-23', { kw: 312.4, at: t(24, 14, 15), day: '2026-11-24' }]]);
  });

  it('uses the daily buckets\' peak for long ranges, with the day but no time', () => {
    const r12 = { start: '2025-12-01', end: '2026-11-27' };
    expect(peakSource(r12)).toBe('1d');
    expect(peakSource({ start: '2026-10-05', end: '2026-11-27' })).toBe('15m');
    const h = hist('1d', [
      b(midnightOf('2026-10-30', NY), 120, { peak: 310 }),
      b(midnightOf('2026-11-03', NY), 120, { peak: 290 }),
      b(midnightOf('2026-11-24', NY), 130, { peak: 400 }),
    ]);
    const m = peaksByPeriod(h, NY, 'month', '1d', r12);
    expect(m.get('2026-10')).toEqual({ kw: 310, at: null, day: '2026-10-30' });
    expect(m.get('2026-11')).toEqual({ kw: 400, at: null, day: '2026-11-24' });
  });
});
