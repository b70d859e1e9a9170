/**
 * This week against last week and this month against the same month last
 * year, per end use and in total, like-for-like: both periods up to the
 * same elapsed local days and hours (the current one up to the start of the
 * running hour).  The month is compared with the same month a year before,
 * not the previous month, because a month's energy follows the season
 * (heating, cooling, daylight): November against October mostly measures
 * the weather.
 *
 * Requests, once per page load: per meter one hourly history covering last
 * week and this month, and one covering the same part of the month a year
 * earlier.
 */
import { useMemo } from 'react';
import { useClient } from '../auth/AuthContext';
import type { Point } from '../api/types';
import { change, compareWindows, hourlyEnergy, windowEnergy, windowHours } from '../lib/analytics';
import type { Comparison, HourlyEnergy, Window } from '../lib/analytics';
import { flatten, splitEndUses } from '../lib/enduse';
import type { DailyEnergy, EndUseRow, MeterNode } from '../lib/enduse';
import { usePrefs } from '../lib/prefs';
import { safeZone } from '../lib/time';
import { displayUnit, energyDigits, formatMeasure } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { ErrorBox, Loading, ScrollRegion } from './ui';

function when(ms: number, tz: string, year: boolean): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'short', month: 'short', day: 'numeric', ...(year ? { year: 'numeric' } : {}),
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: safeZone(tz),
  }).format(ms);
}

function span(w: Window, tz: string, year: boolean): string {
  return `${when(w.from, tz, year)} – ${when(w.to, tz, year)}`;
}

function elapsed(c: Comparison): string {
  const d = c.days === 1 ? '1 day' : `${c.days} days`;
  const h = c.hours === 1 ? '1 hour' : `${c.hours} hours`;
  return c.days ? `${d} ${h}` : h;
}

function merge(a: HourlyEnergy, b: HourlyEnergy | null): HourlyEnergy {
  if (!b) return a;
  return { kwh: new Map([...a.kwh, ...b.kwh]), estimated: new Set([...a.estimated, ...b.estimated]) };
}

interface Side {
  title: string;
  curLabel: string;
  prevLabel: string;
  /** "this week", "last week": for notes */
  curIn: string;
  prevIn: string;
  c: Comparison;
  year: boolean;
}

