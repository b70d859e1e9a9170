/**
 * A load forecaster's training report in words (analytics/forecast.c
 * report_obj): the backtest scores of the chosen model per horizon bucket,
 * the interval's coverage, and the window it learned from.
 */
import { pct } from '../api/analytics';
import type { ForecastReport } from '../api/analytics';

/** "a day ahead (7–24 h)" for a horizon bucket. */
export function horizonWords([lo, hi]: [number, number]): string {
  const ahead: Record<number, string> = { 24: 'a day ahead', 48: 'two days ahead', 72: 'three days ahead' };
  return ahead[hi] && lo > 1 ? `${ahead[hi]} (${lo}–${hi} h)` : `in the next ${hi} hours`;
}

export interface BacktestWords {
  /** "typically within 4.8 % (CV(RMSE)) a day ahead (7–24 h)", one per bucket */
  buckets: string[];
  /** "its 90 % interval held 90.1 % of the hours tested" */
  coverage: string | null;
}

/** The chosen model's backtest in words; null when the report has no scores for it. */
export function backtestWords(r: ForecastReport): BacktestWords | null {
  const scores = r.models[r.chosen];
  if (!scores || scores.length === 0) return null;
  const buckets = r.buckets.flatMap((b, i) => {
    const s = scores[i];
    return s && s.n > 0 && s.cvrmse !== null ? [`typically within ${pct(s.cvrmse)} (CV(RMSE)) ${horizonWords(b)}`] : [];
  });
  const all = scores[r.buckets.length];
  const coverage = all && all.n > 0 && all.coverage !== null
    ? `its ${pct(r.level, 0)} interval held ${pct(all.coverage)} of the ${new Intl.NumberFormat().format(all.n)} hours tested`
    : null;
  return buckets.length || coverage ? { buckets, coverage } : null;
}

/** "Oct 29, 2024" from UTC seconds, as a date in the building's zone. */
export function dateOf(utcSeconds: number, tz: string): string {
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: tz }).format(utcSeconds * 1000);
}

/** The training window and the cleaning, in one sentence. */
export function trainingWords(r: ForecastReport, tz: string): string | null {
  if (!r.train_start_utc || !r.train_end_utc) return null;
  const s = r.sufficiency;
  const nf = new Intl.NumberFormat();
  const removed = r.clean.n - r.clean.kept;
  return `Learned from ${dateOf(r.train_start_utc, tz)} to ${dateOf(r.train_end_utc, tz)}: ${nf.format(s.days_ok)} of ${nf.format(s.days_total)} days usable` +
    (removed > 0 ? `, ${nf.format(removed)} hours left out as missing or suspect` : '') + '.';
}
