import { describe, expect, it } from 'vitest';
import type { SavingsResult } from '../api/analytics';
import { MEASURES, SAVINGS, SAVINGS_DAILY } from '../test/fixtures-analytics';
import { checkMeasures, checkPeriods, dailyRows, defaultPeriods, g14Verdict, percent, ranges } from './savings';

const KWH = { temp: 'C' as const, energy: 'kWh' as const };
const MWH = { temp: 'C' as const, energy: 'MWh' as const };
const TODAY = '2026-11-27';

describe('default periods', () => {
  it('takes the 365 days before the first measure and the days since, up to yesterday', () => {
    expect(defaultPeriods(MEASURES.measures, TODAY)).toEqual({
      baseline: { start: '2024-11-13', end: '2025-11-12' },
      reporting: { start: '2025-11-13', end: '2026-11-26' },
      why: 'the 365 days before the first measure, and the days since it',
    });
    // order in the list does not matter; the earliest start counts
    expect(defaultPeriods([...MEASURES.measures].reverse(), TODAY).baseline.end).toBe('2025-11-12');
  });

  it('splits the last two years without a measure, or when the first is not yet a whole day old', () => {
    const split = {
      baseline: { start: '2024-11-27', end: '2025-11-26' },
      reporting: { start: '2025-11-27', end: '2026-11-26' },
    };
    expect(defaultPeriods([], TODAY)).toMatchObject(split);
    expect(defaultPeriods([{ id: 'x', name: 'X', start: '2026-11-26' }], TODAY)).toMatchObject(split);
    expect(defaultPeriods([{ id: 'x', name: 'X', start: '2026-11-25' }], TODAY)).toMatchObject({ reporting: { start: '2026-11-25', end: '2026-11-26' } });
  });

  it('keeps a long reporting period within what the server accepts', () => {
    const p = defaultPeriods([{ id: 'x', name: 'X', start: '2020-01-01' }], TODAY);
    expect(p.reporting).toEqual({ start: '2020-01-01', end: '2023-01-02' }); // 1098 days, 2020 a leap year
    expect(checkPeriods(p, TODAY)).toBeNull();
  });
});

describe('period checks', () => {
  const ok = { baseline: { start: '2024-11-13', end: '2025-11-12' }, reporting: { start: '2025-11-13', end: '2026-11-26' } };
  it('says what is wrong', () => {
    expect(checkPeriods(ok, TODAY)).toBeNull();
    expect(checkPeriods({ ...ok, baseline: { start: '', end: '2025-11-12' } }, TODAY)).toBe('Enter both days of the baseline.');
    expect(checkPeriods({ ...ok, baseline: { start: '2025-11-12', end: '2025-11-01' } }, TODAY)).toBe('The baseline starts after it ends.');
    expect(checkPeriods({ ...ok, reporting: { start: '2025-11-12', end: '2026-11-26' } }, TODAY)).toBe('The reporting period must start after the baseline ends.');
    expect(checkPeriods({ ...ok, reporting: { start: '2025-11-13', end: '2026-11-28' } }, TODAY)).toBe('The reporting period ends in the future.');
    expect(checkPeriods({ ...ok, baseline: { start: '2021-11-12', end: '2025-11-12' } }, TODAY)).toBe('The baseline can be at most 1098 days.');
  });
});

