/** Fault detection findings and unit settings as the FDD API contract shows them, for the Harbor Point Office (hpo). */
import type { Finding, Findings, FddUnit } from '../api/fdd';
import type { History, Point } from '../api/types';

export const F_AHU: Finding = {
  id: 'ahu-1/apar-13', equipment: 'ahu-1', equipment_name: 'AHU-1', kind: 'ahu', check: 'apar-13',
  title: 'Supply air too warm in mechanical cooling (APAR 13)',
  faults: ['cooling coil valve stuck', 'cooling capacity'], severity: 'major', state: 'active',
  since: '2026-11-27T14:00:00Z', last_seen: '2026-11-27T19:58:00Z', cleared_at: null, alert_id: 12,
  evidence: [
    { label: 'Supply air temperature', point: 'ahu-1.sat', value: 14.2, unit: 'degC' },
    { label: 'Supply air setpoint', point: 'ahu-1.sat-sp', value: 12, unit: 'degC' },
    { label: 'Error above threshold', point: null, value: 2.2, unit: 'K' },
  ],
  chart: { points: ['ahu-1.sat', 'ahu-1.sat-sp', 'ahu-1.ccv'], from: '2026-11-27T13:00:00Z', to: '2026-11-27T20:00:00Z' },
  impact: { kwh_per_day: 48, cost_per_day: 12.4, basis: 'Extra fan and chiller energy at the tariff energy price.' },
  action: 'Check the cooling valve actuator and the chilled water supply temperature.',
};

export const F_VAV: Finding = {
  id: 'vav-3/vav-2', equipment: 'vav-3', equipment_name: 'VAV 3', kind: 'vav', check: 'vav-2',
  title: 'Box damper hunting', faults: ['damper actuator'], severity: 'minor', state: 'active',
  since: '2026-11-26T09:30:00Z', last_seen: '2026-11-27T19:50:00Z', cleared_at: null, alert_id: null,
  evidence: [{ label: 'Damper moves per hour', point: null, value: 42, unit: '' }],
  chart: { points: ['vav-3.dmp'], from: '2026-11-27T16:00:00Z', to: '2026-11-27T20:00:00Z' },
  impact: { kwh_per_day: 3.5, cost_per_day: 0.9, basis: 'Fan energy of the excess airflow.' },
  action: 'Check the box controller tuning.',
};

export const F_CHILLER: Finding = {
  id: 'chiller-1/plant-4', equipment: 'chiller-1', equipment_name: 'Chiller 1', kind: 'chiller', check: 'plant-4',
  title: 'Chilled water too warm', faults: ['low refrigerant charge'], severity: 'critical', state: 'active',
  since: '2026-11-27T18:00:00Z', last_seen: '2026-11-27T19:59:00Z', cleared_at: null, alert_id: 15,
  evidence: [{ label: 'Chilled water supply', point: 'chiller-1.chws', value: 9.1, unit: 'degC' }],
  chart: { points: ['chiller-1.chws'], from: '2026-11-27T17:00:00Z', to: '2026-11-27T20:00:00Z' },
  impact: { kwh_per_day: null, cost_per_day: null, basis: 'No estimate: the chiller has no power meter.' },
  action: 'Check the refrigerant charge.',
};

export const F_CLEARED: Finding = {
  ...F_AHU, id: 'ahu-2/apar-26', equipment: 'ahu-2', equipment_name: 'AHU-2', check: 'apar-26',
  title: 'Mixed air colder than both streams (APAR 26)', faults: ['mixed air sensor'], state: 'cleared',
  cleared_at: '2026-11-27T11:00:00Z', alert_id: 9,
  impact: { kwh_per_day: 0, cost_per_day: 0, basis: 'A sensor fault costs nothing by itself.' },
};

/** The server's order: cost a day highest first, no estimate last. */
export const OPEN: Findings = {
  building: 'hpo', currency: 'USD', total_cost_per_day: 13.3, findings: [F_AHU, F_VAV, F_CHILLER],
};

export const ALL: Findings = { ...OPEN, findings: [F_AHU, F_VAV, F_CLEARED, F_CHILLER] };

export const EMPTY: Findings = { building: 'hpo', currency: 'USD', total_cost_per_day: null, findings: [] };

/** The AHU's points the evidence does not describe (the valve command). */
export const AHU_POINTS: Point[] = [
  { id: 'ahu-1.sat', equipment: 'ahu-1', name: 'Supply Air Temp', kind: 'temperature', unit: '°C', point_id: 70 },
  { id: 'ahu-1.ccv', equipment: 'ahu-1', name: 'Cooling Valve', kind: 'position', unit: '%', point_id: 71 },
];

export function history(pointId: number, from: number, values: number[]): History {
  return {
    point: pointId, res: '1m', kind: 'mean', from, to: from + values.length * 60_000, limit: 10_000,
    buckets: values.map((v, i) => ({ start: from + i * 60_000, n: 1, min: v, max: v, value: v, quality: 0 })),
    count: values.length, truncated: false, next: null,
  };
}

export const UNIT_AHU: FddUnit = {
  equipment: 'ahu-1', name: 'AHU-1', kind: 'ahu', watched: true, reason: '',
  overrides: { eps_t: 2.5 },
  params: [
    { name: 'eps_t', unit: 'K', doc: 'temperature threshold', lo: 0.1, hi: 10, default: 2, value: 2.5 },
    { name: 'on_delay_s', unit: 's', doc: 'how long a rule must hold before it fires', lo: 60, hi: 86_400, default: 3600, value: 3600 },
  ],
};

export const UNIT_VAV: FddUnit = {
  equipment: 'vav-3', name: 'VAV 3', kind: 'vav', watched: false, reason: 'no damper position point',
  overrides: {},
  params: [{ name: 'eps_f', unit: '', doc: 'airflow fraction threshold', lo: 0.05, hi: 1, default: 0.3, value: 0.3 }],
};

export const UNITS: FddUnit[] = [UNIT_AHU, UNIT_VAV];
