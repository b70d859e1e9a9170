/**
 * Supervisory control (docs/api.md "Supervisory control", docs/internals/control.md):
 * a building's control settings and each zone's state, tenants' after-hours
 * overrides, and the optimizer's plan.  Shapes follow src/api/h_ctl.c,
 * src/control/settings.c, src/control/svc.c (zone state) and
 * src/analytics/svc_zone.c (the plan):
 *
 *   GET    /api/v1/buildings/{b}/control                    viewer
 *   PUT    /api/v1/buildings/{b}/control    settings        manager -> {building, settings}
 *   POST   /api/v1/zones/{z}/control/override {hours,reason} operator -> {zone, until, by, reason}
 *   DELETE /api/v1/zones/{z}/control/override               operator -> 204
 *   GET    /api/v1/predictions/plan?building=&hours=1..48  viewer (409 without a tariff or zone model)
 *
 * Also the pure rules the control page shares: the settings' bounds (the
 * server's, settings.c), the document a PUT sends, and the plan's status.
 */
import type { ApiClient } from './client';
import { ApiError, describeError } from './errors';

export type CtlMode = 'off' | 'advisory' | 'auto';
export type SchedMode = 'occupied' | 'standby' | 'unoccupied';
/** The arbitration's sources, highest priority first (10, 12, 13, 14). */
export type Source = 'tenant' | 'optimizer' | 'setback' | 'schedule';

export const MODES: readonly CtlMode[] = ['off', 'advisory', 'auto'];

export const MODE_TEXT: Record<CtlMode, { label: string; what: string }> = {
  off: {
    label: 'Off',
    what: 'sbems writes nothing and releases its priority slot: each controller falls back to its own program (on BACnet, its next priority or its relinquish default).',
  },
  advisory: {
    label: 'Advisory',
    what: 'sbems works out every zone\'s setpoints and shows them here, but writes nothing. The default: check what it would do before letting it.',
  },
  auto: {
    label: 'Automatic',
    what: 'sbems writes the winning setpoints to the zones\' controllers (at its own priority, below operators\' commands), ramped and within the points\' bounds.',
  },
};

export const SOURCE_TEXT: Record<string, string> = {
  tenant: 'Tenant override',
  optimizer: 'Optimizer',
  setback: 'Setback (vacant)',
  schedule: 'Schedule',
};

export const STATE_TEXT: Record<string, string> = { occupied: 'Occupied', standby: 'Standby', unoccupied: 'Unoccupied' };

export interface Band {
  heating?: number;
  cooling?: number;
}

export interface SchedPeriod {
  time: string;
  mode?: SchedMode;
  heating?: number;
  cooling?: number;
}

export type SchedDay = 'closed' | SchedPeriod[];

/** A control schedule (docs/internals/control-schedule.md); the server answers its canonical form. */
export interface ControlSchedule {
  setpoints?: Partial<Record<SchedMode, Band>>;
  week?: Record<string, SchedDay>;
  holiday?: SchedDay;
  holidays?: string[];
  exceptions?: { date: string; periods: SchedDay }[];
}

export interface ZoneSettings {
  /** absent: the building's */
  mode?: CtlMode;
  /** absent: the building's */
  vacancy_delay_min?: number;
  /** absent: built from the model's occupancy schedule and comfort bands */
  schedule?: ControlSchedule;
  /** "schedule:N": the controller's own BACnet Schedule runs the zone's occupancy */
  native_schedule?: string;
  /** "calendar:N": the controller's Calendar gets the holidays (needs native_schedule) */
  native_calendar?: string;
}

export interface Override {
  until: string;
  by: string;
  reason: string;
}

export interface ControlSettings {
  mode: CtlMode;
  optimal_start: boolean;
  optimizer: boolean;
  max_lead_h: number;
  default_rate_k_per_h: number;
  ramp_k_per_h: number;
  recover_k_per_h: number;
  vacancy_delay_min: number;
  /** the demand limiter's limit, kW; 0: off */
  demand_limit_kw: number;
  /** how often native schedules are read back (and rewritten when they drifted), min */
  native_check_min: number;
  holidays_ical?: string;
  zones: Record<string, ZoneSettings>;
  /** written only by the override endpoints; a PUT keeps them */
  overrides: Record<string, Override>;
}

export interface SourceState {
  source: Source;
  priority: number;
  active: boolean;
  heating: number | null;
  cooling: number | null;
  reason: string;
  until: string | null;
}

