/** Alerts, rules and templates as the alerts API brief shows them, for the Harbor Point Office (hpo). */
import type { Alert, AlertDetail, AlertRule, RuleTemplate } from '../api/alerts';
import type { Building, Equipment, Point, Zone } from '../api/types';
import { BUILDING } from './fixtures';

export const BUILDINGS: Building[] = [
  BUILDING,
  { id: 'lab', site: 'harbor-point', name: 'Harbor Lab', timezone: 'Europe/Berlin' },
];

export const AL_EQUIPMENT: Equipment[] = [
  { id: 'ahu-1', building: 'hpo', name: 'AHU-1', type: 'ahu' },
  { id: 'mtr-main', building: 'hpo', name: 'Main meter', type: 'meter' },
  { id: 'vav-1', building: 'hpo', name: 'VAV 1', type: 'vav', zone: 'f1-south' },
];

export const AL_POINTS: Point[] = [
  { id: 'ahu-1.discharge-air-temp', equipment: 'ahu-1', name: 'Discharge Air Temp', kind: 'temperature', unit: '°C', point_id: 55 },
  { id: 'ahu-1.duct-static', equipment: 'ahu-1', name: 'Duct Static Pressure', kind: 'pressure', unit: 'inH2O', point_id: 57 },
  { id: 'mtr-main.power', equipment: 'mtr-main', name: 'Power', kind: 'power', unit: 'kW', point_id: 1 },
  { id: 'vav-1.zat', equipment: 'vav-1', name: 'Space Temperature', kind: 'temperature', unit: '°F', point_id: 60 },
];

export const AL_ZONES: Zone[] = [{ id: 'f1-south', building: 'hpo', name: 'Floor 1 south', floor: 1 }];

const base: Alert = {
  id: 42, rule: 'ahu-1-sat-high', rule_name: 'AHU-1 discharge air too warm', building: 'hpo', key: 'ahu-1-sat-high',
  severity: 'major', state: 'active', cleared: false, raised: '2026-11-27T20:01:02Z', raised_ms: Date.parse('2026-11-27T20:01:02Z'),
  cleared_at: null, acknowledged: null, acknowledged_by: null, resolved: null, resolved_by: null, assignee: null,
  shelved_until: null, escalated_level: 0, flaps: 0, count: 3, value: 17.2,
  message: 'AHU-1 discharge air 17.2 °C above 16.0 °C for 5 min',
  point: 'ahu-1.discharge-air-temp', equipment: 'ahu-1', zone: null, point_id: 55,
};

export const ALERT_42: Alert = base;

export const ALERT_41: Alert = {
  ...base, id: 41, rule: 'main-power-high', rule_name: 'Main meter demand high', key: 'main-power-high', severity: 'critical',
  state: 'acknowledged', cleared: true, raised: '2026-11-27T18:00:00Z', raised_ms: Date.parse('2026-11-27T18:00:00Z'),
  cleared_at: '2026-11-27T18:30:00Z', acknowledged: '2026-11-27T18:05:00Z', acknowledged_by: 'ann', assignee: 'ann',
  shelved_until: '2099-01-01T00:00:00Z', count: 1, value: 512.3, message: 'Main meter 512.3 kW above 500 kW',
  point: 'mtr-main.power', equipment: 'mtr-main', point_id: 1,
};

export const ALERTS: Alert[] = [ALERT_42, ALERT_41];

export function detail(a: Alert, extra: Partial<AlertDetail> = {}): AlertDetail {
  return {
    ...a,
    events: [
      { t: a.raised, ts: a.raised_ms, kind: 'raised', actor: 'sbems', detail: 'value 16.8 °C' },
      { t: '2026-11-27T20:11:02Z', ts: a.raised_ms + 600_000, kind: 're-raised', actor: 'sbems', detail: 'value 17.2 °C' },
    ],
    ...extra,
  };
}

export const RULE_SAT: AlertRule = {
  id: 'ahu-1-sat-high', name: 'AHU-1 discharge air too warm', type: 'threshold', building: 'hpo',
  point: 'ahu-1.discharge-air-temp', severity: 'major', above: 16.0, below: null, hysteresis: 0.5,
  on_delay_s: 300, off_delay_s: 120, enabled: true, message: null, template: null,
  updated: '2026-11-27T10:00:00Z', updated_by: 'ann',
};

export const RULE_OFFLINE: AlertRule = {
  id: 'ahu-1-offline', name: 'AHU-1 offline', type: 'offline', building: 'hpo', equipment: 'ahu-1',
  severity: 'critical', on_delay_s: 600, enabled: false, template: 'device-offline',
};

export const RULE_COMFORT: AlertRule = {
  id: 'f1-south-comfort', name: 'Floor 1 south comfort', type: 'comfort', building: 'hpo', zone: 'f1-south',
  severity: 'minor', kh_limit: 2, window_s: 86_400, enabled: true, template: 'zone-comfort',
};

export const RULES: AlertRule[] = [RULE_SAT, RULE_OFFLINE, RULE_COMFORT];

export const TEMPLATES: RuleTemplate[] = [
  { id: 'zone-comfort', name: 'Zone comfort', applies_to: 'zone', description: 'Each zone outside its band for 2 K·h a day' },
  { id: 'ahu-discharge-temp', name: 'AHU discharge temperature', applies_to: 'point', description: 'Discharge air far from its setpoint' },
  { id: 'device-offline', name: 'Device offline', applies_to: 'equipment', description: 'Every polled point stale for 10 min' },
  { id: 'sensor-stale', name: 'Sensor stale', applies_to: 'point', description: 'No reading for 15 min' },
];
