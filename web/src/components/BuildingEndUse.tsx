/**
 * Energy by end use: today and the last 7 local days of the building, per
 * sub-meter of each main meter, with "Other / unmetered" as the rest.  One
 * history request per meter on load and every 15 minutes (daily counter
 * buckets, or hourly power means for a meter without an energy counter).
 */
import { useEffect, useMemo } from 'react';
import { useClient } from '../auth/AuthContext';
import type { Equipment, Point } from '../api/types';
import { dailyFromCounter, dailyFromPower, dayLabel, flatten, lastDays, meterTree, splitEndUses } from '../lib/enduse';
import type { DailyEnergy, EndUseRow, EndUseSplit, MeterNode } from '../lib/enduse';
import { usePrefs } from '../lib/prefs';
import { displayUnit, energyDigits, formatMeasure, formatNumber } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { BuildingEndUseChart } from './BuildingEndUseChart';
import { ErrorBox, Loading, ScrollRegion } from './ui';

const DAYS = 7;
const REFRESH_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

const SOURCE_TEXT: Record<EndUseRow['source'], string> = {
  energy: 'energy counter',
  power: 'estimate: power mean × hours',
  difference: 'main meter − sub-meters',
  none: 'no energy or power point',
};

function Share({ v }: { v: number | null }) {
  return <>{v === null ? '—' : `${formatNumber(v, 1)} %`}</>;
}

function Row({ r, ndays, label }: { r: EndUseRow; ndays: number; label?: string }) {
  const { units } = usePrefs();
  const kwh = (v: number | null) => formatMeasure(v, 'kWh', units, undefined, energyDigits(units));
  const total = r.kind === 'main';
  return (
    <tr className={`border-t border-slate-200 dark:border-slate-700 ${total ? 'font-semibold' : ''}`}>
      <th scope="row" className="py-2 pr-3 text-left font-medium" style={{ paddingLeft: `${Math.max(0, r.depth - 1) * 1.25}rem` }}>
        {r.depth > 1 && <><span aria-hidden="true">↳ </span><span className="sr-only">of which </span></>}
        {label ?? r.name}
      </th>
      <td className="muted py-2 pr-3 text-xs">
        {SOURCE_TEXT[r.source]}
        {r.estimated && r.source === 'energy' ? ' (a meter reset: estimated)' : ''}
      </td>
      <td className="py-2 pr-3 text-right tabular-nums">{kwh(r.today)}</td>
      <td className="py-2 pr-3 text-right tabular-nums"><Share v={r.shareToday} /></td>
      <td className="py-2 pr-3 text-right tabular-nums">
        {kwh(r.period)}
        {r.period !== null && r.knownDays < ndays && <span className="muted block text-xs font-normal">{r.knownDays} of {ndays} days</span>}
      </td>
      <td className="py-2 pr-3 text-right tabular-nums"><Share v={r.sharePeriod} /></td>
    </tr>
  );
}

/** Metering errors and gaps, in words. */
function Notes({ split, mains }: { split: EndUseSplit; mains: MeterNode[] }) {
  const { units } = usePrefs();
  const notes: string[] = [];
  for (const r of split.rows) {
    if (r.kind !== 'other') continue;
    const main = mains.find((m) => r.key === `other:${m.id}`);
    if (r.clampedDays.length) {
      notes.push(`Metering error: the sub-meters of ${main?.name ?? 'the main meter'} read ${formatMeasure(r.excess, 'kWh', units, undefined, energyDigits(units))} more than it on ${r.clampedDays.map((d) => dayLabel(d)).join(', ')}; "Other / unmetered" is shown as 0 there.`);
    }
    if (r.missing.length) {
      notes.push(`"Other / unmetered" is unknown on days where ${r.missing.join(', ')} has no data.`);
    }
  }
  if (notes.length === 0) return null;
  return (
    <ul className="mb-3 space-y-1 rounded-md border border-amber-400 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
      {notes.map((n) => <li key={n}>{n}</li>)}
    </ul>
  );
}

