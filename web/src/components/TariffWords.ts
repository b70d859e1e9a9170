/**
 * A tariff document in words (docs/internals/analytics-tariff.md): when each
 * price applies, demand and fixed charges, export, blocks and tax.  Hours
 * are local and half-open ([16, 21] is 16:00 to 21:00); a range whose end is
 * before its start wraps midnight.
 */
import { money } from '../api/analytics';
import type { DemandCharge, EnergyRule, FixedCharge, Hours, Tariff } from '../api/analytics';

const DAY_WORDS: Record<string, string> = {
  weekday: 'weekdays', weekend: 'weekends', holiday: 'holidays', all: 'every day',
  mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun',
};

const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** [16, 21] -> "16:00–21:00"; [[14, 16], [21, 23]] -> "14:00–16:00 and 21:00–23:00". */
export function hoursWords(h: Hours | undefined): string {
  if (!h || h.length === 0) return '';
  const ranges = (Array.isArray(h[0]) ? h : [h]) as [number, number][];
  return list(ranges.map(([a, b]) => `${hh(a)}–${hh(b)}`));
}

/** When a rule applies: "summer, weekdays 16:00–21:00"; "" for always. */
export function whenWords(r: { seasons?: string[]; days?: string[]; hours?: Hours }): string {
  const parts: string[] = [];
  if (r.seasons?.length) parts.push(list(r.seasons));
  const days = r.days?.length ? list(r.days.map((d) => DAY_WORDS[d] ?? d)) : '';
  const hours = hoursWords(r.hours);
  if (days || hours) parts.push([days, hours].filter(Boolean).join(' '));
  return parts.join(', ');
}

export function energyWords(r: EnergyRule, currency: string): string {
  const when = whenWords(r);
  const exp = r.export_price_per_kwh !== undefined ? `, export ${money(r.export_price_per_kwh, currency, true)}/kWh` : '';
  return `${r.period}: ${money(r.price_per_kwh, currency, true)}/kWh${exp}${when ? `, ${when}` : ''}`;
}

export function demandWords(d: DemandCharge, t: Tariff): string {
  const when = whenWords(d);
  const min = t.demand_interval_min ?? 15;
  return `${d.name}: ${money(d.price_per_kw, t.currency, true)}/kW of the highest ${min}-minute demand${when ? ` in ${when}` : ' (any time)'}`;
}

export function fixedWords(f: FixedCharge, currency: string): string {
  if (f.per_day !== undefined) return `${f.name}: ${money(f.per_day, currency)} a day`;
  return `${f.name}: ${money(f.per_period ?? null, currency)} a billing period`;
}

/** Everything else on one line: billing day, seasons, export, blocks, tax, holidays. */
export function otherWords(t: Tariff): string[] {
  const out: string[] = [];
  out.push(`Bills run from day ${t.billing_cycle_day ?? 1} of each month; demand over ${t.demand_interval_min ?? 15}-minute ${t.demand_method === 'rolling' ? 'rolling' : 'clock'} windows.`);
  if (t.seasons?.length) out.push(`Seasons: ${list(t.seasons.map((s) => `${s.name} ${s.from} to ${s.to}`))}.`);
  const e = t.export ?? { mode: 'none' };
  out.push(e.mode === 'flat' ? `Export credited at ${money(e.price_per_kwh ?? null, t.currency, true)}/kWh.`
    : e.mode === 'tou' ? 'Export credited at each period\u2019s export price.' : 'No credit for exported energy.');
  if (t.tiers?.length) {
    out.push(`Blocks on top of the energy price: ${list(t.tiers.map((b) => (b.up_to_kwh !== undefined
      ? `up to ${new Intl.NumberFormat().format(b.up_to_kwh)} kWh +${money(b.price_per_kwh, t.currency, true)}`
      : `beyond +${money(b.price_per_kwh, t.currency, true)}`)))} per kWh.`);
  }
  if (t.tax_pct) out.push(`Tax ${new Intl.NumberFormat().format(t.tax_pct)} % of the subtotal.`);
  if (t.holidays?.length) out.push(`Its own holidays: ${t.holidays.join(', ')}.`);
  return out;
}

/** The documented example (analytics-tariff.md, PG&E B-19 structure with illustrative prices): the new tariff's template. */
export const TARIFF_TEMPLATE = `{
  "id": "pge-b19-illustrative",
  "name": "PG&E B-19 structure, secondary voltage (illustrative prices)",
  "description": "Time periods and demand-charge structure of PG&E Schedule B-19 with the TOU periods of CPUC D.18-08-013: summer June-September, peak 16-21 h every day, part-peak 14-16 h and 21-23 h; winter October-May, peak 16-21 h, super off-peak 9-14 h in March-May. Prices are illustrative, not PG&E's: take them from the current tariff sheet.",
  "currency": "USD",
  "billing_cycle_day": 1,
  "demand_interval_min": 15,
  "demand_method": "block",
  "seasons": [
    { "name": "summer", "from": "06-01", "to": "09-30" },
    { "name": "winter", "from": "10-01", "to": "02-28" },
    { "name": "spring", "from": "03-01", "to": "05-31" }
  ],
  "energy": [
    { "period": "peak",           "seasons": ["summer"], "hours": [16, 21], "price_per_kwh": 0.21 },
    { "period": "part_peak",      "seasons": ["summer"], "hours": [[14, 16], [21, 23]], "price_per_kwh": 0.17 },
    { "period": "off_peak",       "seasons": ["summer"], "hours": [23, 14], "price_per_kwh": 0.13 },
    { "period": "peak",           "seasons": ["winter", "spring"], "hours": [16, 21], "price_per_kwh": 0.18 },
    { "period": "off_peak",       "seasons": ["winter"], "hours": [21, 16], "price_per_kwh": 0.14 },
    { "period": "off_peak",       "seasons": ["spring"], "hours": [[21, 9], [14, 16]], "price_per_kwh": 0.14 },
    { "period": "super_off_peak", "seasons": ["spring"], "hours": [9, 14], "price_per_kwh": 0.10 }
  ],
  "demand": [
    { "name": "max_demand",       "price_per_kw": 30.0 },
    { "name": "summer_peak",      "seasons": ["summer"], "hours": [16, 21], "price_per_kw": 22.0 },
    { "name": "summer_part_peak", "seasons": ["summer"], "hours": [[14, 16], [21, 23]], "price_per_kw": 5.0 },
    { "name": "winter_peak",      "seasons": ["winter", "spring"], "hours": [16, 21], "price_per_kw": 2.0 }
  ],
  "fixed": [
    { "name": "customer_charge", "per_day": 45.0 }
  ],
  "export": { "mode": "flat", "price_per_kwh": 0.04 },
  "tax_pct": 0
}
`;
