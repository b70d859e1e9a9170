/** Turning API history answers into chart rows. */
import type { History } from '../api/types';
import type { ChartRow } from '../components/TimeSeriesChart';

/** (time, value) pairs of a history answer: samples, or bucket starts with their value. */
export function historyPairs(h: History): [number, number | null][] {
  if (h.samples) return h.samples.map((s) => [s.ts, s.value]);
  if (h.buckets) return h.buckets.map((b) => [b.start, b.value]);
  return [];
}

/**
 * Sum several histories bucket by bucket (main meters into building power).
 * A time where some series has no value gets the sum of those that have one;
 * a time where none has one is left out.
 */
export function sumHistories(list: readonly History[], key: string): ChartRow[] {
  const acc = new Map<number, number>();
  for (const h of list) {
    for (const [t, v] of historyPairs(h)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      acc.set(t, (acc.get(t) ?? 0) + v);
    }
  }
  return [...acc.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, [key]: v }) as ChartRow);
}

/** Several histories side by side on one time axis (zone charts with several series). */
export function mergeHistories(list: readonly { key: string; h: History }[]): ChartRow[] {
  const rows = new Map<number, ChartRow>();
  for (const { key, h } of list) {
    for (const [t, v] of historyPairs(h)) {
      let r = rows.get(t);
      if (!r) {
        r = { t } as ChartRow;
        rows.set(t, r);
      }
      r[key] = typeof v === 'number' && Number.isFinite(v) ? v : null;
    }
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

/** Append a live row, keeping time order and only what is inside [from, ∞). */
export function appendLive(rows: readonly ChartRow[], row: ChartRow, from: number, max = 5000): ChartRow[] {
  const last = rows[rows.length - 1];
  if (last && row.t < last.t) return rows as ChartRow[];
  const next = last && row.t === last.t ? [...rows.slice(0, -1), row] : [...rows, row];
  let start = 0;
  while (start < next.length && (next[start] as ChartRow).t < from) start++;
  if (next.length - start > max) start = next.length - max;
  return start ? next.slice(start) : next;
}