function Table({ side, trees, hourly, tz }: { side: Side; trees: MeterNode[]; hourly: Map<string, HourlyEnergy>; tz: string }) {
  const { units } = usePrefs();
  const { c } = side;
  const data = new Map<string, DailyEnergy>();
  const gaps = new Map<string, string[]>(); // what is missing -> the meters it is missing from
  const gap = (what: string, meter: string) => gaps.set(what, [...(gaps.get(what) ?? []), meter]);
  let meters = 0;
  for (const m of flatten(trees)) {
    const h = hourly.get(m.id);
    if (!h) continue;
    meters++;
    const cur = windowEnergy(h, c.cur);
    const prev = windowEnergy(h, c.prev);
    const d: DailyEnergy = { days: new Map(), estimated: new Set() };
    if (cur.kwh !== null) d.days.set('cur', cur.kwh);
    if (prev.kwh !== null) d.days.set('prev', prev.kwh);
    if (cur.estimated) d.estimated.add('cur');
    if (prev.estimated) d.estimated.add('prev');
    data.set(m.id, d);
    const [nc, np] = [windowHours(c.cur), windowHours(c.prev)];
    if (prev.hours === 0) gap(`no data for ${side.prevIn}`, m.name);
    else if (prev.hours < np) gap(`data for ${prev.hours} of ${np} hours of ${side.prevIn}`, m.name);
    if (cur.hours === 0) gap(`no data for ${side.curIn}`, m.name);
    else if (cur.hours < nc) gap(`data for ${cur.hours} of ${nc} hours of ${side.curIn}`, m.name);
  }
  // one line for what every meter lacks (a history shorter than a year), else one per meter
  const notes = [...gaps].flatMap(([what, who]) =>
    who.length === meters && meters > 1 ? [`Every meter: ${what}.`] : who.map((n) => `${n}: ${what}.`));
  const split = splitEndUses(trees, data, ['prev', 'cur']);
  const kwh = (v: number | null | undefined) => formatMeasure(v ?? null, 'kWh', units, undefined, energyDigits(units));
  const diffText = (v: number | null) => (v !== null && v > 0 ? `+${kwh(v)}` : kwh(v));
  const row = (r: EndUseRow, label: string, strong: boolean) => {
    const [prev, cur] = [r.byDay[0] ?? null, r.byDay[1] ?? null];
    const ch = change(cur, prev);
    return (
      <tr key={r.key + label} className={`border-t border-slate-200 dark:border-slate-700 ${strong ? 'font-semibold' : ''}`}>
        <th scope="row" className="py-2 pr-3 text-left font-medium">{label}{r.estimated && <span className="muted text-xs font-normal"> est.</span>}</th>
        <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{kwh(cur)}</td>
        <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{kwh(prev)}</td>
        <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{diffText(ch.diff)}</td>
        <td className="whitespace-nowrap py-2 pr-3 text-right">{ch.words}</td>
      </tr>
    );
  };
  const empty = c.cur.to <= c.cur.from;
  return (
    <section className="card min-w-0" aria-label={side.title}>
      <h3 className="mb-1 font-semibold">{side.title}</h3>
      <p className="muted mb-2 text-sm">
        {empty ? 'Nothing to compare yet: not one full hour of this period has passed.' : (
          <>Like-for-like: the same {elapsed(c)} of each, {span(c.cur, tz, side.year)} against {span(c.prev, tz, side.year)}.
          The running hour and the rest of the period are left out.</>
        )}
      </p>
      {!empty && notes.length > 0 && (
        <ul className="mb-2 space-y-1 rounded-md border border-amber-400 bg-amber-50 p-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
          {notes.map((g) => <li key={g}>{g}</li>)}
        </ul>
      )}
      {!empty && (
        <ScrollRegion label={`${side.title}, table`} className="overflow-x-auto">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">{side.title}, in {displayUnit('kWh', units)}</caption>
            <thead className="muted text-xs">
              <tr>
                <th scope="col" className="py-2 pr-3">End use</th>
                <th scope="col" className="py-2 pr-3 text-right">{side.curLabel}</th>
                <th scope="col" className="py-2 pr-3 text-right">{side.prevLabel}</th>
                <th scope="col" className="py-2 pr-3 text-right">Difference</th>
                <th scope="col" className="py-2 pr-3 text-right">Change</th>
              </tr>
            </thead>
            <tbody>
              {split.rows.filter((r) => r.kind !== 'main' || trees.length > 1 || split.stacked.includes(r)).map((r) =>
                row(r, r.kind === 'main' ? (trees.length > 1 ? `Subtotal: ${r.name}` : r.name) : r.depth > 1 ? `of which ${r.name}` : r.name, r.kind === 'main'))}
            </tbody>
            <tfoot>
              <tr className="border-t-2 border-slate-400 font-semibold dark:border-slate-500">
                <th scope="row" className="py-2 pr-3 text-left">Total</th>
                <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{kwh(split.totalByDay[1])}</td>
                <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{kwh(split.totalByDay[0])}</td>
                <td className="whitespace-nowrap py-2 pr-3 text-right tabular-nums">{diffText(change(split.totalByDay[1] ?? null, split.totalByDay[0] ?? null).diff)}</td>
                <td className="whitespace-nowrap py-2 pr-3 text-right">{change(split.totalByDay[1] ?? null, split.totalByDay[0] ?? null).words}</td>
              </tr>
            </tfoot>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}

export function AnalyticsComparison({ tz, trees }: { tz: string; trees: MeterNode[] }) {
  const client = useClient();
  const meters = useMemo(() => flatten(trees).filter((n) => n.point), [trees]);
  const key = meters.map((m) => `${m.id}=${m.point?.id}`).join(',');
  const data = useAsync(async (signal) => {
    const cw = compareWindows(Date.now(), tz);
    // one request for last week through now (this month included), one for the month a year ago
    const recent = { from: Math.min(cw.week.prev.from, cw.month.cur.from), to: cw.cutoff };
    const yearAgo = cw.month.prev;
    const list = await Promise.all(meters.map(async (m): Promise<[string, HourlyEnergy]> => {
      const slug = (m.point as Point).id;
      const agg = m.source === 'energy' ? 'counter' : 'rate';
      const get = (w: Window) => client.history(slug, { ...w, resolution: '1h', agg }, signal).then((h) => hourlyEnergy(h, m.source));
      const [a, b] = await Promise.all([get(recent), yearAgo.to > yearAgo.from ? get(yearAgo) : Promise.resolve(null)]);
      return [m.id, merge(a, b)];
    }));
    return { cw, hourly: new Map(list) };
  }, [key, tz]);

  if (meters.length === 0) return <p className="muted card text-sm">No meter with an energy or power point in this building.</p>;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the comparisons…" />;
  const { cw, hourly } = data.data;
  return (
    <>
      <p className="muted mb-2 text-sm">
        A partly elapsed week or month is compared with the same part of the earlier one, never with all of it.
        The month is compared with the same month last year rather than the previous month: a month's energy follows
        the season (heating, cooling, daylight), so the previous month would mostly measure the weather.
      </p>
      <div className="grid gap-4 xl:grid-cols-2">
        <Table side={{ title: 'This week against last week', curLabel: 'This week so far', prevLabel: 'Last week, same span', curIn: 'this week', prevIn: 'last week', c: cw.week, year: false }}
               trees={trees} hourly={hourly} tz={tz} />
        <Table side={{ title: 'This month against the same month last year', curLabel: 'This month so far', prevLabel: 'Same month last year, same span', curIn: 'this month', prevIn: 'the same month last year', c: cw.month, year: true }}
               trees={trees} hourly={hourly} tz={tz} />
      </div>
    </>
  );
}
