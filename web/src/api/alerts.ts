/**
 * The alerts API (alerts, their actions, rules and rule templates) and the
 * pure rules the alert pages share: what an event does to a list, a rule's
 * condition in words, and unit conversion of thresholds.
 *
 * Shapes follow the alerts API brief (the C handlers are being written as
 * this is): lists are {items, next_cursor}, times RFC 3339 UTC plus *_ms,
 * thresholds in the point's canonical unit (the unit readings are stored in).
 */
import type { ApiClient } from './client';
import type { Page } from './types';
import { convert, displayUnit, formatNumber, isTemperatureUnit, toDisplay } from '../lib/units';
import type { UnitPrefs } from '../lib/units';

// ---- alerts -----------------------------------------------------------------------------

export type Severity = 'critical' | 'major' | 'minor' | 'info';
export type AlertState = 'active' | 'acknowledged' | 'resolved';
/** The list's state filter: open = active or acknowledged (the server's default). */
export type StateFilter = 'open' | 'active' | 'acknowledged' | 'resolved' | 'all';

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'info'];
export const STATE_FILTERS: readonly StateFilter[] = ['open', 'active', 'acknowledged', 'resolved', 'all'];

export interface Alert {
  id: number;
  rule: string;
  rule_name: string;
  building: string;
  key: string;
  severity: Severity;
  state: AlertState;
  /** the condition is gone but nobody resolved the alert */
  cleared: boolean;
  raised: string;
  raised_ms: number;
  cleared_at?: string | null;
  acknowledged?: string | null;
  acknowledged_by?: string | null;
  resolved?: string | null;
  resolved_by?: string | null;
  assignee?: string | null;
  shelved_until?: string | null;
  escalated_level?: number;
  flaps?: number;
  /** raises de-duplicated into this alert */
  count: number;
  value?: number | null;
  message?: string | null;
  point?: string | null;
  equipment?: string | null;
  zone?: string | null;
  point_id?: number | null;
}

export type AlertEventKind = 'raised' | 're-raised' | 'cleared' | 'acknowledged' | 'assigned' | 'note' | 'shelved' |
  'unshelved' | 'resolved' | 'escalated' | 'notified' | 'notify_failed';

export interface AlertEvent {
  t: string;
  ts: number;
  kind: AlertEventKind;
  /** a username, or "sbems" for the engine */
  actor: string;
  detail?: string | null;
}

export interface AlertDetail extends Alert {
  /** oldest first */
  events: AlertEvent[];
}

export interface AlertFilter {
  building?: string;
  state: StateFilter;
  severity?: Severity;
  assignee?: string;
}

export const ALERT_PAGE = 50;

export function listAlerts(c: ApiClient, f: AlertFilter, cursor: string | null, signal?: AbortSignal): Promise<Page<Alert>> {
  return c.get<Page<Alert>>('/api/v1/alerts', {
    building: f.building || undefined,
    state: f.state,
    severity: f.severity,
    assignee: f.assignee || undefined,
    limit: ALERT_PAGE,
    cursor,
  }, signal);
}

export function getAlert(c: ApiClient, id: number, signal?: AbortSignal): Promise<AlertDetail> {
  return c.get<AlertDetail>(`/api/v1/alerts/${id}`, undefined, signal);
}

/** The actions: each answers the updated alert with its events. */
export type AlertAction =
  | { kind: 'acknowledge'; note?: string }
  | { kind: 'assign'; assignee: string; note?: string }
  | { kind: 'note'; text: string }
  | { kind: 'shelve'; duration_s: number; note?: string }
  | { kind: 'unshelve' }
  | { kind: 'resolve'; note?: string };

