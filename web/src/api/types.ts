/**
 * Shapes of the sbems API that the UI uses, written from
 * src/api/openapi.json (components.schemas).  Only what the pages read is
 * typed; the server may send more fields, which are ignored.
 */

export type Role = 'admin' | 'manager' | 'operator' | 'viewer';

/** The one error shape of the API. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    details?: { field?: string; message: string }[];
  };
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Site {
  id: string;
  name: string;
  description?: string | null;
}

export interface Building {
  id: string;
  site: string;
  name: string;
  timezone: string;
  address?: string | null;
  area_m2?: number | null;
  latitude?: number | null;
  longitude?: number | null;
}

/** Comfort band, always in degC: heat below heating, cool above cooling. */
export interface Band {
  heating: number;
  cooling: number;
}

export interface Comfort {
  occupied: Band;
  unoccupied: Band;
}

/** Weekly occupancy in the building's local time: {"mon-fri": "07:00-19:00"}. */
export type Schedule = Record<string, string>;

export interface Zone {
  id: string;
  building: string;
  name: string;
  floor?: number | null;
  area_m2?: number | null;
  comfort?: Comfort | null;
  schedule?: Schedule | null;
  description?: string | null;
}

export type EquipmentType =
  | 'ahu'
  | 'rtu'
  | 'vav'
  | 'chiller'
  | 'boiler'
  | 'heat_pump'
  | 'fan_coil'
  | 'thermostat'
  | 'meter'
  | 'sensor'
  | 'other';

export interface Equipment {
  id: string;
  building: string;
  name: string;
  type: EquipmentType;
  vendor?: string | null;
  model?: string | null;
  zone?: string | null;
  parent?: string | null;
  tags?: string[] | null;
  description?: string | null;
}

export type PointKind =
  | 'temperature'
  | 'humidity'
  | 'co2'
  | 'occupancy'
  | 'power'
  | 'energy'
  | 'setpoint'
  | 'command'
  | 'status'
  | 'pressure'
  | 'flow'
  | 'position'
  | 'other';

export type DriverName = 'bacnet' | 'modbus' | 'mqtt' | 'rest' | 'weather' | 'virtual';

export interface PointSource {
  driver: DriverName;
  address?: unknown;
  poll_s?: number | null;
}

export interface Point {
  id: string;
  equipment: string;
  name: string;
  kind: PointKind;
  /** the unit the source reports (readings are stored in the canonical unit) */
  unit?: string | null;
  writable?: boolean | null;
  min?: number | null;
  max?: number | null;
  source?: PointSource | null;
  tags?: string[] | null;
  description?: string | null;
  /** integer id from the store: the WebSocket names points by it */
  point_id?: number | null;
}

/** Sign-in, refresh and password change all answer with this. */
export interface Tokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Also set as the HttpOnly cookie sbems_rt; the UI never keeps this copy. */
  refresh_token: string;
  refresh_expires_in: number;
  user: SessionUser;
}

export interface SessionUser {
  id: number;
  username: string;
  roles: Role[];
  must_change_password: boolean;
}

export interface Latest {
  point: number;
  slug: string;
  /** canonical unit symbol: °C, kW, kWh, %, ppm ... (a setpoint: its own unit) */
  unit: string;
  t: string | null;
  ts: number | null;
  value: number | null;
  quality: number | null;
}

export interface TelemetryPoint extends Latest {
  kind: PointKind;
  writable: boolean;
  name: string;
}

export interface ZoneStatus {
  zone: string;
  name: string;
  occupied: boolean;
  band: Band | null;
  comfort: ComfortState;
  temperature: number | null;
  equipment: { equipment: string; points: TelemetryPoint[] }[];
}

export type ComfortState = 'in_band' | 'too_warm' | 'too_cold' | 'unknown';

export interface Overview {
  building: string;
  name: string;
  at: string;
  power_kw: number | null;
  energy_today_kwh: number | null;
  comfort: {
    zones: number;
    occupied: number;
    in_band: number;
    too_warm: number;
    too_cold: number;
    unknown: number;
    /** % of known zones in band */
    score: number | null;
  };
  /** open alerts (the alert service's counts); available false on a server without it */
  alerts: { available: boolean; active: number | null; open?: number; critical?: number; major?: number;
            minor?: number; info?: number; unacknowledged?: number };
}

export type Resolution = 'raw' | '1m' | '15m' | '1h' | '1d' | '1mo';
export type AggKind = 'mean' | 'rate' | 'counter' | 'state';

export interface HistorySample {
  ts: number;
  value: number | null;
  quality: number;
}

export interface HistoryBucket {
  start: number;
  n: number;
  min: number | null;
  max: number | null;
  value: number | null;
  peak?: number | null;
  quality: number;
}

export interface History {
  point: number;
  res: Resolution;
  kind?: AggKind;
  from: number;
  to: number;
  limit: number;
  samples?: HistorySample[];
  buckets?: HistoryBucket[];
  count: number;
  truncated: boolean;
  next: number | null;
}

export interface HistoryQuery {
  from: number;
  to?: number;
  resolution?: Resolution;
  agg?: AggKind;
  limit?: number;
}

/** A command; value null releases it.  duration_s: 10 s .. 7 days. */
export interface Command {
  value: number | null;
  priority?: number;
  duration_s?: number;
  reason?: string;
}

export interface CommandResult {
  point: string;
  point_id: number;
  result: 'ok' | 'not_confirmed' | 'dry_run';
  value: number;
  readback: number | null;
  reason?: string;
  /** who holds the point after the command (BACnet: "priority 8 (ours)") */
  holder?: string;
  priority?: number;
  expires?: string;
  by: string;
}

export interface PrioritySlot {
  priority: number;
  value: number | null;
  ours: boolean;
  by?: string;
  reason?: string;
  since?: string;
  expires?: string;
  mismatch?: boolean;
}

export interface PriorityInfo {
  point: string;
  commandable: boolean;
  present_value: number | null;
  relinquish_default: number | null;
  in_control: number | null;
  slots: PrioritySlot[];
}

/** WebSocket frames from the server (docs/api.md, "WebSocket"). */
export type ServerMessage =
  | { type: 'ready'; user: string; expires_in: number }
  | { type: 'reauthed'; user: string; expires_in: number }
  | { type: 'subscribed'; id?: number; channels: string[]; points: number }
  | { type: 'unsubscribed'; id?: number; channels: string[]; points: number }
  | { type: 'readings'; data: [number, number, number, number][] }
  | { type: 'reauth'; expires_in: number }
  | { type: 'lagged'; dropped: number }
  | { type: 'event'; channel: string; data: unknown }
  | { type: 'error'; id?: number; code: string; message: string }
  | { type: 'pong' };
