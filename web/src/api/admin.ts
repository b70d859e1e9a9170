/**
 * The administration API: driver health, BACnet discovery, user accounts
 * and the audit log.  Shapes are those of the handlers (src/api/h_sys.c,
 * h_auth.c, h_bacnet.c, drivers/manager.c sb_drvmgr_health, drivers/bacnet/
 * accept.c) and src/api/openapi.json; only what the pages read is typed.
 */
import type { ApiClient } from './client';
import { ApiError } from './errors';
import type { EquipmentType, Page, PointKind, Role } from './types';

// ---- drivers ------------------------------------------------------------------------

/** dev_state() in src/drivers/manager.c. */
export type DeviceState = 'ok' | 'waiting' | 'failing' | 'open' | 'probing' | 'down' | 'stopped';

export interface DriverDevice {
  /** device key: tcp:host:port/unit, mqtt:host:port, bacnet instance ... */
  device: string;
  driver: string;
  state: DeviceState;
  points: number;
  stale_points?: number;
  reads?: number;
  errors?: number;
  bad_inputs?: number;
  consecutive_failures?: number;
  last_ok?: string | null;
  last_error?: string | null;
  last_error_at?: string | null;
  latency_ms?: number;
}

export interface Misconfigured {
  point: string;
  driver: string;
  error: string;
}

export interface DriverHealth {
  devices: DriverDevice[];
  misconfigured: Misconfigured[];
  dry_run: boolean;
}

export function getDrivers(c: ApiClient, signal?: AbortSignal): Promise<DriverHealth> {
  return c.get<DriverHealth>('/api/v1/drivers', undefined, signal);
}

/** Worst first: the rank of each state (lower is worse). */
const STATE_RANK: Record<DeviceState, number> = { down: 0, open: 1, failing: 2, stopped: 3, probing: 4, waiting: 5, ok: 6 };

/** States in which a device gives no readings now. */
export const OFFLINE_STATES: ReadonlySet<string> = new Set(['down', 'open', 'failing', 'stopped']);

/** Devices worst first: state, then stale points, then errors, then name. */
export function sortDevices(devs: readonly DriverDevice[]): DriverDevice[] {
  return [...devs].sort((a, b) =>
    (STATE_RANK[a.state] ?? -1) - (STATE_RANK[b.state] ?? -1) ||
    (b.stale_points ?? 0) - (a.stale_points ?? 0) ||
    (b.consecutive_failures ?? 0) - (a.consecutive_failures ?? 0) ||
    (b.errors ?? 0) - (a.errors ?? 0) ||
    a.device.localeCompare(b.device));
}

// ---- BACnet discovery ------------------------------------------------------------------

/** The body of POST /api/v1/bacnet/discover (h_bacnet.c's keys). */
export interface DiscoverArgs {
  targets?: string[];
  range?: string;
  networks?: number[];
  broadcast?: boolean;
  low?: number;
  high?: number;
  wait_ms?: number;
  max_devices?: number;
}

export interface ProposedPoint {
  id: string;
  name: string;
  kind: PointKind;
  unit?: string;
  writable?: boolean;
  source: { driver: 'bacnet'; poll_s?: number; address: { device: number; object: string; property?: string } };
  brick?: string;
  tags?: string[];
  confidence?: number;
  rule?: string;
  description?: string;
  bacnet?: { commandable?: boolean; units_name?: string; present_value?: unknown };
}

export interface DiscoveredDevice {
  device: number;
  address?: string;
  name?: string;
  description?: string;
  vendor?: string;
  model?: string;
  found_by?: string;
  objects?: number;
  points?: ProposedPoint[];
  trend_logs?: unknown[];
  schedules?: unknown[];
  errors?: { object?: string; property?: string; error: string }[];
  complete?: boolean;
}

export interface DiscoveryResult {
  devices?: DiscoveredDevice[];
  unanswered?: string[];
  duration_ms?: number;
  complete?: boolean;
}

export type DiscoveryStatus = 'running' | 'done' | 'partial' | 'failed';

export interface DiscoveryRun {
  status: DiscoveryStatus;
  started: string;
  /** null while running (the server sends every key, null when unset) */
  finished?: string | null;
  args: DiscoverArgs;
  by: string;
  error?: string | null;
  /** null while running: a running discovery has no partial result */
  result?: DiscoveryResult | null;
}

export function startDiscovery(c: ApiClient, args: DiscoverArgs): Promise<DiscoveryRun> {
  return c.request<DiscoveryRun>('POST', '/api/v1/bacnet/discover', { body: args });
}

