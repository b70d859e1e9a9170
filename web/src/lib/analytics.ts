/**
 * The arithmetic of the Analytics page, from the rollups sbems serves today
 * (GET /points/{p}/history; docs/internals/rollups.md): the analytics
 * endpoints themselves answer 501 until the analytics engine.
 *
 * - Periods are local calendar days, Monday-to-Sunday weeks and months in
 *   the building's zone.  Calendar arithmetic runs on "YYYY-MM-DD" keys with
 *   UTC dates (no zone, no DST), and a key becomes an instant only through
 *   zonedToUtc, so a week across a DST change is still seven local days
 *   (one of 23 or 25 hours).
 * - Weeks and months are assembled from daily counter buckets, which the
 *   server aligns to local midnight: a week is the sum of its seven days.
 * - Comparisons are like-for-like: the current period up to the start of the
 *   running local hour against the same elapsed local days and hours of the
 *   earlier period, from hourly buckets.
 * - Peak demand is the highest 15-minute mean power: 15-minute buckets'
 *   means (agg rate) where the range is short, else each daily bucket's
 *   `peak`, which the server keeps as the highest 15-minute mean of the day
 *   (the time within the day is then not known).
 *
 * Pure functions: the components fetch, these compute.
 */
import type { History } from '../api/types';
import { QUALITY_ESTIMATED } from '../live/store';
import { dayKey, dayLabel } from './enduse';
import type { DailyEnergy, EnergySource } from './enduse';
import { zonedParts, zonedToUtc } from './time';

export type Granularity = 'day' | 'week' | 'month';
export type Preset = '14d' | '8w' | '12mo' | 'custom';

/** Local days, both ends included ("YYYY-MM-DD"). */
export interface DayRange {
  start: string;
  end: string;
}

/** [from, to) in ms. */
export interface Window {
  from: number;
  to: number;
}

const HOUR_MS = 3_600_000;

// ---- calendar keys ------------------------------------------------------------------

function ymd(key: string): [number, number, number] {
  const [y, m, d] = key.split('-').map(Number);
  return [y ?? 1970, m ?? 1, d ?? 1];
}

function keyOf(utc: number): string {
  return new Date(utc).toISOString().slice(0, 10);
}

/** The day key n days after key (n may be negative). */
export function addDays(key: string, n: number): string {
  const [y, m, d] = ymd(key);
  return keyOf(Date.UTC(y, m - 1, d + n));
}

/** 0 = Monday ... 6 = Sunday. */
export function weekdayOfKey(key: string): number {
  const [y, m, d] = ymd(key);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/** Whole days from a to b (b later: positive). */
export function daysFrom(a: string, b: string): number {
  const [y1, m1, d1] = ymd(a);
  const [y2, m2, d2] = ymd(b);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / 86_400_000);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The period a local day belongs to: the day, its week's Monday, or "YYYY-MM". */
export function periodOf(day: string, g: Granularity): string {
  if (g === 'day') return day;
  if (g === 'week') return addDays(day, -weekdayOfKey(day));
  return day.slice(0, 7);
}

/** Every day of the range, in order. */
export function daysOf(r: DayRange): string[] {
  const out: string[] = [];
  for (let d = r.start; d <= r.end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The periods the range touches, in order. */
export function periodsOf(r: DayRange, g: Granularity): string[] {
  const out: string[] = [];
  for (const d of daysOf(r)) {
    const p = periodOf(d, g);
    if (out[out.length - 1] !== p) out.push(p);
  }
  return out;
}

/** How many days the whole period has (1, 7, or the month's). */
export function periodLength(period: string, g: Granularity): number {
  if (g === 'day') return 1;
  if (g === 'week') return 7;
  const [y, m] = ymd(`${period}-01`);
  return daysInMonth(y, m);
}

const labelFmt = new Map<string, Intl.DateTimeFormat>();
function fmtUtc(locale: string | undefined, o: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = `${locale ?? ''}|${JSON.stringify(o)}`;
  let f = labelFmt.get(k);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...o, timeZone: 'UTC' });
    labelFmt.set(k, f);
  }
  return f;
}

function noon(key: string): number {
  const [y, m, d] = ymd(key);
  return Date.UTC(y, m - 1, d, 12);
}

/** "Fri, Nov 27", "Nov 23 – 29", "Nov 30 – Dec 6", "Nov 2026". */
export function periodLabel(period: string, g: Granularity, locale?: string): string {
  if (g === 'day') return dayLabel(period, locale);
  if (g === 'month') return fmtUtc(locale, { month: 'short', year: 'numeric' }).format(noon(`${period}-01`));
  const end = addDays(period, 6);
  const md = fmtUtc(locale, { month: 'short', day: 'numeric' });
  const tail = end.slice(0, 7) === period.slice(0, 7) ? fmtUtc(locale, { day: 'numeric' }).format(noon(end)) : md.format(noon(end));
  return `${md.format(noon(period))} – ${tail}`;
}

