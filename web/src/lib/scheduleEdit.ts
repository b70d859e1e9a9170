/**
 * Editing zone schedules and comfort bands so that the editor only ever
 * sends what sbems accepts.  The rules are the server's (src/model/
 * schedule.c, site_json.c, validate.c; docs/site-format.md "zones"):
 *
 *  - keys: "mon".."sun", ranges "mon-fri" (may wrap: "fri-mon"), lists
 *    "sat,sun", or "daily" alone; case-sensitive, no spaces; a day may be
 *    named by one key only (even by a "closed" one).
 *  - values: "closed", or 1 to 6 periods "hh:mm-hh:mm" separated by commas,
 *    start < end, 24:00 only as an end, no overlap (touching is allowed),
 *    any order (the server sorts them).  The hour may have one digit
 *    ("7:00"); nothing may be padded with spaces.
 *  - days not named are unoccupied; `{}` is a schedule that is never
 *    occupied, no schedule at all is unoccupied too.
 *  - comfort: both bands, each setpoint in [0, 45] °C, heating < cooling,
 *    the unoccupied band contains the occupied one.  The 5 °F (2.8 K) dead
 *    band of ASHRAE 90.1 is recommended, not enforced: a warning here.
 *
 * `schedule.ts` evaluates occupancy (and is stricter on "7:00", which the
 * server never sends back: it answers in its canonical form); this module
 * parses, validates, compacts and words schedules for the editor.
 *
 * The server's PATCH is an RFC 7396 merge patch (src/api/h_model.c): nested
 * objects merge key by key and null removes a key.  So `comfort` is sent
 * complete (its keys are fixed), and the schedule sends every new key plus
 * null for each key the zone has now that the new week does not use
 * (`forZone`): the zone then holds exactly the new week.
 */
import type { ApiClient } from '../api/client';
import type { FieldError } from '../api/errors';
import type { Comfort, Schedule, Zone } from '../api/types';
import type { WeekPeriods } from './schedule';
import { formatMeasure } from './units';
import type { TempUnit, UnitPref } from './units';

export type { WeekPeriods };

export const DAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const DAY_SHORT = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export const DAY_LONG = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
/** SB_SCHED_MAX_PERIODS */
export const MAX_PERIODS = 6;
export const DAY_END = 1440;

// ---- the server's grammar ----------------------------------------------------------------

/** "hh:mm" or "h:mm" as minutes (24:00 only as 1440), exactly as parse_hhmm; null if malformed. */
export function parseClock(s: string): number | null {
  const n = s.length;
  if (n < 4 || n > 5 || s[n - 3] !== ':') return null;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (i !== n - 3 && (c < 48 || c > 57)) return null;
  }
  const h = Number(s.slice(0, n - 3));
  const m = Number(s.slice(n - 2));
  if (m > 59 || h > 24 || (h === 24 && m !== 0)) return null;
  return h * 60 + m;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Minutes as "hh:mm" ("24:00" for the end of the day). */
export function formatClock(min: number): string {
  return `${pad2(Math.floor(min / 60))}:${pad2(min % 60)}`;
}

function dayIndex(s: string): number {
  return (DAY_KEYS as readonly string[]).indexOf(s);
}

/** The days (0 = Monday) a key names, or null; as sb_schedule_parse_days. */
export function parseDayKey(key: string): number[] | null {
  if (key === 'daily') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const item of key.split(',')) {
    const dash = item.indexOf('-');
    const a = dayIndex(dash < 0 ? item : item.slice(0, dash));
    const b = dash < 0 ? a : dayIndex(item.slice(dash + 1));
    if (a < 0 || b < 0) return null;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

function sortPeriods(p: [number, number][]): [number, number][] {
  return [...p].sort((x, y) => x[0] - y[0]);
}

/** One value ("closed", "07:00-12:00,13:00-17:00") as sorted periods, or the reason it is refused. */
export function parsePeriods(value: string): { periods: [number, number][] } | { error: string } {
  if (value === 'closed') return { periods: [] };
  const parts = value.split(',');
  if (parts.length > MAX_PERIODS) return { error: `more than ${MAX_PERIODS} periods in a day` };
  const out: [number, number][] = [];
  for (const part of parts) {
    const dash = part.indexOf('-');
    const a = dash < 0 ? null : parseClock(part.slice(0, dash));
    const b = dash < 0 ? null : parseClock(part.slice(dash + 1));
    if (a === null || b === null || a >= b) {
      return { error: `"${part}" is not a period hh:mm-hh:mm with start before end (periods cannot cross midnight)` };
    }
    out.push([a, b]);
  }
  const sorted = sortPeriods(out);
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as [number, number])[0] < (sorted[i - 1] as [number, number])[1]) return { error: 'periods overlap' };
  }
  return { periods: sorted };
}