describe('uncertainty ranges', () => {
  it('gives both ranges in energy and as a share of the adjusted baseline, and says to rely on the one with drift', () => {
    const r = ranges(SAVINGS.savings, KWH);
    expect(r.confidence).toBe('90 %');
    expect(r.g14).toMatchObject({ low: '66,263 kWh', high: '67,362 kWh', lowPct: '10.0 %', highPct: '10.1 %', includesZero: false });
    expect(r.drift).toMatchObject({ low: '41,927 kWh', high: '91,698 kWh', lowPct: '6.3 %', highPct: '13.8 %', includesZero: false });
    expect(r.advice).toMatch(/^Rely on the range with drift: buildings change from one year to the next/);
    expect(r.advice).toMatch(/19 of 23 cases with drift, and in 1 of 23 for Guideline 14/);
    expect(r.advice).not.toMatch(/wider one/);
    expect(ranges(SAVINGS.savings, MWH).drift).toMatchObject({ low: '41.927 MWh', high: '91.698 MWh' });
  });

  it('says when Guideline 14 is the wider, and when the range reaches zero', () => {
    const vfd = SAVINGS_DAILY.measures[0]?.savings as SavingsResult;
    expect(ranges(vfd, KWH).advice).toMatch(/Here Guideline 14’s range is the wider one: quote the wider range to be safe\./);
    const small: SavingsResult = { ...SAVINGS.savings, with_drift: { ...SAVINGS.savings.with_drift, low_kwh: -1200, high_kwh: 9000 } };
    const r = ranges(small, KWH);
    expect(r.drift?.includesZero).toBe(true);
    expect(r.advice).toMatch(/The range reaches zero: at this confidence the data cannot rule out that nothing was saved\./);
    const none: SavingsResult = { ...SAVINGS.savings, with_drift: { ...SAVINGS.savings.with_drift, low_kwh: null, high_kwh: null } };
    expect(ranges(none, KWH).advice).toMatch(/could not be computed/);
  });
});

describe('baseline model against Guideline 14', () => {
  it('says pass or fail with the numbers and the limits', () => {
    const hourly = SAVINGS.baseline.model;
    if (!hourly) throw new Error('fixture');
    expect(g14Verdict(hourly)).toEqual({ pass: true, cvrmse: 'CV(RMSE) 3.7 % (limit 30 %)', nmbe: 'NMBE 0.00 % (limit ±10 %)', note: null });
    const daily = SAVINGS_DAILY.baseline.model;
    if (!daily) throw new Error('fixture');
    expect(g14Verdict(daily)).toMatchObject({ cvrmse: 'CV(RMSE) 18.1 % (limit 30 %)', nmbe: 'NMBE 0.00 % (limit ±10 %)' });
    expect(g14Verdict(daily).note).toMatch(/no limits for daily models/);
    expect(g14Verdict({ ...hourly, cvrmse: 0.42, guideline14: { ...hourly.guideline14, pass: false } })).toMatchObject({ pass: false, cvrmse: 'CV(RMSE) 42.0 % (limit 30 %)' });
    expect(percent(-3.6e-15, 2)).toBe('0.00 %');
  });
});

describe('daily chart rows', () => {
  it('puts each local day at its midnight in the building zone, in the user energy unit', () => {
    const rows = dailyRows(SAVINGS.daily, 'America/New_York', KWH);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({ t: Date.UTC(2025, 10, 13, 5), lo: null, hi: null, v: { baseline: 1847.9344529388945, actual: 1680.1500000000233 } });
    const mwh = dailyRows(SAVINGS.daily, 'America/New_York', MWH);
    expect(mwh[0]?.v.actual).toBeCloseTo(1.6801500000000233, 12);
    const gap = dailyRows([{ date: '2025-11-13', baseline_kwh: null, actual_kwh: 5 }], 'UTC', KWH);
    expect(gap[0]).toEqual({ t: Date.UTC(2025, 10, 13), lo: null, hi: null, v: { baseline: null, actual: 5 } });
  });
});

describe('measure checks', () => {
  it('checks ids, names and days as the server does', () => {
    expect(checkMeasures(MEASURES.measures)).toBeNull();
    expect(checkMeasures([{ id: 'Fan', name: 'Fans', start: '2026-01-01' }])).toMatch(/^Measure 1: the id is lower-case/);
    expect(checkMeasures([...MEASURES.measures, { id: 'vfd', name: 'Again', start: '2026-01-01' }])).toBe('Measure 3: the id vfd is used twice.');
    expect(checkMeasures([{ id: 'a', name: ' ', start: '2026-01-01' }])).toBe('Measure 1: give it a name.');
    expect(checkMeasures([{ id: 'a', name: 'A', start: '' }])).toBe('Measure 1: give its start day.');
  });
});
