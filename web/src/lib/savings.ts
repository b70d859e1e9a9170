/**
 * The arithmetic and the words of the savings page (GET /api/v1/analytics/savings,
 * docs/internals/analytics-mv.md): default periods, their checks, the two
 * uncertainty ranges explained, the baseline model against Guideline 14, and
 * the chart's rows.  Pure functions: the page fetches, these compute.
 *
 * Periods are local days of the building ("YYYY-MM-DD", both ends included),
 * which is what the endpoint takes.
 */
import type { BaselineModel, Measure, Savings, SavingsResult } from '../api/analytics';
import { addDays, daysFrom, midnightOf } from './analytics';
import type { DayRange } from './analytics';
import { formatMeasure, toDisplay } from './units';
import type { UnitPrefs } from './units';

/** The server refuses a period of more than this many days (src/api/h_tariffs.c MAX_SPAN_DAYS). */
export const MAX_PERIOD_DAYS = 3 * 366;

export interface SavingsPeriods {
  baseline: DayRange;
  reporting: DayRange;
  /** where the defaults come from, in words */
  why: string;
}

/**
 * Defaults: with measures, the 365 days before the first one (CalTRACK's
 * baseline: the year immediately before the intervention) and the days since,
 * up to yesterday; without (or when the first is not yet a day old), the last
 * two years split into a baseline year and a reporting year.
 */