export function BuildingEndUse({ building, tz, equipment, points }: { building: string; tz: string; equipment: Equipment[]; points: Point[] }) {
  const client = useClient();
  const { units } = usePrefs();
  const trees = useMemo(() => meterTree(building, equipment, points), [building, equipment, points]);
  const meters = useMemo(() => flatten(trees).filter((n) => n.point), [trees]);
  const key = meters.map((m) => `${m.id}=${m.point?.id}`).join(',');
  const data = useAsync(async (signal) => {
    const to = Date.now();
    // a week back reaches before the local midnight 6 days ago whatever DST does
    const from = to - DAYS * DAY_MS;
    const list = await Promise.all(meters.map(async (m): Promise<[string, DailyEnergy]> => {
      const slug = (m.point as Point).id;
      if (m.source === 'energy') {
        return [m.id, dailyFromCounter(await client.history(slug, { from, to, resolution: '1d', agg: 'counter' }, signal), tz)];
      }
      return [m.id, dailyFromPower(await client.history(slug, { from, to, resolution: '1h', agg: 'rate' }, signal), tz, to)];
    }));
    return { from, to, days: lastDays(to, tz, DAYS), values: new Map(list) };
  }, [building, key, tz]);
  useEffect(() => {
    const h = setInterval(data.reload, REFRESH_MS);
    return () => clearInterval(h);
  }, [data.reload]);
  const split = useMemo(() => (data.data ? splitEndUses(trees, data.data.values, data.data.days) : null), [data.data, trees]);

  if (trees.length === 0) return <p className="muted card text-sm">No main meter in this building.</p>;
  if (data.error && !split) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!split || !data.data) return <Loading label="Loading energy by end use…" />;
  const { days } = split;
  const first = days[0] ?? '';
  const today = days[days.length - 1] ?? '';
  const powerOnly = meters.filter((m) => m.source === 'power');
  const groups: EndUseRow[][] = [];
  for (const r of split.rows) {
    if (r.kind === 'main') groups.push([]);
    groups[groups.length - 1]?.push(r);
  }
  return (
    <>
      <p className="muted mb-2 text-sm">
        Today ({dayLabel(today)}) and the last {DAYS} days ({dayLabel(first)} – {dayLabel(today)}), local days in {tz}.
        Energy comes from each meter's energy counter{powerOnly.length > 0 ? `; ${powerOnly.map((m) => m.name).join(', ')} ${powerOnly.length > 1 ? 'have' : 'has'} no energy counter and ${powerOnly.length > 1 ? 'are' : 'is'} estimated from hourly power means × hours` : ''}.
        Shares are of the building total; indented meters are part of the meter above them and not counted again.
      </p>
      {data.error ? <div className="mb-2"><ErrorBox error={data.error} onRetry={data.reload} /></div> : null}
      <Notes split={split} mains={trees} />
      <div className="grid gap-4 xl:grid-cols-2">
        <BuildingEndUseChart title={`Energy by end use, last ${DAYS} days`} days={days} stacked={split.stacked}
                             totalByDay={split.totalByDay} from={data.data.from} to={data.data.to}
                             exportSpec={{ points: meters.map((m) => (m.point as Point).id), resolution: '1d' }} />
        <ScrollRegion label="Energy by end use table" className="card min-w-0 p-0 sm:p-4 overflow-x-auto">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">Energy by end use, today and the last {DAYS} days, in {displayUnit('kWh', units)}</caption>
            <thead className="muted text-xs uppercase">
              <tr>
                <th scope="col" className="py-2 pr-3">End use</th>
                <th scope="col" className="py-2 pr-3">Source</th>
                <th scope="col" className="py-2 pr-3 text-right">Today</th>
                <th scope="col" className="py-2 pr-3 text-right">Share</th>
                <th scope="col" className="py-2 pr-3 text-right">{DAYS} days</th>
                <th scope="col" className="py-2 pr-3 text-right">Share</th>
              </tr>
            </thead>
            {groups.map((g) => {
              const [main, ...rest] = g as [EndUseRow, ...EndUseRow[]];
              return (
                <tbody key={main.key}>
                  {rest.map((r) => <Row key={r.key} r={r} ndays={days.length} />)}
                  <Row r={main} ndays={days.length} label={rest.length ? `Total: ${main.name}` : main.name} />
                </tbody>
              );
            })}
            {groups.length > 1 && (
              <tfoot>
                <tr className="border-t-2 border-slate-400 font-semibold dark:border-slate-500">
                  <th scope="row" className="py-2 pr-3 text-left">Building total</th>
                  <td className="muted py-2 pr-3 text-xs">sum of the main meters</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{formatMeasure(split.totalToday, 'kWh', units, undefined, energyDigits(units))}</td>
                  <td className="py-2 pr-3 text-right">{split.totalToday !== null ? '100 %' : '—'}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{formatMeasure(split.totalPeriod, 'kWh', units, undefined, energyDigits(units))}</td>
                  <td className="py-2 pr-3 text-right">{split.totalPeriod !== null ? '100 %' : '—'}</td>
                </tr>
              </tfoot>
            )}
          </table>
        </ScrollRegion>
      </div>
    </>
  );
}
