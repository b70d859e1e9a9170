/** A small site as sbems would describe it (shapes from src/api/openapi.json). */
import type { Building, Equipment, Overview, Point, Zone, ZoneStatus } from '../api/types';

export const BUILDING: Building = { id: 'hpo', site: 'harbor-point', name: 'Harbor Point Office', timezone: 'America/New_York' };

export const ZONE: Zone = {
  id: 'f1-south',
  building: 'hpo',
  name: 'Floor 1 south',
  floor: 1,
  comfort: { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15.6, cooling: 26.7 } },
  schedule: { 'mon-fri': '06:00-19:00' },
};

export const EQUIPMENT: Equipment[] = [
  { id: 'mtr-main', building: 'hpo', name: 'Main meter', type: 'meter' },
  { id: 'vav-1', building: 'hpo', name: 'VAV 1', type: 'vav', zone: 'f1-south' },
];

const bacnet = (poll_s = 60) => ({ driver: 'bacnet' as const, address: {}, poll_s });

export const POINTS: Point[] = [
  { id: 'mtr-main.power', equipment: 'mtr-main', name: 'Power', kind: 'power', unit: 'kW', point_id: 1, source: { driver: 'modbus', address: {}, poll_s: 15 } },
  { id: 'vav-1.zat', equipment: 'vav-1', name: 'Space Temperature', kind: 'temperature', unit: '°C', point_id: 55, source: bacnet() },
  { id: 'vav-1.htg-sp', equipment: 'vav-1', name: 'Heating Setpoint', kind: 'setpoint', unit: '°C', writable: true, min: 15, max: 28, point_id: 56, source: bacnet() },
  { id: 'vav-1.co2', equipment: 'vav-1', name: 'Space CO2', kind: 'co2', unit: 'ppm', point_id: 58, source: bacnet() },
];

export const ZONE_STATUS: ZoneStatus = {
  zone: 'f1-south',
  name: 'Floor 1 south',
  occupied: true,
  band: { heating: 21, cooling: 24 },
  comfort: 'in_band',
  temperature: 22.1,
  equipment: [
    {
      equipment: 'vav-1',
      points: POINTS.filter((p) => p.equipment === 'vav-1').map((p) => ({
        point: p.point_id as number,
        slug: p.id,
        unit: p.unit ?? '',
        t: null,
        ts: null,
        value: null,
        quality: null,
        kind: p.kind,
        writable: !!p.writable,
        name: p.name,
      })),
    },
  ],
};

export const OVERVIEW: Overview = {
  building: 'hpo',
  name: 'Harbor Point Office',
  at: '2026-11-27T19:54:43.597Z',
  power_kw: 312.4,
  energy_today_kwh: 2150,
  comfort: { zones: 15, occupied: 15, in_band: 12, too_warm: 1, too_cold: 1, unknown: 1, score: 85.7 },
  alerts: { available: false, active: null },
};

export const page = <T,>(items: T[]) => ({ items, next_cursor: null });

export const EMPTY_HISTORY = { point: 55, res: '1m', from: 0, to: 0, limit: 100000, count: 0, truncated: false, next: null, buckets: [] };
