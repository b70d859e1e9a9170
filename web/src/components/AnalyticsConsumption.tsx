/**
 * Consumption by period and end use: one history request per meter per
 * range change (daily counter buckets, aligned by the server to local
 * midnight; hourly power means for a meter without an energy counter), then
 * days, weeks and months are assembled here, so changing the granularity
 * asks the server nothing.  End uses and "Other / unmetered" follow
 * enduse.ts: the sub-meters of each main meter, and the main meter minus
 * them.
 */
import { useMemo } from 'react';
import { useClient } from '../auth/AuthContext';
import type { Point } from '../api/types';
import { assemble, daysInRange, daysOf, periodLabel, periodLength, periodsOf, rangeWindow } from '../lib/analytics';
import type { DayRange, Granularity } from '../lib/analytics';
import { dailyFromCounter, dailyFromPower, flatten, splitEndUses } from '../lib/enduse';
import type { DailyEnergy, EndUseRow, EndUseSplit, MeterNode } from '../lib/enduse';
import { usePrefs } from '../lib/prefs';
import { displayUnit, energyDigits, formatMeasure } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { AnalyticsConsumptionChart } from './AnalyticsConsumptionChart';
import { ErrorBox, Loading, ScrollRegion } from './ui';

const G_WORD: Record<Granularity, string> = { day: 'day', week: 'week', month: 'month' };

/** The table's columns: end uses (nested ones as "of which"), other, and per-main subtotals when there are several. */
function columns(split: EndUseSplit, mains: number): { row: EndUseRow; label: string }[] {
  const out: { row: EndUseRow; label: string }[] = [];
  let main: EndUseRow | null = null;
  const flush = () => {
    if (main && mains > 1) out.push({ row: main, label: `Subtotal: ${main.name}` });
  };
  for (const r of split.rows) {
    if (r.kind === 'main') {
      flush();
      main = r;
      // a main meter without sub-meters is its own (unsplit) end use
      if (mains === 1 && split.stacked.includes(r)) out.push({ row: r, label: r.name });
      continue;
    }
    out.push({ row: r, label: r.depth > 1 ? `of which ${r.name}` : r.name });
  }
  flush();
  return out;
}

function Notes({ split, periods, g }: { split: EndUseSplit; periods: readonly string[]; g: Granularity }) {
  const { units } = usePrefs();
  const notes: string[] = [];
  for (const r of split.rows) {
    if (r.kind !== 'other') continue;
    if (r.clampedDays.length) {
      notes.push(`Metering error: the sub-meters read ${formatMeasure(r.excess, 'kWh', units, undefined, energyDigits(units))} more than their main meter in ${r.clampedDays.map((p) => periodLabel(p, g)).join(', ')}; "Other / unmetered" is shown as 0 there.`);
    }
    if (r.missing.length) {
      notes.push(`"Other / unmetered" is unknown in periods where ${r.missing.join(', ')} has no data.`);
    }
  }
  if (notes.length === 0 || periods.length === 0) return null;
  return (
    <ul className="mb-3 space-y-1 rounded-md border border-amber-400 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
      {notes.map((n) => <li key={n}>{n}</li>)}
    </ul>
  );
}

export interface ConsumptionProps {
  tz: string;
  trees: MeterNode[];
  range: DayRange;
  granularity: Granularity;
}