/**
 * A schedule as the server reads it: the week (Monday first, periods
 * sorted), or every reason it would refuse it.
 */
export function parseScheduleStrict(s: Schedule): { week: WeekPeriods; errors: [] } | { week: null; errors: string[] } {
  const week: WeekPeriods = [[], [], [], [], [], [], []];
  const seen = new Set<number>();
  const errors: string[] = [];
  for (const [key, value] of Object.entries(s as Record<string, unknown>)) {
    const days = parseDayKey(key);
    if (!days) {
      errors.push(`"${key}" is not a day or day range (mon..sun, e.g. "mon-fri")`);
      continue;
    }
    if (days.some((d) => seen.has(d))) {
      errors.push(`"${key}" names a day already given by another key`);
      continue;
    }
    days.forEach((d) => seen.add(d));
    if (typeof value !== 'string') {
      errors.push(`"${key}" must be a string such as "07:00-19:00" or "closed"`);
      continue;
    }
    const p = parsePeriods(value);
    if ('error' in p) {
      errors.push(`"${key}": ${p.error}`);
      continue;
    }
    for (const d of days) week[d] = p.periods;
  }
  return errors.length ? { week: null, errors } : { week, errors: [] };
}

function samePeriods(a: readonly [number, number][], b: readonly [number, number][]): boolean {
  return a.length === b.length && a.every((p, i) => p[0] === b[i]?.[0] && p[1] === b[i]?.[1]);
}

/** Days as the server's canonical key: runs Monday..Sunday as ranges, never wrapping ("mon,fri-sun"). */
export function formatDayKey(days: readonly number[]): string {
  const set = new Set(days);
  const out: string[] = [];
  for (let d = 0; d < 7; d++) {
    if (!set.has(d)) continue;
    let e = d;
    while (e + 1 < 7 && set.has(e + 1)) e++;
    out.push(e === d ? DAY_KEYS[d] as string : `${DAY_KEYS[d]}-${DAY_KEYS[e]}`);
    d = e;
  }
  return out.join(',');
}

/** Periods as the server writes them ("07:00-12:00,13:00-17:00", "closed"). */
export function formatPeriods(p: readonly [number, number][]): string {
  if (p.length === 0) return 'closed';
  return p.map(([a, b]) => `${formatClock(a)}-${formatClock(b)}`).join(',');
}

/**
 * The week as the server's canonical schedule (its export, sched_json):
 * days with the same periods share one key, Monday first, consecutive days
 * as ranges, closed days left out.  What the server answers after a save.
 */
export function compactSchedule(week: WeekPeriods): Schedule {
  const out: Schedule = {};
  const done = new Set<number>();
  const days = week.map(sortPeriods);
  for (let d = 0; d < 7; d++) {
    const pd = days[d] ?? [];
    if (done.has(d) || pd.length === 0) continue;
    const same: number[] = [];
    for (let e = d; e < 7; e++) if (samePeriods(days[e] ?? [], pd)) same.push(e);
    same.forEach((e) => done.add(e));
    out[formatDayKey(same)] = formatPeriods(pd);
  }
  return out;
}

// ---- in words ---------------------------------------------------------------------------------

function daysInWords(days: readonly number[]): string {
  const set = new Set(days);
  const out: string[] = [];
  for (let d = 0; d < 7; d++) {
    if (!set.has(d)) continue;
    let e = d;
    while (e + 1 < 7 && set.has(e + 1)) e++;
    out.push(e === d ? DAY_SHORT[d] as string : `${DAY_SHORT[d]}–${DAY_SHORT[e]}`);
    d = e;
  }
  return out.join(' & ');
}