function actionRequest(a: AlertAction): { path: string; body: Record<string, unknown> } {
  const note = (n?: string) => (n && n.trim() ? { note: n.trim() } : {});
  switch (a.kind) {
    case 'acknowledge':
      return { path: 'acknowledge', body: note(a.note) };
    case 'assign':
      return { path: 'assign', body: { assignee: a.assignee, ...note(a.note) } };
    case 'note':
      return { path: 'notes', body: { text: a.text } };
    case 'shelve':
      return { path: 'shelve', body: { duration_s: a.duration_s, ...note(a.note) } };
    case 'unshelve':
      return { path: 'unshelve', body: {} };
    case 'resolve':
      return { path: 'resolve', body: note(a.note) };
  }
}

export function alertAction(c: ApiClient, id: number, a: AlertAction): Promise<AlertDetail> {
  const r = actionRequest(a);
  return c.request<AlertDetail>('POST', `/api/v1/alerts/${id}/${r.path}`, { body: r.body });
}

/** Shelving periods offered (the server takes 60 s .. 7 days). */
export const SHELVE_CHOICES: readonly { label: string; s: number }[] = [
  { label: '1 h', s: 3600 },
  { label: '4 h', s: 4 * 3600 },
  { label: '24 h', s: 86_400 },
  { label: '7 days', s: 7 * 86_400 },
];

export const NOTE_MAX = 1000;

// ---- what an alert is, in words ---------------------------------------------------------

export const SEVERITY_TEXT: Record<Severity, string> = { critical: 'Critical', major: 'Major', minor: 'Minor', info: 'Info' };
export const STATE_TEXT: Record<AlertState, string> = { active: 'Active', acknowledged: 'Acknowledged', resolved: 'Resolved' };
export const STATE_FILTER_TEXT: Record<StateFilter, string> = {
  open: 'Open (not resolved)', active: 'Active', acknowledged: 'Acknowledged', resolved: 'Resolved', all: 'All',
};

export const EVENT_TEXT: Record<AlertEventKind, string> = {
  raised: 'Raised',
  're-raised': 'Raised again',
  cleared: 'Condition cleared',
  acknowledged: 'Acknowledged',
  assigned: 'Assigned',
  note: 'Note',
  shelved: 'Shelved',
  unshelved: 'Unshelved',
  resolved: 'Resolved',
  escalated: 'Escalated',
  notified: 'Notification sent',
  notify_failed: 'Notification failed',
};

/** Shelved now (the server keeps shelved_until after it passes). */
export function isShelved(a: Pick<Alert, 'shelved_until'>, now: number): boolean {
  return !!a.shelved_until && Date.parse(a.shelved_until) > now;
}

/** Whether an alert belongs in a list with this filter (for live events and action answers). */
export function matchesFilter(a: Alert, f: AlertFilter): boolean {
  if (f.building && a.building !== f.building) return false;
  if (f.severity && a.severity !== f.severity) return false;
  if (f.assignee && a.assignee !== f.assignee) return false;
  switch (f.state) {
    case 'open':
      return a.state !== 'resolved';
    case 'all':
      return true;
    default:
      return a.state === f.state;
  }
}

/** Only the list's fields (an action's answer carries the events too). */
export function listFields(a: Alert | AlertDetail): Alert {
  if (!('events' in a)) return a;
  const { events: _events, ...rest } = a;
  return rest;
}

/**
 * A list after a change to one alert: replaced in place when it still
 * belongs, dropped when it no longer does, and added (newest first by
 * raised time) when it is new to the list and belongs.
 */
export function applyAlert(list: readonly Alert[], a: Alert, f: AlertFilter): Alert[] {
  const at = list.findIndex((x) => x.id === a.id);
  const fits = matchesFilter(a, f);
  if (at >= 0) return fits ? list.map((x, i) => (i === at ? a : x)) : list.filter((_, i) => i !== at);
  if (!fits) return [...list];
  const out = [...list];
  const pos = out.findIndex((x) => x.raised_ms < a.raised_ms || (x.raised_ms === a.raised_ms && x.id < a.id));
  out.splice(pos < 0 ? out.length : pos, 0, a);
  return out;
}

/** A WebSocket event of the alerts channel, or null for anything else. */
export interface AlertWsEvent {
  event: AlertEventKind;
  alert: Alert;
}