export function AnalyticsConsumption({ tz, trees, range, granularity: g }: ConsumptionProps) {
  const client = useClient();
  const { units } = usePrefs();
  const meters = useMemo(() => flatten(trees).filter((n) => n.point), [trees]);
  const key = meters.map((m) => `${m.id}=${m.point?.id}`).join(',');
  const data = useAsync(async (signal) => {
    const w = rangeWindow(range, tz, Date.now());
    const list = await Promise.all(meters.map(async (m): Promise<[string, DailyEnergy]> => {
      const slug = (m.point as Point).id;
      if (m.source === 'energy') {
        return [m.id, dailyFromCounter(await client.history(slug, { ...w, resolution: '1d', agg: 'counter' }, signal), tz)];
      }
      return [m.id, dailyFromPower(await client.history(slug, { ...w, resolution: '1h', agg: 'rate' }, signal), tz, w.to)];
    }));
    return { w, daily: new Map(list) };
  }, [key, tz, range.start, range.end]);

  const view = useMemo(() => {
    if (!data.data) return null;
    const days = daysOf(range);
    const periods = periodsOf(range, g);
    const perMeter = new Map([...data.data.daily].map(([id, d]) => [id, assemble(d, days, g)]));
    return { periods, perMeter, split: splitEndUses(trees, perMeter, periods) };
  }, [data.data, range, g, trees]);

  if (meters.length === 0) return <p className="muted card text-sm">No meter with an energy or power point in this building.</p>;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!view || !data.data) return <Loading label="Loading consumption…" />;
  const { periods, perMeter, split } = view;
  const cols = columns(split, trees.length);
  const unit = displayUnit('kWh', units);
  const kwh = (v: number | null | undefined) => formatMeasure(v ?? null, 'kWh', units, undefined, energyDigits(units));
  // a derived "other" is as estimated as the meters it comes from
  const estimated = (r: EndUseRow, p: string) => {
    if (r.meter) return perMeter.get(r.meter)?.estimated.has(p) ?? false;
    const main = trees.find((t) => r.key === `other:${t.id}`);
    return !!main && [main, ...main.children].some((m) => perMeter.get(m.id)?.estimated.has(p));
  };
  const powerOnly = meters.filter((m) => m.source === 'power');
  const mainKnown = (p: string) => Math.max(0, ...trees.map((t) => perMeter.get(t.id)?.known.get(p) ?? 0));
  const title = `Energy per ${G_WORD[g]} by end use`;

  return (
    <>
      <p className="muted mb-2 text-sm">
        Local days in {tz}; today counts up to now. Weeks run Monday to Sunday and, like months, are sums of
        the server's daily buckets (a week with a clock change is still seven local days).
        Energy comes from each meter's energy counter
        {powerOnly.length > 0 ? `; ${powerOnly.map((m) => m.name).join(', ')} ${powerOnly.length > 1 ? 'have' : 'has'} none and ${powerOnly.length > 1 ? 'are' : 'is'} estimated from hourly power means × hours (marked "est.")` : ''}.
        "Other / unmetered" is the main meter minus its sub-meters; "of which" columns are part of the column before them and not counted again.
      </p>
      <Notes split={split} periods={periods} g={g} />
      <div className="grid gap-4 2xl:grid-cols-2">
        <AnalyticsConsumptionChart title={title} periods={periods} granularity={g} stacked={split.stacked}
                                   totals={split.totalByDay} from={data.data.w.from} to={data.data.w.to}
                                   exportSpec={{ points: meters.map((m) => (m.point as Point).id), resolution: g === 'month' ? '1mo' : '1d' }} />
        <ScrollRegion label={`${title}, table`} className="card min-w-0 overflow-x-auto p-0 sm:p-4">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">{title}, in {unit}</caption>
            <thead className="muted text-xs">
              <tr>
                <th scope="col" className="py-2 pr-3">{g === 'day' ? 'Day' : g === 'week' ? 'Week' : 'Month'}</th>
                {cols.map((c) => <th key={c.row.key} scope="col" className="py-2 pr-3 text-right">{c.label}</th>)}
                <th scope="col" className="py-2 pr-3 text-right">Total</th>
              </tr>
            </thead>
            <tbody>
              {periods.map((p, i) => {
                const inRange = daysInRange(p, g, range);
                const known = mainKnown(p);
                return (
                  <tr key={p} className="border-t border-slate-200 dark:border-slate-700">
                    <th scope="row" className="whitespace-nowrap py-2 pr-3 font-medium">
                      {periodLabel(p, g)}
                      {g !== 'day' && inRange < periodLength(p, g) && <span className="muted block text-xs font-normal">{inRange} of {periodLength(p, g)} days</span>}
                      {known > 0 && known < inRange && <span className="muted block text-xs font-normal">data on {known} of {inRange} days</span>}
                    </th>
                    {cols.map((c) => (
                      <td key={c.row.key} className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">
                        {kwh(c.row.byDay[i])}
                        {c.row.byDay[i] !== null && c.row.byDay[i] !== undefined && estimated(c.row, p) && <span className="muted text-xs"> est.</span>}
                      </td>
                    ))}
                    <td className="whitespace-nowrap py-2 pr-3 text-right font-semibold tabular-nums">{kwh(split.totalByDay[i])}</td>
                  </tr>
                );
              })}
            </tbody>
            <tfoot>
              <tr className="border-t-2 border-slate-400 font-semibold dark:border-slate-500">
                <th scope="row" className="py-2 pr-3">Whole range</th>
                {cols.map((c) => <td key={c.row.key} className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{kwh(c.row.period)}</td>)}
                <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{kwh(split.totalPeriod)}</td>
              </tr>
            </tfoot>
          </table>
        </ScrollRegion>
      </div>
    </>
  );
}