export function defaultPeriods(list: readonly Measure[], today: string): SavingsPeriods {
  const yesterday = addDays(today, -1);
  const first = list.map((m) => m.start).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort()[0];
  if (first && first <= addDays(yesterday, -1)) {
    const end = addDays(first, MAX_PERIOD_DAYS - 1);
    return {
      baseline: { start: addDays(first, -365), end: addDays(first, -1) },
      reporting: { start: first, end: end < yesterday ? end : yesterday },
      why: 'the 365 days before the first measure, and the days since it',
    };
  }
  return {
    baseline: { start: addDays(today, -730), end: addDays(today, -366) },
    reporting: { start: addDays(today, -365), end: yesterday },
    why: 'no measure yet: the last two years, split into a baseline year and a reporting year',
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Why these periods cannot be asked for, or null. */
export function checkPeriods(p: { baseline: DayRange; reporting: DayRange }, today: string): string | null {
  for (const [name, r] of [['baseline', p.baseline], ['reporting period', p.reporting]] as const) {
    if (!DAY.test(r.start) || !DAY.test(r.end)) return `Enter both days of the ${name}.`;
    if (r.start > r.end) return `The ${name} starts after it ends.`;
    if (daysFrom(r.start, r.end) + 1 > MAX_PERIOD_DAYS) return `The ${name} can be at most ${MAX_PERIOD_DAYS} days.`;
  }
  if (p.reporting.start <= p.baseline.end) return 'The reporting period must start after the baseline ends.';
  if (p.reporting.end > today) return 'The reporting period ends in the future.';
  return null;
}

/** Energy in the user's unit, whole kWh / kBtu (MWh to the kWh). */
export function energy(kwh: number | null | undefined, units: UnitPrefs): string {
  return formatMeasure(kwh, 'kWh', units, undefined, units.energy === 'MWh' ? 3 : 0);
}

/** A percentage with one decimal: 10.036 -> "10.0 %". */
export function percent(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  // a bias of -4e-17 % is no bias: never "-0.00 %"
  const r = Number(v.toFixed(digits)) || 0;
  return `${new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(r)} %`;
}

export interface Range {
  low: string;
  high: string;
  /** the same as percentages of the adjusted baseline */
  lowPct: string;
  highPct: string;
  width: number;
  /** the low end is at or below zero: no saving cannot be ruled out */
  includesZero: boolean;
}

function range(low: number | null, high: number | null, baseline: number | null, units: UnitPrefs): Range | null {
  if (low === null || high === null || !Number.isFinite(low) || !Number.isFinite(high)) return null;
  const p = (v: number) => (baseline && Number.isFinite(baseline) ? percent((100 * v) / baseline) : '—');
  return { low: energy(low, units), high: energy(high, units), lowPct: p(low), highPct: p(high), width: high - low, includesZero: low <= 0 };
}

export interface Ranges {
  confidence: string;
  g14: Range | null;
  drift: Range | null;
  /** which to rely on, and why, in words */
  advice: string;
}

/**
 * Both ranges of a savings result, and which one to rely on.  Guideline 14's
 * fractional savings uncertainty treats the reporting period as the baseline
 * year's statistical twin (noise and parameter error only); the with-drift
 * range adds how far the model misses months it was not fitted on and the
 * drift of the building's level seen within the baseline.  In sbems's
 * benchmark on measured buildings (analytics-mv.md, "Benchmark" 3), stated
 * 90 % ranges held the true yearly savings in 1 of 23 cases for Guideline 14
 * and 19 of 23 with drift.
 */
export function ranges(r: SavingsResult, units: UnitPrefs): Ranges {
  const g14 = range(r.guideline14.low_kwh, r.guideline14.high_kwh, r.baseline_kwh, units);
  const drift = range(r.with_drift.low_kwh, r.with_drift.high_kwh, r.baseline_kwh, units);
  const parts: string[] = [];
  if (drift) {
    parts.push('Rely on the range with drift: buildings change from one year to the next, which Guideline 14\u2019s range leaves out. ' +
      'In sbems\u2019s tests on measured buildings, stated 90 % ranges held the true yearly savings in 19 of 23 cases with drift, and in 1 of 23 for Guideline 14.');
    if (g14 && g14.width > drift.width) parts.push('Here Guideline 14\u2019s range is the wider one: quote the wider range to be safe.');
  } else {
    parts.push('The range with drift could not be computed; Guideline 14\u2019s range alone understates the uncertainty.');
  }
  const widest = drift && g14 ? (g14.width > drift.width ? g14 : drift) : drift ?? g14;
  if (widest?.includesZero) parts.push('The range reaches zero: at this confidence the data cannot rule out that nothing was saved.');
  return { confidence: percent(100 * r.confidence, 0), g14, drift, advice: parts.join(' ') };
}

export interface Verdict {
  pass: boolean;
  /** "CV(RMSE) 3.7 % (limit 30 %)", "NMBE 0.00 % (limit ±10 %)" */
  cvrmse: string;
  nmbe: string;
  /** the daily method has no limits of its own in Guideline 14 */
  note: string | null;
}

/** The baseline model against Guideline 14's calibration limits, in words with the numbers. */
export function g14Verdict(m: BaselineModel): Verdict {
  const f = (v: number | null, d: number) => (v === null || !Number.isFinite(v) ? '—' : percent(100 * v, d));
  const limit = (v: number) => percent(100 * v, 0);
  return {
    pass: m.guideline14.pass,
    cvrmse: `CV(RMSE) ${f(m.cvrmse, 1)} (limit ${limit(m.guideline14.cvrmse_max)})`,
    nmbe: `NMBE ${f(m.nmbe, 2)} (limit ±${limit(m.guideline14.nmbe_max)})`,
    note: m.method === 'caltrack_daily'
      ? 'Guideline 14 sets no limits for daily models; sbems holds them to the hourly ones.'
      : null,
  };
}

export const METHOD_WORDS: Record<BaselineModel['method'], string> = {
  caltrack_hourly: 'CalTRACK hourly (time of week and temperature, one model per month)',
  caltrack_daily: 'CalTRACK daily (degree days)',
};

/** A chart row (the shape ForecastChart draws): no band, the two daily series. */
export interface SavingsRow {
  t: number;
  lo: null;
  hi: null;
  v: Record<string, number | null>;
}

/** The daily adjusted baseline and actual as chart rows: local midnights, the user's energy unit. */
export function dailyRows(daily: Savings['daily'], tz: string, units: UnitPrefs): SavingsRow[] {
  const conv = (v: number | null) => (v === null || !Number.isFinite(v) ? null : toDisplay(v, 'kWh', units).value);
  return daily
    .filter((d) => DAY.test(d.date))
    .map((d) => ({ t: midnightOf(d.date, tz), lo: null, hi: null, v: { baseline: conv(d.baseline_kwh), actual: conv(d.actual_kwh) } }));
}

/** Why a measures list cannot be saved, or null (the server checks the same, src/api/h_tariffs.c). */
export function checkMeasures(list: readonly Measure[]): string | null {
  const seen = new Set<string>();
  for (const [i, m] of list.entries()) {
    const n = `Measure ${i + 1}`;
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(m.id)) return `${n}: the id is lower-case letters, digits, '-', '_' or '.', starting with a letter or digit.`;
    if (seen.has(m.id)) return `${n}: the id ${m.id} is used twice.`;
    seen.add(m.id);
    if (!m.name.trim()) return `${n}: give it a name.`;
    if (!DAY.test(m.start)) return `${n}: give its start day.`;
  }
  return null;
}