export function parseAlertEvent(data: unknown): AlertWsEvent | null {
  const d = data as Partial<AlertWsEvent> | null;
  if (!d || typeof d.event !== 'string' || !d.alert || typeof d.alert.id !== 'number') return null;
  return d as AlertWsEvent;
}

// ---- rules ------------------------------------------------------------------------------

export type RuleType = 'threshold' | 'rate' | 'stale' | 'offline' | 'comfort' | 'schedule' | 'forecast';
export const RULE_TYPES: readonly RuleType[] = ['threshold', 'rate', 'stale', 'offline', 'comfort', 'schedule', 'forecast'];

export const RULE_TYPE_TEXT: Record<RuleType, string> = {
  threshold: 'Threshold',
  rate: 'Rate of change',
  stale: 'No data',
  offline: 'Equipment offline',
  comfort: 'Zone comfort',
  schedule: 'Running out of schedule',
  forecast: 'Energy off its forecast',
};

/** forecast: which side of the forecast's interval counts. */
export type ForecastDirection = 'above' | 'below' | 'both';
export const FORECAST_DIRECTIONS: readonly ForecastDirection[] = ['above', 'below', 'both'];

export interface AlertRule {
  id: string;
  name: string;
  type: RuleType;
  building: string;
  severity: Severity;
  enabled: boolean;
  message?: string | null;
  template?: string | null;
  updated?: string | null;
  updated_by?: string | null;
  point?: string | null;
  equipment?: string | null;
  zone?: string | null;
  above?: number | null;
  below?: number | null;
  hysteresis?: number | null;
  on_delay_s?: number | null;
  off_delay_s?: number | null;
  max_rise?: number | null;
  max_fall?: number | null;
  per_s?: number | null;
  after_s?: number | null;
  kh_limit?: number | null;
  window_s?: number | null;
  /** schedule: running when the value is above it, canonical unit */
  running_above?: number | null;
  /** forecast: complete hours in a row outside the interval, 1..72 */
  hours?: number | null;
  direction?: ForecastDirection | null;
}

/** What POST takes: a rule without the server's own fields. */
export type RuleInput = Omit<AlertRule, 'building' | 'updated' | 'updated_by' | 'template'>;

export function listRules(c: ApiClient, building: string, signal?: AbortSignal): Promise<AlertRule[]> {
  return c.listAll<AlertRule>('/api/v1/alert-rules', { building }, signal);
}

export function createRule(c: ApiClient, r: RuleInput): Promise<AlertRule> {
  return c.request<AlertRule>('POST', '/api/v1/alert-rules', { body: r });
}

/** A JSON merge patch: null removes a field. */
export function patchRule(c: ApiClient, id: string, patch: Partial<RuleInput>): Promise<AlertRule> {
  return c.request<AlertRule>('PATCH', `/api/v1/alert-rules/${encodeURIComponent(id)}`, { body: patch });
}

export async function deleteRule(c: ApiClient, id: string): Promise<void> {
  await c.request<void>('DELETE', `/api/v1/alert-rules/${encodeURIComponent(id)}`);
}

export interface RuleTemplate {
  id: string;
  name: string;
  applies_to?: 'zone' | 'equipment' | 'point' | string;
  description?: string | null;
}

/** The brief shows a bare array; a paged {items} answer is taken too. */
export async function listTemplates(c: ApiClient, signal?: AbortSignal): Promise<RuleTemplate[]> {
  const r = await c.get<RuleTemplate[] | Page<RuleTemplate>>('/api/v1/alert-templates', undefined, signal);
  return Array.isArray(r) ? r : r.items;
}

export interface ApplyResult {
  created: string[];
  skipped: { id: string; reason: string }[];
}

export function applyTemplates(c: ApiClient, building: string, templates: string[]): Promise<ApplyResult> {
  return c.request<ApplyResult>('POST', '/api/v1/alert-templates/apply', { body: { building, templates } });
}

