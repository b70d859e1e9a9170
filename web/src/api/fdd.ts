/**
 * Fault detection (FDD): a building's findings ranked by what they cost, and
 * the per-unit detector parameters.  Shapes follow the FDD API contract (the
 * C handlers are being written as this is):
 *
 *   GET    /api/v1/fdd/findings?building=B[&state=open|all]   viewer
 *   GET    /api/v1/fdd/units?building=B                       viewer
 *   PUT    /api/v1/fdd/units/{equipment} {"overrides":{...}}  manager -> the unit
 *   DELETE /api/v1/fdd/units/{equipment}                      manager -> 204
 *
 * Also the pure rules the FDD pages share: units of evidence in the UI's
 * spelling, a finding's impact and faults in words, and which parameter
 * values are overrides.
 */
import type { ApiClient } from './client';
import { ApiError, describeError } from './errors';
import type { Severity } from './alerts';
import { money } from './analytics';
import { formatDateTime } from '../lib/time';
import { formatMeasure, formatNumber } from '../lib/units';
import type { UnitPrefs } from '../lib/units';

export type FddKind = 'ahu' | 'vav' | 'chiller' | 'sensor' | 'meter' | 'energy';
export type FindingState = 'active' | 'cleared';
/** The list's filter: open = active findings only (the server's default). */
export type FindingFilter = 'open' | 'all';

export interface Evidence {
  label: string;
  point: string | null;
  value: number;
  unit: string;
}

export interface Impact {
  kwh_per_day: number | null;
  cost_per_day: number | null;
  /** one sentence: how it was estimated, or why there is no estimate */
  basis: string;
}

export interface Finding {
  id: string;
  equipment: string;
  equipment_name: string;
  kind: FddKind;
  check: string;
  title: string;
  /** likely fault classes, most likely first */
  faults: string[];
  severity: Severity;
  state: FindingState;
  since: string;
  last_seen: string;
  cleared_at: string | null;
  alert_id: number | null;
  evidence: Evidence[];
  chart: { points: string[]; from: string; to: string };
  impact: Impact;
  action: string;
}

export interface Findings {
  building: string;
  currency: string | null;
  total_cost_per_day: number | null;
  /** by cost_per_day, highest first (no estimate last), then since */
  findings: Finding[];
}

export interface FddParam {
  name: string;
  unit: string;
  doc: string;
  lo: number;
  hi: number;
  default: number;
  /** in effect: the override, else the default */
  value: number;
}

export interface FddUnit {
  equipment: string;
  name: string;
  kind: 'ahu' | 'vav' | 'chiller';
  watched: boolean;
  /** why it is not watched ('' when it is) */
  reason: string;
  overrides: Record<string, number>;
  params: FddParam[];
}

const seg = (s: string) => encodeURIComponent(s);

export function getFindings(c: ApiClient, building: string, state: FindingFilter, signal?: AbortSignal): Promise<Findings> {
  // open is the server's default; only "all" is sent, as the contract names it
  return c.get<Findings>('/api/v1/fdd/findings', { building, state: state === 'all' ? 'all' : undefined }, signal);
}

export async function getUnits(c: ApiClient, building: string, signal?: AbortSignal): Promise<FddUnit[]> {
  return (await c.get<{ units: FddUnit[] }>('/api/v1/fdd/units', { building }, signal)).units;
}

/** Replaces the unit's overrides with these (an empty object = all defaults); the unit as stored. */
export function putUnit(c: ApiClient, equipment: string, overrides: Record<string, number>): Promise<FddUnit> {
  return c.request<FddUnit>('PUT', `/api/v1/fdd/units/${seg(equipment)}`, { body: { overrides } });
}

/** Back to the defaults (204). */
export async function resetUnit(c: ApiClient, equipment: string): Promise<void> {
  await c.request<void>('DELETE', `/api/v1/fdd/units/${seg(equipment)}`);
}

/** The unit as it is after a reset: no overrides, every value its default. */
export function withDefaults(u: FddUnit): FddUnit {
  return { ...u, overrides: {}, params: u.params.map((p) => ({ ...p, value: p.default })) };
}

/**
 * The overrides a form holds: each field that parses to a number other than
 * its parameter's default (an empty field, or the default typed out, means
 * "use the default" and is not sent).
 */