/** The last discovery, or null when none has run since sbems started (404). */
export async function getDiscovery(c: ApiClient, signal?: AbortSignal): Promise<DiscoveryRun | null> {
  try {
    return await c.get<DiscoveryRun>('/api/v1/bacnet/discover', undefined, signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export interface AcceptEquipment {
  device: number;
  id: string;
  name?: string;
  type?: EquipmentType;
}

export interface AcceptBody {
  building: string;
  equipment: AcceptEquipment[];
  points: { device: number; object: string }[];
}

export interface AcceptResult {
  equipment: { id: string; name?: string; building?: string; type?: string }[];
  points: { id: string; name?: string; equipment?: string }[];
}

export function acceptDiscovery(c: ApiClient, body: AcceptBody): Promise<AcceptResult> {
  return c.request<AcceptResult>('POST', '/api/v1/bacnet/discover/accept', { body });
}

/** The object a proposal reads ("analog-input:1"): what accept names it by. */
export function pointObject(p: ProposedPoint): string {
  return p.source.address.object;
}

/** The equipment slug sbems gives a device nobody named (slugify() in accept.c). */
export function slugify(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}

/** The equipment type sbems guesses from a controller's name (equip_type() in accept.c). */
export function guessEquipType(name: string | undefined): EquipmentType {
  const n = (name ?? '').toLowerCase();
  if (n.includes('ahu') || n.includes('air handler')) return 'ahu';
  if (n.includes('rtu') || n.includes('rooftop')) return 'rtu';
  if (n.includes('vav')) return 'vav';
  if (n.includes('chiller') || n.startsWith('ch-')) return 'chiller';
  if (n.includes('boiler')) return 'boiler';
  if (n.includes('fcu') || n.includes('fan coil')) return 'fan_coil';
  if (n.includes('meter')) return 'meter';
  return 'other';
}

// ---- users --------------------------------------------------------------------------

export interface Grant {
  kind: 'site' | 'building';
  id: string;
}

export interface User {
  id: number;
  username: string;
  email?: string;
  display_name?: string;
  roles: Role[];
  grants: Grant[];
  disabled: boolean;
  must_change_password: boolean;
  created?: string;
  last_login?: string | null;
  /** createUser without a password only: shown once */
  temporary_password?: string;
}

export interface UserCreate {
  username: string;
  email?: string;
  display_name?: string;
  roles: Role[];
  grants?: Grant[];
}

/** A JSON merge patch of a user (only what changes). */
export interface UserPatch {
  email?: string;
  display_name?: string;
  roles?: Role[];
  grants?: Grant[];
  disabled?: boolean;
}

export const ROLES: readonly Role[] = ['viewer', 'operator', 'manager', 'admin'];

/** The strongest role of a list (each role has the rights of those below it). */
export function topRole(roles: readonly Role[]): Role {
  let best: Role = 'viewer';
  for (const r of roles) if (ROLES.indexOf(r) > ROLES.indexOf(best)) best = r;
  return best;
}

/** Usernames sbems accepts (UserCreate.pattern). */
export const USERNAME_RE = /^[A-Za-z0-9._@+-]{1,64}$/;

export function listUsers(c: ApiClient, signal?: AbortSignal): Promise<User[]> {
  return c.listAll<User>('/api/v1/users', {}, signal);
}

export function createUser(c: ApiClient, u: UserCreate): Promise<User> {
  return c.request<User>('POST', '/api/v1/users', { body: u });
}

export function patchUser(c: ApiClient, id: number, patch: UserPatch): Promise<User> {
  return c.request<User>('PATCH', `/api/v1/users/${id}`, { body: patch });
}

/** DELETE: the account is disabled, not removed (the audit trail names it), and its sessions end. */
export async function disableUser(c: ApiClient, id: number): Promise<void> {
  await c.request<void>('DELETE', `/api/v1/users/${id}`);
}

export async function resetPassword(c: ApiClient, id: number): Promise<string> {
  const r = await c.request<{ temporary_password: string }>('POST', `/api/v1/users/${id}/reset-password`);
  return r.temporary_password;
}

// ---- audit log ------------------------------------------------------------------------

export interface AuditRecord {
  id: number;
  time: string;
  actor_id: number;
  actor?: string | null;
  ip?: string | null;
  action: string;
  target?: string | null;
  result: string;
  detail?: string | null;
  before?: unknown;
  after?: unknown;
}

/** The filters sb_api__h_audit accepts (it refuses any other query parameter). */
export interface AuditFilter {
  actor_id?: number;
  /** a prefix: "zone." matches zone.create, zone.update ... */
  action?: string;
  /** exact: "zone:f1-east", "point:ahu-1.sat", "user:3" */
  target?: string;
  /** ms */
  from?: number;
  /** ms, exclusive */
  to?: number;
}

export const AUDIT_PAGE = 50;

export function listAudit(c: ApiClient, f: AuditFilter, cursor: string | null, signal?: AbortSignal): Promise<Page<AuditRecord>> {
  return c.get<Page<AuditRecord>>('/api/v1/audit', {
    limit: AUDIT_PAGE,
    cursor,
    actor_id: f.actor_id,
    action: f.action || undefined,
    target: f.target || undefined,
    from: f.from,
    to: f.to,
  }, signal);
}
