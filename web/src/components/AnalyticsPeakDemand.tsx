/**
 * Peak demand: each main meter's highest 15-minute mean power per day, week
 * or month, and when it happened (local time).  One history request per main
 * meter per range change: 15-minute buckets (agg rate: each bucket's
 * time-weighted mean) for ranges up to PEAK_15M_MAX_DAYS days, else daily
 * buckets, whose `peak` the server keeps as the day's highest 15-minute
 * mean — the value is exact, the time of day is not in a daily rollup.
 */
import { useMemo } from 'react';
import { useClient } from '../auth/AuthContext';
import type { Point } from '../api/types';
import { PEAK_15M_MAX_DAYS, peakSource, peaksByPeriod, periodLabel, periodsOf, rangeWindow } from '../lib/analytics';
import type { DayRange, Granularity, Peak } from '../lib/analytics';
import { dayLabel } from '../lib/enduse';
import { usePrefs } from '../lib/prefs';
import { safeZone } from '../lib/time';
import { digitsFor, displayUnit, formatMeasure } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { ExportMenu } from './ExportMenu';
import { ErrorBox, Loading, ScrollRegion } from './ui';

const QUARTER_MS = 15 * 60_000;

/** "Tue, Nov 24, 14:15–14:30 EST", or the day only when the time is not known. */
export function peakWhen(p: Peak, tz: string, locale?: string): string {
  if (p.at === null) return `${dayLabel(p.day, locale)} (time of day not known)`;
  const zone = safeZone(tz);
  const day = new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', timeZone: zone }).format(p.at);
  const t = (ms: number, name: boolean) => new Intl.DateTimeFormat(locale, {
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone, ...(name ? { timeZoneName: 'short' } : {}),
  }).format(ms);
  return `${day}, ${t(p.at, false)}–${t(p.at + QUARTER_MS, true)}`;
}

export interface PeakProps {
  tz: string;
  /** each main meter's power point, with the meter's name */
  mains: { point: Point; meter: string }[];
  range: DayRange;
  granularity: Granularity;
}

export function AnalyticsPeakDemand({ tz, mains, range, granularity: g }: PeakProps) {
  const client = useClient();
  const { units } = usePrefs();
  const src = peakSource(range);
  const slugs = mains.map((m) => m.point.id).join(',');
  const data = useAsync(async (signal) => {
    const w = rangeWindow(range, tz, Date.now());
    const list = await Promise.all(mains.map((m) => client.history(m.point.id, { ...w, resolution: src, agg: 'rate' }, signal)));
    return { w, list };
  }, [slugs, tz, range.start, range.end, src]);
  const peaks = useMemo(
    () => (data.data ? data.data.list.map((h) => peaksByPeriod(h, tz, g, src, range)) : []),
    [data.data, tz, g, src, range],
  );

  if (mains.length === 0) return <p className="muted card text-sm">No main meter with a power point in this building.</p>;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading peak demand…" />;
  const periods = periodsOf(range, g);
  const unit = displayUnit('kW', units);
  const kw = (v: number) => formatMeasure(v, 'kW', units, undefined, digitsFor(unit));
  const { w } = data.data;
  return (
    <>
      <p className="muted mb-2 text-sm">
        The highest 15-minute average power of the main meter in each {g}: what utilities bill as demand charges
        (for the billing period, which need not follow calendar months, on the utility's own meter).
        {src === '1d' && ` For ranges over ${PEAK_15M_MAX_DAYS} days the day of each peak is shown but not its time: the server's daily rollups keep the day's highest 15-minute mean, not when it occurred. Pick a range of ${PEAK_15M_MAX_DAYS} days or less to see the time.`}
      </p>
      <div className="grid gap-4 xl:grid-cols-2">
        {mains.map((m, i) => {
          const mp = peaks[i] ?? new Map<string, Peak>();
          let top: Peak | null = null;
          for (const p of mp.values()) if (!top || p.kw > top.kw) top = p;
          const title = `Peak demand: ${m.meter}`;
          return (
            <section key={m.point.id} className="card min-w-0" aria-label={title}>
              <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
                <h3 className="font-semibold">{title}</h3>
                <ExportMenu spec={{ points: [m.point.id], resolution: src }} from={w.from} to={w.to} title={title} />
              </div>
              <p className="mb-2 text-sm">
                {top ? <>Highest in the range: <strong className="tabular-nums">{kw(top.kw)}</strong>, {peakWhen(top, tz)}.</> : 'No power data in this range.'}
              </p>
              <ScrollRegion label={`${title}, table`} className="overflow-x-auto">
                <table className="min-w-full text-left text-sm">
                  <caption className="sr-only">{title}, highest 15-minute mean per {g}, in {unit}</caption>
                  <thead className="muted text-xs">
                    <tr>
                      <th scope="col" className="py-2 pr-3">{g === 'day' ? 'Day' : g === 'week' ? 'Week' : 'Month'}</th>
                      <th scope="col" className="py-2 pr-3 text-right">Peak demand</th>
                      <th scope="col" className="py-2 pr-3">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {periods.map((p) => {
                      const pk = mp.get(p);
                      return (
                        <tr key={p} className="border-t border-slate-200 dark:border-slate-700">
                          <th scope="row" className="whitespace-nowrap py-2 pr-3 font-medium">{periodLabel(p, g)}</th>
                          <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{pk ? kw(pk.kw) : '—'}</td>
                          <td className="py-2 pr-3">{pk ? peakWhen(pk, tz) : 'no data'}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </ScrollRegion>
            </section>
          );
        })}
      </div>
    </>
  );
}