// ---- durations and units ----------------------------------------------------------------

/** "90 s", "5 min", "1 h", "7 days": a whole number of the largest unit that fits exactly (24 h, not 1 day). */
export function durationWords(s: number): string {
  if (s % 60 !== 0 || s < 60) return `${s} s`;
  const m = s / 60;
  if (m % 60 !== 0) return `${m} min`;
  const h = m / 60;
  if (h % 24 !== 0 || h < 48) return `${h} h`;
  return `${h / 24} days`;
}

/** The unit a difference of this canonical unit is shown in: K for °C, °F for °F, else the display unit. */
export function deltaUnit(canonical: string, pref: UnitPrefs): string {
  if (isTemperatureUnit(canonical)) return pref.temp === 'F' ? '°F' : 'K';
  return displayUnit(canonical, pref);
}

/** Scale of a difference from canonical to display (no offset: 1 K = 1.8 °F). */
function deltaScale(canonical: string, pref: UnitPrefs): number {
  const to = displayUnit(canonical, pref);
  if (to === canonical) return 1;
  return convert(1, canonical, to) - convert(0, canonical, to);
}

/** Round away floating-point noise (60.8 °F is 16 °C, not 15.999999999999996). */
export function clean(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** An absolute value typed in the display unit, into the canonical unit. */
export function absToCanonical(v: number, canonical: string, pref: UnitPrefs): number {
  const shown = displayUnit(canonical, pref);
  return clean(shown === canonical ? v : convert(v, shown, canonical));
}

export function absToDisplay(v: number, canonical: string, pref: UnitPrefs): number {
  return clean(toDisplay(v, canonical, pref).value);
}

/** A difference typed in the display unit, into the canonical unit (0.9 °F -> 0.5 K). */
export function deltaToCanonical(v: number, canonical: string, pref: UnitPrefs): number {
  return clean(v / deltaScale(canonical, pref));
}

export function deltaToDisplay(v: number, canonical: string, pref: UnitPrefs): number {
  return clean(v * deltaScale(canonical, pref));
}

function digits(unit: string): number {
  if (isTemperatureUnit(unit) || unit === 'K') return 1;
  if (unit === 'ppm' || unit === 'Pa' || unit === '%') return 0;
  if (unit === 'MW') return 3;
  return 1;
}

/** "16.0 °C" for an absolute value in the canonical unit, shown in the user's unit. */
export function absWords(v: number, canonical: string, pref: UnitPrefs): string {
  if (!canonical) return formatNumber(v, v % 1 === 0 ? 0 : 1);
  const d = toDisplay(v, canonical, pref);
  return `${formatNumber(d.value, digits(d.unit))} ${d.unit}`;
}

/** "0.5 K" / "0.9 °F" for a difference in the canonical unit. */
export function deltaWords(v: number, canonical: string, pref: UnitPrefs): string {
  if (!canonical) return formatNumber(v, v % 1 === 0 ? 0 : 1);
  const u = deltaUnit(canonical, pref);
  return `${formatNumber(v * deltaScale(canonical, pref), digits(u))} ${u}`;
}

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Defaults of the comfort rule (the engine's). */
export const COMFORT_DEFAULTS = { kh_limit: 2, window_s: 86_400 };

/** Defaults of the schedule and forecast rules (src/alerts/rule.h). */
export const SCHEDULE_DEFAULTS = { running_above: 0.5 };
export const FORECAST_DEFAULTS = { hours: 2, direction: 'above' as ForecastDirection, hours_max: 72 };

/** Where the energy lies against the forecast's interval, for each direction. */
const SIDE_WORDS: Record<ForecastDirection, string> = { above: 'above', below: 'below', both: 'outside' };

/**
 * A rule's condition in words, thresholds in the user's units:
 * "above 16.0 °C for 5 min, clears 0.5 K lower after 2 min".
 * canonical: the unit of the watched point ('' when unknown or unitless).
 */
export function conditionWords(r: AlertRule, canonical: string, pref: UnitPrefs): string {
  const after = (s: number | null | undefined) => (num(s) && s > 0 ? ` after ${durationWords(s)}` : '');
  const holds = (s: number | null | undefined) => (num(s) && s > 0 ? ` for ${durationWords(s)}` : '');
  switch (r.type) {
    case 'threshold': {
      const parts = [num(r.above) ? `above ${absWords(r.above, canonical, pref)}` : '',
        num(r.below) ? `below ${absWords(r.below, canonical, pref)}` : ''].filter(Boolean);
      if (parts.length === 0) return 'no threshold set';
      const side = num(r.above) && num(r.below) ? 'inside' : num(r.above) ? 'lower' : 'higher';
      const clears = num(r.hysteresis) && r.hysteresis > 0
        ? `clears ${deltaWords(r.hysteresis, canonical, pref)} ${side}`
        : 'clears when back';
      return `${parts.join(' or ')}${holds(r.on_delay_s)}, ${clears}${after(r.off_delay_s)}`;
    }
    case 'rate': {
      const per = num(r.per_s) && r.per_s > 0 ? ` in ${durationWords(r.per_s)}` : '';
      const parts = [num(r.max_rise) ? `rises more than ${deltaWords(r.max_rise, canonical, pref)}${per}` : '',
        num(r.max_fall) ? `falls more than ${deltaWords(r.max_fall, canonical, pref)}${per}` : ''].filter(Boolean);
      if (parts.length === 0) return 'no rate set';
      return `${parts.join(' or ')}${holds(r.on_delay_s)}, clears when slower${after(r.off_delay_s)}`;
    }
    case 'stale':
      return num(r.after_s) ? `no good reading for ${durationWords(r.after_s)}` : 'no good reading';
    case 'offline':
      return `every polled point stale${holds(r.on_delay_s)}`;
    case 'comfort': {
      const kh = num(r.kh_limit) ? r.kh_limit : COMFORT_DEFAULTS.kh_limit;
      const w = num(r.window_s) ? r.window_s : COMFORT_DEFAULTS.window_s;
      // degree hours: a difference times hours, so K·h or °F·h
      const u = pref.temp === 'F' ? '°F·h' : 'K·h';
      const v = pref.temp === 'F' ? kh * 1.8 : kh;
      return `more than ${formatNumber(v, 1)} ${u} outside the comfort band while occupied, over ${durationWords(w)}`;
    }
    case 'schedule': {
      const above = num(r.running_above) ? r.running_above : SCHEDULE_DEFAULTS.running_above;
      const on = num(r.on_delay_s) && r.on_delay_s > 0 ? `, for ${durationWords(r.on_delay_s)}` : '';
      const off = num(r.off_delay_s) && r.off_delay_s > 0
        ? `, clears ${durationWords(r.off_delay_s)} after it stops or a zone is occupied` : '';
      return `running (above ${absWords(above, canonical, pref)}) while its zones are unoccupied${on}${off}`;
    }
    case 'forecast': {
      const h = num(r.hours) ? r.hours : FORECAST_DEFAULTS.hours;
      const side = SIDE_WORDS[r.direction ?? FORECAST_DEFAULTS.direction] ?? r.direction;
      const run = h === 1 ? '1 complete hour' : `${h} hours in a row`;
      return `${run} ${side} its forecast's 90 % interval`;
    }
  }
}

/** What a rule watches: the kind of object and its slug (threshold, rate, stale, schedule and forecast rules watch a point). */
export function ruleTarget(r: Pick<AlertRule, 'type' | 'point' | 'equipment' | 'zone'>): { kind: 'point' | 'equipment' | 'zone'; id: string } | null {
  if (r.type === 'offline') return r.equipment ? { kind: 'equipment', id: r.equipment } : null;
  if (r.type === 'comfort') return r.zone ? { kind: 'zone', id: r.zone } : null;
  return r.point ? { kind: 'point', id: r.point } : null;
}