export interface ZoneState {
  zone: string;
  /** the mode in force: the zone's, capped by the building's */
  mode: CtlMode;
  controlled: boolean;
  why_not?: string;
  state?: SchedMode;
  winner?: Source;
  reason?: string;
  until?: string | null;
  /** what the winner asks, after the band and bounds */
  target?: { heating: number | null; cooling: number | null };
  /** what is commanded (ramped) */
  heating_sp?: number | null;
  cooling_sp?: number | null;
  /** the guardrails that shaped [heating, cooling] */
  flags?: [string[], string[]];
  sources?: SourceState[];
  temp: number | null;
  occupied: boolean | null;
  points: { heating_sp: number; cooling_sp: number; temp: number; occupancy: number };
  last_write: { at: string; result: string } | null;
  /** zones whose controller runs its own Schedule object */
  native_schedule?: NativeState;
}

/** A zone's native BACnet Schedule, as the service's last check found it. */
export interface NativeState {
  object: string;
  calendar: string | null;
  /** pending, in_sync, differs, failed */
  state: string;
  why: string | null;
  /** the controller switches occupancy (sbems's schedule source writes nothing) */
  runs_occupancy: boolean;
  checked_at: string | null;
  written_at: string | null;
  in_sync_at: string | null;
  next_check: string | null;
  present_value: number | null;
  exceptions: { written: number; wanted: number };
  dates?: { written: number; wanted: number };
}

export interface PlanTotals {
  kwh_electric: number;
  kwh_fuel: number;
  kwh_cooling: number;
  kwh_heating: number;
  cost: number;
  cost_energy: number;
  cost_demand: number;
  peak_kw: number;
  discomfort_kh: number;
}

/** The optimizer as the control service last used it (only with "optimizer": true). */
export interface OptimizerState {
  planned_at: string;
  error?: string;
  status?: string;
  plan?: PlanTotals;
  baseline?: PlanTotals;
}

export interface ControlDoc {
  building: string;
  settings: ControlSettings;
  /** empty before the service's first evaluation */
  zones: ZoneState[];
  evaluated_at: string | null;
  /** the control service runs in this daemon */
  running: boolean;
  optimizer?: OptimizerState;
  holidays_imported?: number;
}

export interface PlanPoint {
  t: string;
  heating_sp: number;
  cooling_sp: number;
  temperature: number;
  /** heating minus cooling, kW thermal */
  hvac_kw: number;
}

export interface Plan {
  building: string;
  issued: string;
  /** optimal, slack (a band cannot be met), ... */
  status: string;
  currency: string;
  solve_s: number;
  steps: number;
  plan: PlanTotals;
  baseline: PlanTotals;
  zones: { zone: string; points: PlanPoint[] }[];
  load?: string;
  heating?: string;
}

export interface OverrideResult {
  zone: string;
  until: string;
  by: string;
  reason: string;
}

const seg = (s: string) => encodeURIComponent(s);

export function getControl(c: ApiClient, building: string, signal?: AbortSignal): Promise<ControlDoc> {
  return c.get<ControlDoc>(`/api/v1/buildings/${seg(building)}/control`, undefined, signal);
}

/** The whole settings document (a PUT replaces it; overrides are not sent: the server keeps them). */
export function putControl(c: ApiClient, building: string, body: SettingsBody): Promise<{ building: string; settings: ControlSettings }> {
  return c.request('PUT', `/api/v1/buildings/${seg(building)}/control`, { body });
}

export function startOverride(c: ApiClient, zone: string, hours: number, reason: string): Promise<OverrideResult> {
  const body: { hours: number; reason?: string } = { hours };
  if (reason) body.reason = reason;
  return c.request<OverrideResult>('POST', `/api/v1/zones/${seg(zone)}/control/override`, { body });
}

export async function endOverride(c: ApiClient, zone: string): Promise<void> {
  await c.request<void>('DELETE', `/api/v1/zones/${seg(zone)}/control/override`);
}

export function getPlan(c: ApiClient, building: string, hours: number, signal?: AbortSignal): Promise<Plan> {
  return c.get<Plan>('/api/v1/predictions/plan', { building, hours: String(hours) }, signal);
}

// ---- the settings form ------------------------------------------------------------------

export type NumField =
  'max_lead_h' | 'default_rate_k_per_h' | 'vacancy_delay_min' | 'ramp_k_per_h' | 'recover_k_per_h' | 'demand_limit_kw' |
  'native_check_min';