/** "07:00–12:00 and 13:00–17:00", "all day", "closed". */
export function periodsInWords(p: readonly [number, number][]): string {
  if (p.length === 0) return 'closed';
  if (p.length === 1 && p[0]?.[0] === 0 && p[0]?.[1] === DAY_END) return 'all day';
  return p.map(([a, b]) => `${formatClock(a)}–${formatClock(b)}`).join(' and ');
}

/** "Mon–Fri 07:00–19:00, Sat 08:00–12:00, Sun closed": every day, grouped. */
export function weekInWords(week: WeekPeriods): string {
  const days = week.map(sortPeriods);
  const first = days[0] ?? [];
  if (days.every((d) => samePeriods(d, first))) return first.length ? `Daily ${periodsInWords(first)}` : 'Closed all week';
  const groups: { days: number[]; p: [number, number][] }[] = [];
  for (let d = 0; d < 7; d++) {
    const pd = days[d] ?? [];
    const g = groups.find((x) => samePeriods(x.p, pd));
    if (g) g.days.push(d);
    else groups.push({ days: [d], p: pd });
  }
  return groups.map((g) => `${daysInWords(g.days)} ${periodsInWords(g.p)}`).join(', ');
}

/** A zone's schedule in words, whatever it holds. */
export function scheduleInWords(s: Schedule | null | undefined): string {
  if (!s) return 'No schedule (never occupied)';
  const r = parseScheduleStrict(s);
  return r.week ? weekInWords(r.week) : `Not understood: ${JSON.stringify(s)}`;
}

/** "occupied 21.0 °C – 24.0 °C, unoccupied 15.5 °C – 29.5 °C" in the user's scale. */
export function comfortInWords(c: Comfort | null | undefined, units: UnitPref): string {
  if (!c) return 'No comfort bands';
  const band = (b: { heating: number; cooling: number }) => `${formatMeasure(b.heating, '°C', units)} – ${formatMeasure(b.cooling, '°C', units)}`;
  return `occupied ${band(c.occupied)}, unoccupied ${band(c.unoccupied)}`;
}

// ---- the week editor's draft ----------------------------------------------------------------

export interface PeriodDraft {
  start: string;
  end: string;
}

/** Seven days, Monday first, each with the periods as typed. */
export type WeekDraft = PeriodDraft[][];

export function draftFromWeek(week: WeekPeriods): WeekDraft {
  return week.map((d) => d.map(([a, b]) => ({ start: formatClock(a), end: formatClock(b) })));
}

/** The draft of a zone's schedule: a zone without one (or with one the server would refuse) starts closed. */
export function draftFromSchedule(s: Schedule | null | undefined): WeekDraft {
  const r = s ? parseScheduleStrict(s) : null;
  return draftFromWeek(r?.week ?? [[], [], [], [], [], [], []]);
}

/** A period the user may add after the last one, or null when the day is full. */
export function nextPeriod(day: readonly PeriodDraft[]): PeriodDraft | null {
  if (day.length >= MAX_PERIODS) return null;
  const last = day[day.length - 1];
  if (!last) return { start: '08:00', end: '18:00' };
  const end = parseClock(last.end.trim());
  if (end === null || end >= DAY_END) return { start: '', end: '' };
  return { start: formatClock(end), end: formatClock(Math.min(end + 120, DAY_END)) };
}

/** Checks one day as the server would; the periods (sorted) when clean, and every problem in words. */
export function checkDay(day: readonly PeriodDraft[]): { periods: [number, number][]; errors: string[] } {
  const errors: string[] = [];
  if (day.length > MAX_PERIODS) errors.push(`At most ${MAX_PERIODS} periods a day.`);
  const ok: { i: number; a: number; b: number }[] = [];
  day.forEach((p, i) => {
    const n = day.length > 1 ? `Period ${i + 1}: ` : '';
    const a = parseClock(p.start.trim());
    const b = parseClock(p.end.trim());
    if (a === null || a >= DAY_END) errors.push(`${n}enter the start as hh:mm, from 00:00 to 23:59.`);
    if (b === null || b === 0) errors.push(`${n}enter the end as hh:mm, from 00:01 to 24:00.`);
    if (a === null || b === null || a >= DAY_END || b === 0) return;
    if (a >= b) {
      errors.push(`${n}the start (${formatClock(a)}) must be before the end (${formatClock(b)}). ` +
                  'A period cannot cross midnight: end it at 24:00 and go on at 00:00 the next day.');
      return;
    }
    ok.push({ i, a, b });
  });
  ok.sort((x, y) => x.a - y.a);
  for (let k = 1; k < ok.length; k++) {
    const p = ok[k - 1] as { i: number; a: number; b: number };
    const q = ok[k] as { i: number; a: number; b: number };
    if (q.a < p.b) {
      const [x, y] = p.i < q.i ? [p, q] : [q, p];
      errors.push(`Periods ${x.i + 1} and ${y.i + 1} overlap (${formatClock(x.a)}–${formatClock(x.b)} and ${formatClock(y.a)}–${formatClock(y.b)}).`);
    }
  }
  return { periods: errors.length ? [] : ok.map((p) => [p.a, p.b]), errors };
}