/** The instant of local midnight starting a day key, in tz. */
export function midnightOf(day: string, tz: string): number {
  const [y, m, d] = ymd(day);
  return zonedToUtc(y, m, d, 0, 0, tz);
}

// ---- ranges -------------------------------------------------------------------------

/** Longest custom range: three years of daily buckets (and hourly for meters without a counter). */
export const MAX_RANGE_DAYS = 1096;

export const PRESET_GRANULARITY: Record<Exclude<Preset, 'custom'>, Granularity> = { '14d': 'day', '8w': 'week', '12mo': 'month' };

/**
 * A preset as local days ending today: 14 days; the current week and the 7
 * before it (Mondays); the current month and the 11 before it.
 */
export function presetRange(p: Exclude<Preset, 'custom'>, now: number, tz: string): DayRange {
  const today = dayKey(now, tz);
  if (p === '14d') return { start: addDays(today, -13), end: today };
  if (p === '8w') return { start: addDays(periodOf(today, 'week'), -49), end: today };
  const [y, m] = ymd(today);
  const first = new Date(Date.UTC(y, m - 1 - 11, 1));
  return { start: keyOf(first.getTime()), end: today };
}

/** The range's instants: local midnight of the first day to the end of the last, not past now. */
export function rangeWindow(r: DayRange, tz: string, now: number): Window {
  return { from: midnightOf(r.start, tz), to: Math.min(now, midnightOf(addDays(r.end, 1), tz)) };
}

/** Why a custom range cannot be used, or null. */
export function checkRange(r: DayRange, today: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(r.start) || !/^\d{4}-\d{2}-\d{2}$/.test(r.end)) return 'Enter both dates.';
  if (r.start > r.end) return 'The first day is after the last day.';
  if (r.start > today) return 'The range starts in the future.';
  if (daysFrom(r.start, r.end) + 1 > MAX_RANGE_DAYS) return `Pick at most ${MAX_RANGE_DAYS} days (three years).`;
  return null;
}

// ---- consumption per period -----------------------------------------------------------

export interface PeriodEnergy extends DailyEnergy {
  /** per period: the local days with data */
  known: Map<string, number>;
}

/**
 * Daily energy summed into periods, counting only the days of `days` (the
 * server answers whole buckets, so a day just outside the range may come).
 * An estimated day makes its period estimated.
 */
export function assemble(daily: DailyEnergy, days: readonly string[], g: Granularity): PeriodEnergy {
  const out: PeriodEnergy = { days: new Map(), estimated: new Set(), known: new Map() };
  for (const d of days) {
    const v = daily.days.get(d);
    if (v === undefined) continue;
    const p = periodOf(d, g);
    out.days.set(p, (out.days.get(p) ?? 0) + v);
    out.known.set(p, (out.known.get(p) ?? 0) + 1);
    if (daily.estimated.has(d)) out.estimated.add(p);
  }
  return out;
}

/** The days of a period inside the range (the first and last periods may be cut). */
export function daysInRange(period: string, g: Granularity, r: DayRange): number {
  const first = g === 'month' ? `${period}-01` : period;
  const last = addDays(first, periodLength(period, g) - 1);
  const a = first > r.start ? first : r.start;
  const b = last < r.end ? last : r.end;
  return a > b ? 0 : daysFrom(a, b) + 1;
}

// ---- like-for-like comparisons --------------------------------------------------------

export interface Comparison {
  cur: Window;
  prev: Window;
  /** local days and hours elapsed in the current period (the same in the earlier one) */
  days: number;
  hours: number;
}

export interface CompareWindows {
  /** the start of the running local hour: comparisons stop there */
  cutoff: number;
  week: Comparison;
  month: Comparison;
}

/**
 * This week (Monday 00:00) and this month (the 1st, 00:00) up to the start of
 * the running hour, against last week and the same month last year over the
 * same elapsed local days and hours.  On a 29 February the month a year
 * earlier has no such day: its whole February is used.
 */
export function compareWindows(now: number, tz: string): CompareWindows {
  // Seconds are the same in every zone in use; minutes past the hour are local (UTC+5:30 ...).
  const cutoff = now - ((zonedParts(now, tz).minute % 60) * 60_000 + (((now % 60_000) + 60_000) % 60_000));
  const p = zonedParts(cutoff, tz);
  const hour = Math.floor(p.minute / 60);
  const today = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
  const monday = periodOf(today, 'week');
  const lastMonday = addDays(monday, -7);
  const [ly, lm, ld] = ymd(addDays(lastMonday, p.weekday));
  const week: Comparison = {
    cur: { from: midnightOf(monday, tz), to: cutoff },
    prev: { from: midnightOf(lastMonday, tz), to: zonedToUtc(ly, lm, ld, hour, 0, tz) },
    days: p.weekday,
    hours: hour,
  };
  const y0 = p.year - 1;
  const first = `${p.year}-${String(p.month).padStart(2, '0')}-01`;
  const firstLast = `${y0}-${String(p.month).padStart(2, '0')}-01`;
  const prevEnd = p.day > daysInMonth(y0, p.month)
    ? midnightOf(addDays(firstLast, daysInMonth(y0, p.month)), tz)
    : zonedToUtc(y0, p.month, p.day, hour, 0, tz);
  const month: Comparison = {
    cur: { from: midnightOf(first, tz), to: cutoff },
    prev: { from: midnightOf(firstLast, tz), to: prevEnd },
    days: p.day - 1,
    hours: hour,
  };
  return { cutoff, week, month };
}