export function overridesOf(params: readonly FddParam[], text: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of params) {
    const s = (text[p.name] ?? '').trim();
    if (s === '') continue;
    const v = Number(s);
    if (Number.isFinite(v) && v !== p.default) out[p.name] = v;
  }
  return out;
}

/** What is wrong with a field's text, in words, or null (the server checks again). */
export function fieldProblem(p: FddParam, text: string): string | null {
  const s = text.trim();
  if (s === '') return null;
  const v = Number(s);
  if (!Number.isFinite(v)) return 'Enter a number.';
  if (v < p.lo || v > p.hi) return `Must be between ${plain(p.lo)} and ${plain(p.hi)}${p.unit ? ` ${p.unit}` : ''}.`;
  return null;
}

/** The server's refusal in words: a 400 names the parameter in its message. */
export function refusal(e: unknown): string {
  if (e instanceof ApiError && e.status === 400) {
    const d = e.details.map((x) => x.message).filter(Boolean);
    if (d.length) return d.join('; ');
    if (e.message) return e.message;
  }
  return describeError(e);
}

/** A number as typed, without forced digits: 0.1, 2.5, 10. */
export function plain(v: number): string {
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 }).format(v);
}

// ---- words and units --------------------------------------------------------------------

/** ASCII spellings the server may use, in the UI's symbols (lib/units.ts knows these). */
const SPELLING: Record<string, string> = { degC: '°C', degF: '°F', deltaK: 'K', delta_degC: 'K', percent: '%', pct: '%' };

export function uiUnit(unit: string | null | undefined): string {
  const u = (unit ?? '').trim();
  return SPELLING[u] ?? u;
}

/**
 * An evidence value in the user's units.  K in evidence is a temperature
 * difference (a threshold, an error), never an absolute temperature, so it
 * is shown as K or °F of difference, not converted as 14 K = -259 °C.
 */
export function evidenceText(v: number, unit: string, units: UnitPrefs): string {
  const u = uiUnit(unit);
  if (!Number.isFinite(v)) return '—';
  if (u === 'K') return units.temp === 'F' ? `${formatNumber(v * 1.8, 1)} °F` : `${formatNumber(v, 1)} K`;
  if (u === '') return formatNumber(v, Number.isInteger(v) ? 0 : 2);
  return formatMeasure(v, u, units);
}

/** An RFC 3339 time in the building's zone, or a dash for none (never a thrown RangeError). */
export function timeText(iso: string | null | undefined, tz: string): string {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? formatDateTime(t, tz) : '—';
}

/** ["a", "b", "c"] -> "a, b or c". */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

export function faultWords(f: Finding): string {
  return f.faults.length ? `Likely: ${orList(f.faults)}` : 'No likely fault named';
}

/** "$12.40 a day" in the findings' currency; the number and no symbol without one. */
export function costText(v: number | null | undefined, currency: string | null): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${currency ? money(v, currency) : formatNumber(v, 2)} a day`;
}

/** "48.0 kWh a day" in the user's energy unit. */
export function energyText(kwh: number | null | undefined, units: UnitPrefs): string {
  if (kwh === null || kwh === undefined || !Number.isFinite(kwh)) return '—';
  return `${formatMeasure(kwh, 'kWh', units)} a day`;
}

/** Whether the finding has any estimate to show (else its basis says why not). */
export function hasEstimate(i: Impact): boolean {
  return (i.kwh_per_day !== null && Number.isFinite(i.kwh_per_day)) || (i.cost_per_day !== null && Number.isFinite(i.cost_per_day));
}

/** The page's summary line: the open findings, how many, and what they cost together. */
export function summaryText(r: Findings): string {
  const open = r.findings.filter((f) => f.state === 'active');
  if (open.length === 0) return 'No open faults.';
  const n = `${open.length} open ${open.length === 1 ? 'fault' : 'faults'}`;
  const unknown = open.filter((f) => f.impact.cost_per_day === null).length;
  if (r.total_cost_per_day === null) return `${n}; no cost estimate (each fault says why).`;
  const rest = unknown ? `; ${unknown} of them without an estimate` : '';
  return `${n}, estimated to cost ${costText(r.total_cost_per_day, r.currency)} together${rest}.`;
}

export const KIND_TEXT: Record<FddKind, string> = {
  ahu: 'Air handler', vav: 'VAV box', chiller: 'Chiller', sensor: 'Sensor', meter: 'Meter', energy: 'Energy use',
};
