/**
 * Bills of the building's main meter through its tariff for a period of
 * local days (GET /analytics/cost): per billing period the line items, peak
 * demand and when it was set (building's time zone), subtotal, tax, total and
 * the notes (partial period, missing data ...).  Quantities and prices stay in
 * the bill's units (kWh, kW, days), as a utility bill states them.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError } from '../api/errors';
import { cost, money, pct, readable } from '../api/analytics';
import type { Bill, BillLine } from '../api/analytics';
import { checkRange, daysInMonth } from '../lib/analytics';
import type { DayRange } from '../lib/analytics';
import { dayKey, dayLabel } from '../lib/enduse';
import { formatDateTime } from '../lib/time';
import { formatNumber } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { ErrorBox, Loading, ScrollRegion } from './ui';

/** The last whole calendar month before today's. */
export function lastFullMonth(today: string): DayRange {
  const [y = 1970, m = 1] = today.split('-').map(Number);
  const py = m === 1 ? y - 1 : y;
  const pm = m === 1 ? 12 : m - 1;
  const mm = String(pm).padStart(2, '0');
  return { start: `${py}-${mm}-01`, end: `${py}-${mm}-${String(daysInMonth(py, pm)).padStart(2, '0')}` };
}

const dayWords = (key: string) => `${dayLabel(key)}, ${key.slice(0, 4)}`;

/** "Oct 1 – Oct 31, 2026" for [start, end) instants, as local days. */
export function spanWords(from: string, to: string, tz: string): string {
  return `${dayWords(dayKey(Date.parse(from), tz))} – ${dayWords(dayKey(Date.parse(to) - 1, tz))}`;
}

function qty(l: BillLine): string {
  if (l.qty === null) return '—';
  const day = l.unit === 'day';
  const n = new Intl.NumberFormat(undefined, { minimumFractionDigits: day ? 0 : 1, maximumFractionDigits: day ? 2 : 1 }).format(l.qty);
  return `${n} ${day && l.qty !== 1 ? 'days' : l.unit}`;
}

