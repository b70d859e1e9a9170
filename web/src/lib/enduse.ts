/**
 * Energy by end use, derived from the building model only (never from ids):
 * a main meter is a meter without a parent (as model.ts and the server's
 * overview decide), its end uses are the meters whose parent it is, and
 * deeper sub-meters (a chiller under HVAC) are "of which" rows under their
 * parent, never added to the split a second time.  "Other / unmetered" is
 * what the main meter measured beyond its children.
 *
 * Per meter the energy comes from its energy counter when it has one (the
 * server's counter aggregation: a daily bucket's value is the consumption in
 * that local day, src/store/agg.h), else from its power point (hourly
 * time-weighted means x the hours, an estimate: hours without data count as
 * nothing, partly covered hours as fully covered).
 *
 * Pure functions: the page fetches, these compute.
 */
import type { Equipment, History, Point } from '../api/types';
import { QUALITY_ESTIMATED } from '../live/store';
import { zonedParts } from './time';

export type EnergySource = 'energy' | 'power' | 'none';

export interface MeterNode {
  id: string;
  name: string;
  /** 0 = main meter, 1 = end use, 2+ = nested sub-meter */
  depth: number;
  /** the point the energy is read from (energy counter, else power) */
  point?: Point;
  source: EnergySource;
  children: MeterNode[];
}

function firstReal(points: readonly Point[], equipment: string, kind: Point['kind']): Point | undefined {
  return points.find((p) => p.equipment === equipment && p.kind === kind && p.source?.driver !== 'virtual');
}

/**
 * The building's meters as trees, one per main meter, in model order.
 * A meter whose parent is not a meter of this building is neither a main
 * meter nor an end use (the server would not count it either).
 */
export function meterTree(building: string, equipment: readonly Equipment[], points: readonly Point[]): MeterNode[] {
  const meters = equipment.filter((e) => e.building === building && e.type === 'meter');
  const seen = new Set<string>();
  const node = (e: Equipment, depth: number): MeterNode => {
    seen.add(e.id);
    const energy = firstReal(points, e.id, 'energy');
    const power = energy ? undefined : firstReal(points, e.id, 'power');
    return {
      id: e.id,
      name: e.name,
      depth,
      point: energy ?? power,
      source: energy ? 'energy' : power ? 'power' : 'none',
      // the model forbids loops; `seen` keeps a broken one from recursing forever
      children: meters.filter((c) => c.parent === e.id && !seen.has(c.id)).map((c) => node(c, depth + 1)),
    };
  };
  return meters.filter((e) => !e.parent).map((e) => node(e, 0));
}

/** Every node of the trees, parents before their children. */
export function flatten(trees: readonly MeterNode[]): MeterNode[] {
  const out: MeterNode[] = [];
  const walk = (n: MeterNode) => {
    out.push(n);
    n.children.forEach(walk);
  };
  trees.forEach(walk);
  return out;
}

// ---- days in the building's zone ------------------------------------------------

/** "2026-11-27": the building's local calendar day of an instant. */
export function dayKey(ms: number, tz: string): string {
  const p = zonedParts(ms, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The n local days ending with today, oldest first. */
export function lastDays(now: number, tz: string, n: number): string[] {
  const p = zonedParts(now, tz);
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    // calendar arithmetic on a UTC date: no zone or DST involved
    out.push(new Date(Date.UTC(p.year, p.month - 1, p.day - i)).toISOString().slice(0, 10));
  }
  return out;
}

/** A day key as "Fri, Nov 27" (axes, table headers), in the page's language. */
export function dayLabel(key: string, locale?: string): string {
  const [y, m, d] = key.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' })
    .format(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, 12));
}

// ---- consumption per day from history answers ------------------------------------

export interface DailyEnergy {
  /** kWh per local day; a day without data is absent */
  days: Map<string, number>;
  /** days with an estimated bucket (a counter reset, or power x hours) */
  estimated: Set<string>;
}

/**
 * kWh per local day from an energy point's daily buckets (resolution 1d,
 * agg counter): each bucket starts at a local midnight and its value is the
 * day's consumption.  A bucket flagged estimated (a meter reset) is marked.
 */
export function dailyFromCounter(h: History, tz: string): DailyEnergy {
  const days = new Map<string, number>();
  const estimated = new Set<string>();
  for (const b of h.buckets ?? []) {
    if (typeof b.value !== 'number' || !Number.isFinite(b.value)) continue;
    const k = dayKey(b.start, tz);
    days.set(k, (days.get(k) ?? 0) + b.value);
    if ((b.quality & QUALITY_ESTIMATED) !== 0) estimated.add(k);
  }
  return { days, estimated };
}

const HOUR_MS = 3_600_000;

/**
 * kWh per local day estimated from a power point's hourly buckets
 * (resolution 1h, agg rate: the time-weighted mean kW): mean x the hour's
 * length, the running hour only up to now.  Every day is an estimate.
 */
export function dailyFromPower(h: History, tz: string, now: number): DailyEnergy {
  const days = new Map<string, number>();
  const estimated = new Set<string>();
  for (const b of h.buckets ?? []) {
    if (typeof b.value !== 'number' || !Number.isFinite(b.value)) continue;
    const hours = Math.max(0, Math.min(HOUR_MS, now - b.start)) / HOUR_MS;
    const k = dayKey(b.start, tz);
    days.set(k, (days.get(k) ?? 0) + b.value * hours);
    estimated.add(k);
  }
  return { days, estimated };
}

// ---- the split ----------------------------------------------------------------------

export type RowKind = 'main' | 'meter' | 'other';