/** The whole draft: the week when every day is clean, and each day's problems. */
export function checkWeek(draft: WeekDraft): { week: WeekPeriods | null; dayErrors: string[][] } {
  const checks = draft.map(checkDay);
  const dayErrors = checks.map((c) => c.errors);
  return { week: dayErrors.some((e) => e.length) ? null : checks.map((c) => c.periods), dayErrors };
}

/** The valid periods of each day (for the week strip while the user types). */
export function validPeriods(draft: WeekDraft): WeekPeriods {
  return draft.map((d) => {
    const c = checkDay(d);
    return c.errors.length ? [] : c.periods;
  });
}

/** "Copy Monday to weekdays": Tuesday to Friday get Monday's periods. */
export function copyMondayToWeekdays(draft: WeekDraft): WeekDraft {
  const mon = draft[0] ?? [];
  return draft.map((d, i) => (i >= 1 && i <= 4 ? mon.map((p) => ({ ...p })) : d));
}

// ---- comfort -------------------------------------------------------------------------------

export type BandName = 'occupied' | 'unoccupied';
export type ComfortField = `${BandName}.${'heating' | 'cooling'}`;
export const COMFORT_FIELDS: ComfortField[] = ['occupied.heating', 'occupied.cooling', 'unoccupied.heating', 'unoccupied.cooling'];
export const COMFORT_MIN_C = 0;
export const COMFORT_MAX_C = 45;
/** ASHRAE 90.1-2019 §6.4.3.1.2: 5 °F between heating and cooling, recommended by sbems. */
export const DEADBAND_K = 5 / 1.8;

/**
 * Text typed in a scale as °C, exactly: a °F decimal is read as the ratio
 * of two integers (70.1 -> 701/10) and converted in one rounding, so the
 * °C sent is the double nearest the true value.  Null if not a number.
 */
export function toCelsius(text: string, unit: TempUnit): number | null {
  const t = text.trim().replace(',', '.');
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const v = Number(t);
  if (!Number.isFinite(v)) return null;
  if (unit === 'C') return v;
  const frac = m[3] ?? '';
  const digits = `${m[2]}${frac}`;
  if (digits.length > 15) return ((v - 32) * 5) / 9; // beyond exact integers: one rounding more
  const d = 10 ** frac.length;
  const n = Number(digits) * (m[1] === '-' ? -1 : 1);
  return ((n - 32 * d) * 5) / (9 * d);
}

/** A °C value as input text in the scale (one decimal, no locale separators). */
export function celsiusToText(c: number, unit: TempUnit): string {
  const v = unit === 'C' ? c : (c * 9) / 5 + 32;
  return String(Math.round(v * 10) / 10);
}

export interface ComfortDraft {
  unit: TempUnit;
  text: Record<ComfortField, string>;
  /** what the field showed at first and the exact °C behind it: an untouched field keeps its °C */
  initial: Partial<Record<ComfortField, { text: string; c: number }>>;
}

function bandOf(c: Comfort, f: ComfortField): number {
  const [b, k] = f.split('.') as [BandName, 'heating' | 'cooling'];
  return c[b][k];
}

export function comfortDraft(c: Comfort | null | undefined, unit: TempUnit): ComfortDraft {
  const text = {} as Record<ComfortField, string>;
  const initial: ComfortDraft['initial'] = {};
  for (const f of COMFORT_FIELDS) {
    if (c) {
      const v = bandOf(c, f);
      text[f] = celsiusToText(v, unit);
      initial[f] = { text: text[f], c: v };
    } else {
      text[f] = '';
    }
  }
  return { unit, text, initial };
}

