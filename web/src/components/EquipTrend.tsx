/**
 * Trends of up to four chosen points over 6 h, 24 h or 7 days: history
 * (GET /points/{p}/history, 1-minute means up to a day, 15-minute beyond:
 * resolutionFor) continued by live readings, one chart per display unit so
 * different units never share an axis (unitless points get a chart each).
 *
 * Several points on one axis need one row per time with every series in
 * it, but points are polled at different rates (60 s, 300 s, pushed), so a
 * series' value holds until its next reading, for at most three of its
 * poll intervals (or two buckets): a longer silence stays a gap.  Live
 * readings go into the bucket of their minute (or quarter hour), newest
 * wins, so they line up with the history.
 */
import { useEffect, useMemo, useState } from 'react';
import type { EqPoint } from '../api/equipment';
import { readingUnit } from '../api/equipment';
import type { Resolution } from '../api/types';
import { useClient } from '../auth/AuthContext';
import { useLive, useNow } from '../live/LiveContext';
import { pollIntervalMs } from '../live/store';
import { resolutionFor } from '../live/useLiveSeries';
import { usePrefs } from '../lib/prefs';
import { historyPairs } from '../lib/series';
import { digitsFor, displayUnit, toDisplay } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { digitsOf } from './EquipValue';
import { TimeSeriesChart } from './TimeSeriesChart';
import type { ChartRow } from './TimeSeriesChart';
import { ErrorBox, Loading } from './ui';

export const TREND_MAX = 4;

export const TREND_RANGES = [
  { label: '6 h', ms: 6 * 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
];

/** Colours by the point's place in the choice, readable on both themes. */
const COLORS = ['#dc2626', '#2563eb', '#0d9488', '#7c3aed'];

const RES_MS: Partial<Record<Resolution, number>> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };

type Pair = [number, number | null];

/** Series side by side on one time axis, each value held for at most its fillMs (see the file comment). */
export function mergeFilled(series: readonly { key: string; pairs: readonly Pair[]; fillMs: number }[]): ChartRow[] {
  const times = [...new Set(series.flatMap((s) => s.pairs.map((p) => p[0])))].sort((a, b) => a - b);
  const at = series.map(() => 0);
  const last: (Pair | null)[] = series.map(() => null);
  return times.map((t) => {
    const row = { t } as ChartRow;
    series.forEach((s, i) => {
      let j = at[i] ?? 0;
      for (let p = s.pairs[j]; p && p[0] <= t; p = s.pairs[++j]) last[i] = p;
      at[i] = j;
      const l = last[i];
      row[s.key] = l && typeof l[1] === 'number' && Number.isFinite(l[1]) && t - l[0] <= s.fillMs ? l[1] : null;
    });
    return row;
  });
}

/** A live reading into its bucket (newest wins), dropping what is older than from. */
export function appendBucketed(pairs: readonly Pair[], t: number, v: number, resMs: number, from: number): Pair[] {
  const b = Math.floor(t / resMs) * resMs;
  const last = pairs[pairs.length - 1];
  if (last && b < last[0]) return pairs as Pair[];
  const next: Pair[] = last && last[0] === b ? [...pairs.slice(0, -1), [b, v]] : [...pairs, [b, v]];
  const start = next.findIndex((p) => p[0] >= from);
  return start > 0 ? next.slice(start) : next;
}

function fillFor(p: EqPoint, resMs: number): number {
  return Math.max(2 * resMs, 3 * (pollIntervalMs(p) ?? 5 * 60_000));
}

