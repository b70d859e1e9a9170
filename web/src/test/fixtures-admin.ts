/**
 * Administration answers as sbems gives them: GET /drivers
 * (sb_drvmgr_health), the BACnet discovery (h_bacnet.c run_json with a
 * result as docs/internals/bacnet-discovery.md shows it), users
 * (sb_api__user_json) and audit records (sb_api__h_audit).
 */
import type { AuditRecord, DiscoveryRun, DriverHealth, ProposedPoint, User } from '../api/admin';

export const DRIVERS: DriverHealth = {
  devices: [
    { device: 'tcp:10.0.0.9:502/1', driver: 'modbus', state: 'ok', points: 12, stale_points: 0, reads: 4410, errors: 2, bad_inputs: 0,
      consecutive_failures: 0, last_ok: '2026-11-27T19:54:40Z', last_error: null, last_error_at: null, latency_ms: 14.6 },
    { device: 'bacnet:1001', driver: 'bacnet', state: 'failing', points: 31, stale_points: 31, reads: 900, errors: 57, bad_inputs: 0,
      consecutive_failures: 3, last_ok: '2026-11-27T19:40:00Z', last_error: 'timeout', last_error_at: '2026-11-27T19:54:30Z', latency_ms: 120 },
    { device: 'mqtt:127.0.0.1:1883', driver: 'mqtt', state: 'down', points: 4, stale_points: 0, reads: 0, errors: 1, bad_inputs: 3,
      consecutive_failures: 0, last_ok: null, last_error: 'connection refused', last_error_at: '2026-11-27T19:50:00Z', latency_ms: 0 },
    { device: 'rest:weather/oat', driver: 'rest', state: 'waiting', points: 1, stale_points: 0, reads: 0, errors: 0, bad_inputs: 0,
      consecutive_failures: 0, last_ok: null, last_error: null, last_error_at: null, latency_ms: 0 },
  ],
  misconfigured: [{ point: 'ahu-2.sat', driver: 'bacnet', error: 'object analog-input:99 is not on the device' }],
  dry_run: false,
};

const point = (device: number, object: string, name: string, over: Partial<ProposedPoint> = {}): ProposedPoint => ({
  id: `ahu-1.${name.toLowerCase().replace(/\s+/g, '-')}`,
  name,
  kind: 'temperature',
  unit: '°F',
  writable: false,
  source: { driver: 'bacnet', poll_s: 60, address: { device, object, property: 'present-value' } },
  brick: 'Supply_Air_Temperature_Sensor',
  tags: ['supply', 'air', 'temp', 'sensor'],
  confidence: 0.9,
  rule: 'sat',
  bacnet: { commandable: false },
  ...over,
});

export const RUNNING: DiscoveryRun = {
  status: 'running',
  started: '2026-11-27T19:55:00Z',
  finished: null,
  error: null,
  result: null,
  args: { broadcast: false, targets: ['10.0.0.5'], low: 1000, high: 1999, wait_ms: 2000 },
  by: 'ada',
};

export const DONE: DiscoveryRun = {
  ...RUNNING,
  status: 'done',
  finished: '2026-11-27T19:55:04Z',
  result: {
    devices: [
      {
        device: 1001, address: '10.0.0.5:47808', name: 'AHU-1', vendor: 'Trane', model: 'Tracer UC600', found_by: 'i-am', objects: 31,
        points: [
          point(1001, 'analog-input:1', 'Supply Air Temp'),
          point(1001, 'analog-value:3', 'SA Temp Setpoint', { kind: 'setpoint', writable: true, brick: 'Supply_Air_Temperature_Setpoint', bacnet: { commandable: true } }),
          point(1001, 'binary-input:2', 'Supply Fan Status', { kind: 'status', unit: undefined, brick: 'Fan_Status' }),
        ],
        errors: [], complete: true,
      },
      {
        device: 2002, address: '10.0.0.6:47808', name: 'VAV 2-01', objects: 8,
        points: [point(2002, 'analog-input:1', 'Space Temperature', { id: 'vav-2-01.space-temperature', brick: 'Zone_Air_Temperature_Sensor' })],
        complete: true,
      },
    ],
    unanswered: ['10.0.0.9:47808'],
    duration_ms: 4100,
    complete: true,
  },
};

export const ADMIN_USER: User = {
  id: 1, username: 'ada', email: '', display_name: 'Ada Admin', roles: ['admin'], grants: [], disabled: false,
  must_change_password: false, created: '2026-01-01T00:00:00Z', last_login: '2026-11-27T08:00:00Z',
};

export const VIEWER_USER: User = {
  id: 7, username: 'val', email: 'val@example.org', display_name: '', roles: ['viewer'], grants: [{ kind: 'building', id: 'hpo' }],
  disabled: false, must_change_password: true, created: '2026-11-01T00:00:00Z', last_login: null,
};

export const SITES = [{ id: 'harbor-point', name: 'Harbor Point' }];

export const audit = (id: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  id, time: '2026-11-27T19:00:00Z', actor_id: 1, actor: 'ada', ip: '10.0.0.2', action: 'zone.update', target: 'zone:f1-south',
  result: 'ok', detail: null, ...over,
});