/** The °C a field stands for: its original value while untouched, else the typed text converted. */
export function fieldCelsius(d: ComfortDraft, f: ComfortField): number | null {
  const init = d.initial[f];
  if (init && init.text === d.text[f]) return init.c;
  return toCelsius(d.text[f], d.unit);
}

/** The same draft in another scale (the user switched °C/°F while editing). */
export function convertDraft(d: ComfortDraft, unit: TempUnit): ComfortDraft {
  if (d.unit === unit) return d;
  const text = { ...d.text };
  const initial: ComfortDraft['initial'] = {};
  for (const f of COMFORT_FIELDS) {
    const c = fieldCelsius(d, f);
    if (c === null) continue;
    text[f] = celsiusToText(c, unit);
    initial[f] = { text: text[f], c };
  }
  return { unit, text, initial };
}

export type ComfortErrorKey = ComfortField | BandName | 'comfort';

export interface ComfortCheck {
  comfort: Comfort | null;
  errors: Partial<Record<ComfortErrorKey, string>>;
  /** advice that does not block saving (the dead band) */
  warnings: Partial<Record<BandName, string>>;
}

function limits(unit: TempUnit): string {
  return unit === 'C' ? `from ${COMFORT_MIN_C} °C to ${COMFORT_MAX_C} °C` : 'from 32 °F to 113 °F (0 °C to 45 °C)';
}

/** Checks the bands as validate.c does (range, heating < cooling, unoccupied contains occupied). */
export function checkComfort(d: ComfortDraft): ComfortCheck {
  const errors: ComfortCheck['errors'] = {};
  const warnings: ComfortCheck['warnings'] = {};
  const v = {} as Record<ComfortField, number>;
  for (const f of COMFORT_FIELDS) {
    const c = fieldCelsius(d, f);
    if (c === null) errors[f] = d.text[f].trim() === '' ? 'Enter a temperature.' : 'Enter a number, such as 21.5.';
    else if (!(c >= COMFORT_MIN_C && c <= COMFORT_MAX_C)) errors[f] = `Must be ${limits(d.unit)}.`;
    else v[f] = c;
  }
  const sym = d.unit === 'C' ? '°C' : '°F';
  const show = (c: number) => `${celsiusToText(c, d.unit)} ${sym}`;
  for (const b of ['occupied', 'unoccupied'] as const) {
    const h = v[`${b}.heating`];
    const c = v[`${b}.cooling`];
    if (h === undefined || c === undefined) continue;
    if (!(h < c)) errors[b] = `Heating (${show(h)}) must be below cooling (${show(c)}).`;
    else if (c - h < DEADBAND_K - 1e-9) {
      warnings[b] = `Heating and cooling are ${d.unit === 'C' ? `${Math.round((c - h) * 10) / 10} K` : `${Math.round((c - h) * 18) / 10} °F`} apart; ` +
                    'ASHRAE 90.1 recommends at least 5 °F (2.8 K) so heating and cooling do not fight. sbems accepts it.';
    }
  }
  const oh = v['occupied.heating'];
  const oc = v['occupied.cooling'];
  const uh = v['unoccupied.heating'];
  const uc = v['unoccupied.cooling'];
  const contain: string[] = [];
  if (oh !== undefined && uh !== undefined && uh > oh) {
    contain.push(`Unoccupied heating (${show(uh)}) must not be above occupied heating (${show(oh)}): setback heats less.`);
  }
  if (oc !== undefined && uc !== undefined && uc < oc) {
    contain.push(`Unoccupied cooling (${show(uc)}) must not be below occupied cooling (${show(oc)}): setback cools less.`);
  }
  if (contain.length) errors.unoccupied = [errors.unoccupied, ...contain].filter(Boolean).join(' ');
  if (Object.keys(errors).length || oh === undefined || oc === undefined || uh === undefined || uc === undefined) {
    return { comfort: null, errors, warnings };
  }
  return { comfort: { occupied: { heating: oh, cooling: oc }, unoccupied: { heating: uh, cooling: uc } }, errors, warnings };
}