function TrendChart({ points, colors, rangeMs, tz }: { points: EqPoint[]; colors: string[]; rangeMs: number; tz: string }) {
  const client = useClient();
  const { store } = useLive();
  const { units } = usePrefs();
  const res = resolutionFor(rangeMs);
  const resMs = RES_MS[res] ?? 60_000;
  const slugKey = points.map((p) => p.id).join(',');
  const hist = useAsync(async (signal) => {
    const to = Date.now();
    const list = await Promise.all(points.map((p) => client.history(p.id, { from: to - rangeMs, to, resolution: res }, signal)));
    return Object.fromEntries(points.map((p, i) => [p.id, list[i] ? historyPairs(list[i]) : []]));
  }, [slugKey, rangeMs]);
  const [pairs, setPairs] = useState<Record<string, Pair[]>>({});
  useEffect(() => setPairs(hist.data ?? {}), [hist.data]);

  const idKey = points.map((p) => `${p.point_id ?? ''}=${p.id}`).join(',');
  useEffect(() => {
    const watched = new Map<number, string>();
    for (const x of idKey.split(',')) {
      const [id, slug] = x.split('=');
      if (id && slug) watched.set(Number(id), slug);
    }
    return store.subscribeBatch((changed) => {
      const hits = [...changed].filter((id) => watched.has(id));
      if (hits.length === 0) return;
      setPairs((cur) => {
        const next = { ...cur };
        for (const id of hits) {
          const slug = watched.get(id) as string;
          const r = store.get(id);
          const have = next[slug];
          if (r && have) next[slug] = appendBucketed(have, r.t, r.v, resMs, Date.now() - rangeMs);
        }
        return next;
      });
    });
  }, [store, idKey, resMs, rangeMs]);

  const now = useNow(30_000);
  const first = points[0];
  const shown = first ? displayUnit(readingUnit(first), units) : '';
  const rows = useMemo(() => mergeFilled(points.map((p, i) => {
    const unit = readingUnit(p);
    const conv = (v: number | null): number | null => (typeof v === 'number' && unit ? toDisplay(v, unit, units).value : v);
    return { key: `p${i}`, pairs: (pairs[p.id] ?? []).map(([t, v]): Pair => [t, conv(v)]), fillMs: fillFor(p, resMs) };
  })), [pairs, slugKey, units, resMs]); // points change exactly when slugKey does

  const title = points.map((p) => p.name).join(', ');
  if (hist.error) return <ErrorBox error={hist.error} onRetry={hist.reload} />;
  if (hist.loading && rows.length === 0) return <Loading label={`Loading ${title}…`} />;
  return (
    <TimeSeriesChart title={title} data={rows} unit={shown || 'state'} tz={tz} from={now - rangeMs} to={now}
                     series={points.map((p, i) => ({ key: `p${i}`, name: p.name, color: colors[i] ?? '#475569' }))}
                     digits={digitsOf(shown) ?? digitsFor(shown)} height={220}
                     exportSpec={{ points: points.map((p) => p.id), resolution: res }} />
  );
}

/** The chosen points' charts, grouped by the unit they are shown in. */
export function EquipTrend({ points, tz }: { points: readonly EqPoint[]; tz: string }) {
  const { units } = usePrefs();
  const [range, setRange] = useState(TREND_RANGES[0]?.ms ?? 6 * 3_600_000);
  const groups = new Map<string, { points: EqPoint[]; colors: string[] }>();
  points.forEach((p, i) => {
    const unit = displayUnit(readingUnit(p), units);
    const key = unit || `state:${p.id}`;
    const g = groups.get(key) ?? { points: [], colors: [] };
    g.points.push(p);
    g.colors.push(COLORS[i % COLORS.length] as string);
    groups.set(key, g);
  });
  return (
    <section aria-labelledby="trend-h" className="mb-6">
      <div className="mb-2 flex flex-wrap items-center gap-3">
        <h2 id="trend-h" className="text-lg font-semibold">Trend</h2>
        <div role="group" aria-label="Trend period" className="flex gap-2">
          {TREND_RANGES.map((r) => (
            <button key={r.ms} type="button" aria-pressed={range === r.ms} onClick={() => setRange(r.ms)}
                    className={range === r.ms ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}>
              {r.label}
            </button>
          ))}
        </div>
      </div>
      {points.length === 0 ? (
        <p className="muted text-sm">Choose up to {TREND_MAX} points in the Trend column of the points table.</p>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          {[...groups.entries()].map(([key, g]) => (
            <TrendChart key={`${key}|${g.points.map((p) => p.id).join(',')}`} points={g.points} colors={g.colors} rangeMs={range} tz={tz} />
          ))}
        </div>
      )}
    </section>
  );
}