export interface HourlyEnergy {
  /** kWh per hourly bucket, by the bucket's start */
  kwh: Map<number, number>;
  estimated: Set<number>;
}

/**
 * kWh per hour from hourly buckets: a counter's delta (agg counter), or a
 * power point's time-weighted mean x 1 h (agg rate: an estimate, as in
 * enduse.ts).
 */
export function hourlyEnergy(h: History, source: EnergySource): HourlyEnergy {
  const kwh = new Map<number, number>();
  const estimated = new Set<number>();
  for (const b of h.buckets ?? []) {
    if (typeof b.value !== 'number' || !Number.isFinite(b.value)) continue;
    kwh.set(b.start, (kwh.get(b.start) ?? 0) + b.value); // power: kW x 1 h
    if (source === 'power' || (b.quality & QUALITY_ESTIMATED) !== 0) estimated.add(b.start);
  }
  return { kwh, estimated };
}

export interface WindowEnergy {
  kwh: number | null;
  /** hours with data */
  hours: number;
  estimated: boolean;
}

export function windowEnergy(h: HourlyEnergy, w: Window): WindowEnergy {
  let s = 0;
  let n = 0;
  let est = false;
  for (const [t, v] of h.kwh) {
    if (t < w.from || t >= w.to) continue;
    s += v;
    n++;
    if (h.estimated.has(t)) est = true;
  }
  return { kwh: n ? s : null, hours: n, estimated: est };
}

/** Whole hours in a window (DST days included: instants, not the clock). */
export function windowHours(w: Window): number {
  return Math.max(0, Math.round((w.to - w.from) / HOUR_MS));
}

export interface Change {
  diff: number | null;
  pct: number | null;
  words: string;
}

/** The current figure against the earlier one: difference, % and words ("12 % less"). */
export function change(cur: number | null, prev: number | null, locale?: string): Change {
  if (cur === null || prev === null) return { diff: null, pct: null, words: 'not comparable: data missing' };
  const diff = cur - prev;
  if (prev === 0) return { diff, pct: null, words: cur === 0 ? 'the same (none in either)' : 'more (none in the earlier period)' };
  const pct = (100 * diff) / Math.abs(prev);
  const r = Math.round(Math.abs(pct));
  if (r === 0) return { diff, pct, words: 'about the same' };
  const n = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(r);
  return { diff, pct, words: `${n} % ${pct < 0 ? 'less' : 'more'}` };
}

// ---- peak demand ------------------------------------------------------------------------

/** A 15-minute bucket span covers at most this many days (8 weeks and a bit: about 6000 buckets). */
export const PEAK_15M_MAX_DAYS = 62;

export type PeakSource = '15m' | '1d';

export function peakSource(r: DayRange): PeakSource {
  return daysFrom(r.start, r.end) + 1 <= PEAK_15M_MAX_DAYS ? '15m' : '1d';
}

export interface Peak {
  kw: number;
  /** the 15-minute interval's start; null when only the day is known (daily rollups) */
  at: number | null;
  day: string;
}

/**
 * The highest 15-minute mean power per period: from 15-minute buckets
 * (their rate mean) or from daily buckets' `peak`.  Only days of the range
 * count; on a tie the earlier interval is kept.
 */
export function peaksByPeriod(h: History, tz: string, g: Granularity, src: PeakSource, r: DayRange): Map<string, Peak> {
  const out = new Map<string, Peak>();
  // the local day is looked up once per day, not per bucket (6,000 buckets in 62 days)
  let day = '';
  let dayFrom = Infinity;
  let dayTo = -Infinity;
  for (const b of h.buckets ?? []) {
    const v = src === '15m' ? b.value : b.peak;
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (src === '1d') {
      day = dayKey(b.start, tz);
    } else if (b.start < dayFrom || b.start >= dayTo) {
      day = dayKey(b.start, tz);
      dayFrom = midnightOf(day, tz);
      dayTo = midnightOf(addDays(day, 1), tz);
    }
    if (day < r.start || day > r.end) continue;
    const p = periodOf(day, g);
    const best = out.get(p);
    if (!best || v > best.kw) out.set(p, { kw: v, at: src === '15m' ? b.start : null, day });
  }
  return out;
}