// ---- saving ----------------------------------------------------------------------------------

export interface ZonePatch {
  schedule?: Schedule;
  comfort?: Comfort;
}

/** The PATCH body: each part whole (the server replaces top-level fields). */
export function patchBody(week: WeekPeriods | null, comfort: Comfort | null): ZonePatch {
  const body: ZonePatch = {};
  if (week) body.schedule = compactSchedule(week);
  if (comfort) body.comfort = comfort;
  return body;
}

/**
 * The body for one zone: the schedule's keys that zone has and the new week
 * does not are set to null, so the merge leaves exactly the new week.
 */
export function forZone(body: ZonePatch, current: Schedule | null | undefined): ZonePatch {
  if (!body.schedule) return body;
  const schedule: Record<string, string | null> = { ...body.schedule };
  for (const k of Object.keys(current ?? {})) if (!(k in schedule)) schedule[k] = null;
  return { ...body, schedule: schedule as Schedule };
}

export function patchZone(client: ApiClient, zone: Pick<Zone, 'id' | 'schedule'>, body: ZonePatch): Promise<Zone> {
  return client.request<Zone>('PATCH', `/api/v1/zones/${encodeURIComponent(zone.id)}`, { body: forZone(body, zone.schedule) });
}

/** Where a server message belongs in the editor. */
export type ServerTarget =
  | { kind: 'day'; days: number[] }
  | { kind: 'schedule' }
  | { kind: 'comfort'; key: ComfortErrorKey }
  | { kind: 'other' };

/**
 * Places a 400's details on the editor's fields.  Model validation answers
 * `{message: 'zones[3] "f1-west": schedule "mon-fri": periods overlap'}`
 * without a `field`; a few checks answer with `field`.  The zone prefix is
 * dropped from the message.
 */
export function placeDetail(d: FieldError): { target: ServerTarget; message: string } {
  const message = d.message.replace(/^zones\[\d+\] "[^"]*": /, '');
  if (d.field === 'schedule') return { target: { kind: 'schedule' }, message };
  if (d.field === 'comfort') return { target: { kind: 'comfort', key: 'comfort' }, message };
  if (d.field) return { target: { kind: 'other' }, message };
  let m = /^schedule (?:key )?"([^"]*)"/.exec(message);
  if (m) {
    const days = parseDayKey(m[1] ?? '');
    return { target: days ? { kind: 'day', days } : { kind: 'schedule' }, message };
  }
  if (/^schedule\b/.test(message)) return { target: { kind: 'schedule' }, message };
  m = /^comfort\.(occupied|unoccupied)(?:\.(heating|cooling))?/.exec(message);
  if (m) {
    const band = m[1] as BandName;
    const key: ComfortErrorKey = m[2] ? `${band}.${m[2] as 'heating' | 'cooling'}` : band;
    return { target: { kind: 'comfort', key }, message };
  }
  if (/^comfort\b/.test(message)) return { target: { kind: 'comfort', key: 'comfort' }, message };
  return { target: { kind: 'other' }, message };
}

/** Server messages gathered per place, for the fields to show. */
export interface ServerErrors {
  days: string[][];
  schedule: string[];
  comfort: Partial<Record<ComfortErrorKey, string[]>>;
  other: string[];
}

export function emptyServerErrors(): ServerErrors {
  return { days: [[], [], [], [], [], [], []], schedule: [], comfort: {}, other: [] };
}

/** Adds a failed zone's details (prefixed with its name when several zones were saved). */
export function addServerDetails(acc: ServerErrors, details: readonly FieldError[], prefix = ''): ServerErrors {
  const out: ServerErrors = { days: acc.days.map((d) => [...d]), schedule: [...acc.schedule], comfort: { ...acc.comfort }, other: [...acc.other] };
  for (const d of details) {
    const { target, message } = placeDetail(d);
    const text = prefix ? `${prefix}: ${message}` : message;
    if (target.kind === 'day') target.days.forEach((i) => out.days[i]?.push(text));
    else if (target.kind === 'schedule') out.schedule.push(text);
    else if (target.kind === 'comfort') out.comfort[target.key] = [...(out.comfort[target.key] ?? []), text];
    else out.other.push(text);
  }
  return out;
}