/** The server's bounds (src/control/settings.c), with words for the form. */
export const NUM_FIELDS: readonly { key: NumField; label: string; unit: string; lo: number; hi: number; hint: string }[] = [
  { key: 'max_lead_h', label: 'Longest optimal-start lead', unit: 'h', lo: 0.25, hi: 12, hint: 'How early before occupancy recovery may start.' },
  { key: 'default_rate_k_per_h', label: 'Recovery rate assumed', unit: 'K/h', lo: 0.1, hi: 20, hint: 'How fast a zone is assumed to reach its band, for the optimal-start lead.' },
  { key: 'vacancy_delay_min', label: 'Vacancy delay', unit: 'min', lo: 0, hi: 1440, hint: 'How long the occupancy sensor must read vacant, in occupied hours, before standby.' },
  { key: 'ramp_k_per_h', label: 'Ramp away from comfort', unit: 'K/h', lo: 0.1, hi: 60, hint: 'Fastest a setpoint moves away from comfort (heating down, cooling up).' },
  { key: 'recover_k_per_h', label: 'Ramp back to comfort', unit: 'K/h', lo: 0.1, hi: 120, hint: 'Fastest a setpoint moves back towards comfort.' },
  { key: 'demand_limit_kw', label: 'Demand limit', unit: 'kW', lo: 0, hi: 1e6, hint: 'When the 15-minute demand would pass it, occupied bands widen by 1, 2, then 4 °F; 0 is off.' },
  { key: 'native_check_min', label: 'Native schedule check', unit: 'min', lo: 0.1, hi: 1440, hint: 'How often a controller\'s own Schedule object is read back, and rewritten when it drifted.' },
];

/** A controller's Schedule / Calendar object as the server takes it ("schedule:1"). */
export const NATIVE_OBJECT = /^(schedule|calendar):\d+$/;

export const ZONE_VACANCY = { lo: 0, hi: 1440 } as const;
export const OVERRIDE_HOURS = { lo: 0.25, hi: 12 } as const;
export const REASON_MAX_BYTES = 150;
export const ICAL_MAX_BYTES = 1024 * 1024;

/** What a PUT sends: the settings without the overrides. */
export type SettingsBody = Omit<ControlSettings, 'overrides' | 'zones' | 'holidays_ical'> & {
  holidays_ical?: string;
  zones: Record<string, ZoneSettings>;
};

/** A number as typed, against [lo, hi]: the value, or what is wrong in words. */
export function checkNumber(text: string, lo: number, hi: number, unit: string): { value: number } | { error: string } {
  const s = text.trim();
  if (s === '') return { error: 'Enter a number.' };
  const v = Number(s);
  if (!Number.isFinite(v)) return { error: 'Enter a number.' };
  if (v < lo || v > hi) return { error: `Must be between ${lo} and ${hi} ${unit}.` };
  return { value: v };
}

export function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** The server's refusal in words: a 400 names the field in its message. */
export function refusal(e: unknown): string {
  if (e instanceof ApiError && e.status === 400) {
    const d = e.details.map((x) => x.message).filter(Boolean);
    if (d.length) return d.join('; ');
    if (e.message) return e.message;
  }
  if (e instanceof ApiError && e.status === 403) return 'Your role may not make this change.';
  return describeError(e);
}

/** The field a 400 names (details[0].field: "mode", "zones", "zones.f1-core.schedule", ...). */
export function refusedField(e: unknown): string | null {
  return e instanceof ApiError && e.status === 400 ? e.details[0]?.field ?? null : null;
}

// ---- overrides and plan status -----------------------------------------------------------

/** The zone's override running at `now`, if any. */
export function activeOverride(s: ControlSettings, zone: string, now: number): Override | null {
  const o = s.overrides?.[zone];
  if (!o) return null;
  const until = Date.parse(o.until);
  return Number.isFinite(until) && until > now ? o : null;
}

export type PlanStatus = 'off' | 'fresh' | 'stale' | 'failed' | 'pending';

/** The plan is asked for every 15 min and used for 30 min at most (svc.c PLAN_TTL_MS). */
export const PLAN_TTL_MS = 30 * 60_000;

export function planStatus(d: ControlDoc, now: number): PlanStatus {
  if (!d.settings.optimizer) return 'off';
  const o = d.optimizer;
  if (!o) return 'pending';
  if (o.error) return 'failed';
  const at = Date.parse(o.planned_at);
  if (!Number.isFinite(at) || now - at > PLAN_TTL_MS) return 'stale';
  return 'fresh';
}

export const PLAN_STATUS_TEXT: Record<PlanStatus, string> = {
  off: 'Off: the optimizer is not a source',
  fresh: 'Fresh: the zones follow the plan',
  stale: 'Stale: older than 30 minutes, not used',
  failed: 'Failed: the zones follow their other sources',
  pending: 'Not planned yet',
};

/** Words for the guardrails' flags. */
export const FLAG_TEXT: Record<string, string> = {
  bounds: 'held within the point\'s bounds',
  band: 'held within the band',
  ramped: 'ramping',
  fallback: 'fallback (stale reading)',
  deadband: 'within the deadband: not rewritten',
  interval: 'rewritten periodically',
  advisory: 'advisory: not written',
  off: 'off',
  release: 'released',
  stepped: 'stepped',
};