export interface EndUseRow {
  key: string;
  kind: RowKind;
  /** the meter's name, or "Other / unmetered" */
  name: string;
  /** 0 main meter, 1 end use or other, 2+ nested (an "of which" of its parent) */
  depth: number;
  meter?: string;
  source: EnergySource | 'difference';
  /** kWh per day of `days` (null: not known that day) */
  byDay: (number | null)[];
  today: number | null;
  /** sum of the known days; null when no day is known */
  period: number | null;
  /** days of the period with a value */
  knownDays: number;
  /** share of the building's total (all main meters), % */
  shareToday: number | null;
  sharePeriod: number | null;
  estimated: boolean;
  /** other rows: days on which the sub-meters read more than the main meter (shown as 0) */
  clampedDays: string[];
  /** other rows: the kWh by which the sub-meters exceeded the main meter, summed over those days */
  excess: number;
  /** other rows: sub-meters without data on days the main meter has some */
  missing: string[];
}

export interface EndUseSplit {
  days: string[];
  rows: EndUseRow[];
  /** building total per day (sum of the main meters) */
  totalByDay: (number | null)[];
  totalToday: number | null;
  totalPeriod: number | null;
  /** the rows that stack to the total: direct children and other, per main meter */
  stacked: EndUseRow[];
}

/** Sub-meters may exceed their main meter by this much (relative, and kWh) before it is called an error. */
export const ROUNDING_REL = 0.001;
export const ROUNDING_ABS_KWH = 0.01;

function sumKnownOrNull(vs: readonly (number | null)[]): number | null {
  let s = 0;
  let any = false;
  for (const v of vs) {
    if (v !== null) {
      s += v;
      any = true;
    }
  }
  return any ? s : null;
}

function share(v: number | null, total: number | null): number | null {
  return v === null || total === null || total <= 0 ? null : (100 * v) / total;
}

/**
 * The table and the chart's stacks: per main meter its row, its end uses
 * (nested sub-meters after their parent), and "Other / unmetered" =
 * main - sum of its direct children, per day, never below zero.  Other is
 * unknown on a day where the main meter or one of its children has no data
 * (a missing sub-meter would otherwise be counted as unmetered).
 */
export function splitEndUses(trees: readonly MeterNode[], data: ReadonlyMap<string, DailyEnergy>,
                             days: readonly string[]): EndUseSplit {
  const rows: EndUseRow[] = [];
  const stacked: EndUseRow[] = [];
  const values = (id: string) => days.map((d) => data.get(id)?.days.get(d) ?? null);
  const row = (kind: RowKind, name: string, depth: number, byDay: (number | null)[], extra: Partial<EndUseRow>): EndUseRow => ({
    key: extra.meter ? `m:${extra.meter}` : `${kind}:${name}`,
    kind,
    name,
    depth,
    source: 'none',
    byDay,
    today: byDay[byDay.length - 1] ?? null,
    period: sumKnownOrNull(byDay),
    knownDays: byDay.filter((v) => v !== null).length,
    shareToday: null,
    sharePeriod: null,
    estimated: false,
    clampedDays: [],
    excess: 0,
    missing: [],
    ...extra,
  });
  const meterRow = (n: MeterNode, kind: RowKind): EndUseRow => {
    const d = data.get(n.id);
    return row(kind, n.name, n.depth, values(n.id), {
      meter: n.id,
      source: n.source,
      estimated: !!d && days.some((k) => d.estimated.has(k)),
    });
  };

  const mainByDay: (number | null)[][] = [];
  for (const main of trees) {
    const mainRow = meterRow(main, 'main');
    mainByDay.push(mainRow.byDay);
    rows.push(mainRow);
    const walk = (n: MeterNode) => {
      const r = meterRow(n, 'meter');
      rows.push(r);
      if (n.depth === 1) stacked.push(r);
      n.children.forEach(walk);
    };
    main.children.forEach(walk);
    if (main.children.length === 0) {
      // no sub-meters: the whole main meter is one (unsplit) end use
      stacked.push(mainRow);
      continue;
    }
    const clampedDays: string[] = [];
    const missing = new Set<string>();
    let excess = 0;
    const other = days.map((d, i) => {
      const m = mainRow.byDay[i] ?? null;
      if (m === null) return null;
      let sum = 0;
      for (const c of main.children) {
        const v = data.get(c.id)?.days.get(d);
        if (v === undefined) {
          missing.add(c.name);
          return null;
        }
        sum += v;
      }
      if (sum > m) {
        // registers of different resolution (Wh vs 0.1 kWh) and float sums differ in the last
        // digits: only an excess beyond that is a metering error; either way other is 0
        if (sum - m > Math.max(ROUNDING_ABS_KWH, ROUNDING_REL * m)) {
          clampedDays.push(d);
          excess += sum - m;
        }
        return 0;
      }
      return m - sum;
    });
    const o = row('other', 'Other / unmetered', 1, other, {
      key: `other:${main.id}`,
      source: 'difference',
      clampedDays,
      excess,
      missing: [...missing],
      estimated: mainRow.estimated || main.children.some((c) => rows.find((r) => r.meter === c.id)?.estimated),
    });
    rows.push(o);
    stacked.push(o);
  }

  const totalByDay = days.map((_, i) => sumKnownOrNull(mainByDay.map((m) => m[i] ?? null)));
  const totalToday = totalByDay[totalByDay.length - 1] ?? null;
  const totalPeriod = sumKnownOrNull(totalByDay);
  for (const r of rows) {
    r.shareToday = share(r.today, totalToday);
    r.sharePeriod = share(r.period, totalPeriod);
  }
  return { days: [...days], rows, totalByDay, totalToday, totalPeriod, stacked };
}