function BillCard({ b, tz }: { b: Bill; tz: string }) {
  const id = useId();
  const title = `Billing period ${spanWords(b.start, b.end, tz)}`;
  return (
    <section aria-labelledby={id} className="card space-y-2">
      <h3 id={id} className="font-semibold">{title}{b.estimate ? ' (estimate)' : ''}</h3>
      <p className="muted text-sm">
        Priced {spanWords(b.from, b.to, tz)} ({pct(b.coverage, 0)} of the period); {formatNumber(b.import_kwh ?? NaN, 0)} kWh imported
        {b.export_kwh ? `, ${formatNumber(b.export_kwh, 0)} kWh exported` : ''}; {b.missing} of {b.intervals} intervals without data
        {b.first_missing ? `, the first at ${formatDateTime(Date.parse(b.first_missing), tz)}` : ''}.
      </p>
      <p className="text-sm">
        Peak demand: {b.peak_kw === null ? 'no data' : `${formatNumber(b.peak_kw, 1)} kW`}
        {b.peak_at && b.peak_kw !== null ? `, set at ${formatDateTime(Date.parse(b.peak_at), tz)}` : ''}.
      </p>
      <ScrollRegion label={`Line items, ${title}`} className="overflow-x-auto">
        <table className="w-full min-w-[34rem] text-sm">
          <caption className="sr-only">Line items, {title}</caption>
          <thead>
            <tr className="text-left">
              <th scope="col" className="py-1 pr-3">Item</th>
              <th scope="col" className="py-1 pr-3 text-right">Quantity</th>
              <th scope="col" className="py-1 pr-3 text-right">Price</th>
              <th scope="col" className="py-1 text-right">Cost</th>
            </tr>
          </thead>
          <tbody>
            {b.lines.map((l, i) => (
              <tr key={`${i}-${l.label}`} className="border-t border-slate-200 dark:border-slate-700">
                <th scope="row" className="py-1 pr-3 text-left font-normal">
                  {l.label}
                  {l.peak_at && <span className="muted block text-xs">peak {formatDateTime(Date.parse(l.peak_at), tz)}{l.from_forecast ? ' (forecast)' : ''}</span>}
                  {l.no_data && <span className="muted block text-xs">no data in its windows: billed 0</span>}
                </th>
                <td className="py-1 pr-3 text-right tabular-nums">{qty(l)}</td>
                <td className="py-1 pr-3 text-right tabular-nums">{money(l.price, b.currency, true)}/{l.unit}</td>
                <td className="py-1 text-right tabular-nums">{money(l.cost, b.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            {([['Subtotal', b.subtotal], ['Tax', b.tax], ['Total', b.total]] as const).map(([k, v]) => (
              <tr key={k} className="border-t border-slate-300 dark:border-slate-600">
                <th scope="row" colSpan={3} className={`py-1 pr-3 text-right ${k === 'Total' ? 'font-semibold' : 'font-normal'}`}>{k}</th>
                <td className={`py-1 text-right tabular-nums ${k === 'Total' ? 'font-semibold' : ''}`}>{money(v, b.currency)}</td>
              </tr>
            ))}
          </tfoot>
        </table>
      </ScrollRegion>
      {/* one sentence as the server joins them ("; " also occurs inside a note, so it is not split) */}
      {b.note && <p className="text-sm">Notes: {b.note}.</p>}
    </section>
  );
}

function Bills({ building, range, tz }: { building: string; range: DayRange; tz: string }) {
  const client = useClient();
  const r = useAsync((signal) => cost(client, building, range.start, range.end, signal), [building, range.start, range.end]);
  if (r.error instanceof ApiError && r.error.status === 409) return <p className="card text-sm">No bills: {readable(r.error.message)}.</p>;
  if (r.error) return <ErrorBox error={r.error} onRetry={r.reload} />;
  if (!r.data) return <Loading label="Pricing the period…" />;
  const c = r.data;
  return (
    <div className="space-y-4">
      <p className="text-lg font-semibold" role="status">
        {money(c.total, c.currency)} for {spanWords(c.from, c.to, tz)}: {c.bills.length} {c.bills.length === 1 ? 'bill' : 'bills'}, meter {c.meter}, tariff {c.tariff}.
      </p>
      {c.bills.length === 0 && <p className="muted text-sm">No billing period has data in these days.</p>}
      {c.bills.map((b) => <BillCard key={b.start} b={b} tz={tz} />)}
    </div>
  );
}

export function TariffBills({ building, tz, today }: { building: string; tz: string; today: string }) {
  const id = useId();
  const [range, setRange] = useState<DayRange>(() => lastFullMonth(today));
  const [start, setStart] = useState(range.start);
  const [end, setEnd] = useState(range.end);
  const [error, setError] = useState<string | null>(null);

  function apply(e: FormEvent) {
    e.preventDefault();
    const r = { start, end };
    const why = checkRange(r, today);
    setError(why);
    if (!why) setRange(r);
  }

  return (
    <div className="space-y-3">
      <form className="flex flex-wrap items-end gap-2" onSubmit={apply} aria-label="Billing days" noValidate>
        <div>
          <label htmlFor={`${id}-a`} className="label">First day</label>
          <input id={`${id}-a`} type="date" className="input" value={start} max={today} onChange={(e) => setStart(e.target.value)} />
        </div>
        <div>
          <label htmlFor={`${id}-b`} className="label">Last day</label>
          <input id={`${id}-b`} type="date" className="input" value={end} max={today} onChange={(e) => setEnd(e.target.value)} />
        </div>
        <button type="submit" className="btn-secondary">Show bills</button>
        <p className="muted w-full text-xs">Local days, both included; a billing period the days touch is billed for its covered part.</p>
        {error && <p role="alert" className="w-full text-sm text-red-700 dark:text-red-300">{error}</p>}
      </form>
      <Bills building={building} range={range} tz={tz} />
    </div>
  );
}
