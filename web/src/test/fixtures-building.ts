/**
 * A building shaped like the simulated office (sbems-sim --site-json): a
 * main meter with lighting, plug and HVAC sub-meters and a chiller meter
 * under HVAC, a weather station, zones on two floors and one without a
 * floor.  Plugs have only a power point here, so the page's estimate from
 * power means is exercised too.  Times: the week up to Friday 2026-11-27
 * 10:00 in New York (EST, UTC-5: local midnights at 05:00 UTC).
 */
import type { Equipment, History, HistoryBucket, Point, Zone } from '../api/types';

export const NOW = Date.UTC(2026, 10, 27, 15, 0);

const band = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15.6, cooling: 26.7 } };
const weekdays = { 'mon-fri': '06:00-19:00' };
const zone = (id: string, name: string, floor: number | null): Zone => ({ id, building: 'hpo', name, floor, comfort: band, schedule: weekdays });

export const B_ZONES: Zone[] = [
  zone('f2-south', 'Floor 2 south', 2),
  zone('f1-south', 'Floor 1 south', 1),
  zone('f1-east', 'Floor 1 east', 1),
  zone('f1-core', 'Floor 1 core', 1),
  zone('f2-core', 'Floor 2 core', 2),
  zone('lobby', 'Lobby', null),
];

const meter = (id: string, name: string, parent?: string): Equipment =>
  ({ id, building: 'hpo', name, type: 'meter', ...(parent ? { parent } : {}), tags: ['elec', 'meter'] });

export const B_EQUIPMENT: Equipment[] = [
  meter('mtr-main', 'Main electricity meter'),
  meter('mtr-lighting', 'Lighting sub-meter', 'mtr-main'),
  meter('mtr-plugs', 'Plug loads sub-meter', 'mtr-main'),
  meter('mtr-hvac', 'HVAC sub-meter', 'mtr-main'),
  meter('mtr-chiller', 'Chiller sub-meter', 'mtr-hvac'),
  { id: 'weather', building: 'hpo', name: 'Weather service', type: 'other', tags: ['weatherStation', 'equip'] },
  ...B_ZONES.map((z): Equipment => ({ id: `vav-${z.id}`, building: 'hpo', name: `VAV ${z.name}`, type: 'vav', zone: z.id })),
  { id: 'iaq-f1-south', building: 'hpo', name: 'IAQ Floor 1 south', type: 'sensor', zone: 'f1-south', tags: ['iaq'] },
];

const modbus = (poll_s: number) => ({ driver: 'modbus' as const, address: {}, poll_s });
const wx = { driver: 'weather' as const, address: {}, poll_s: 300 };

export const ZONE_TEMP_ID = 100; // + index in B_ZONES

export const B_POINTS: Point[] = [
  { id: 'mtr-main.power', equipment: 'mtr-main', name: 'Active power', kind: 'power', unit: 'kW', point_id: 1, source: modbus(15) },
  { id: 'mtr-main.energy', equipment: 'mtr-main', name: 'Active energy', kind: 'energy', unit: 'Wh', point_id: 2, source: modbus(60) },
  { id: 'mtr-lighting.power', equipment: 'mtr-lighting', name: 'Active power', kind: 'power', unit: 'W', point_id: 3, source: modbus(15) },
  { id: 'mtr-lighting.energy', equipment: 'mtr-lighting', name: 'Import energy', kind: 'energy', unit: 'kWh', point_id: 4, source: modbus(60) },
  { id: 'mtr-plugs.power', equipment: 'mtr-plugs', name: 'Active power', kind: 'power', unit: 'W', point_id: 5, source: modbus(15) },
  { id: 'mtr-hvac.energy', equipment: 'mtr-hvac', name: 'Import energy', kind: 'energy', unit: 'kWh', point_id: 6, source: modbus(60) },
  { id: 'mtr-chiller.energy', equipment: 'mtr-chiller', name: 'Import energy', kind: 'energy', unit: 'kWh', point_id: 7, source: modbus(60) },
  { id: 'weather.oat', equipment: 'weather', name: 'Outdoor temperature', kind: 'temperature', unit: '°C', point_id: 20, source: wx, tags: ['weather', 'air', 'temp', 'sensor'] },
  { id: 'weather.rh', equipment: 'weather', name: 'Outdoor relative humidity', kind: 'humidity', unit: '%', point_id: 21, source: wx, tags: ['weather', 'air', 'humidity', 'sensor'] },
  { id: 'weather.dewpoint', equipment: 'weather', name: 'Outdoor dew point', kind: 'temperature', unit: '°C', point_id: 22, source: wx, tags: ['weather', 'air', 'dewpoint', 'sensor'] },
  { id: 'weather.ghi', equipment: 'weather', name: 'Global horizontal irradiance (W/m²)', kind: 'other', point_id: 23, source: wx, tags: ['weather', 'solar', 'irradiance', 'sensor'] },
  { id: 'weather.wind', equipment: 'weather', name: 'Wind speed at 10 m (m/s)', kind: 'other', point_id: 24, source: wx, tags: ['weather', 'wind', 'speed', 'sensor'] },
  { id: 'weather.cloud_cover', equipment: 'weather', name: 'Cloud cover', kind: 'other', unit: '%', point_id: 25, source: wx, tags: ['weather', 'cloud', 'sensor'] },
  ...B_ZONES.map((z, i): Point => ({ id: `vav-${z.id}.zat`, equipment: `vav-${z.id}`, name: 'Space temperature', kind: 'temperature', unit: '°C', point_id: ZONE_TEMP_ID + i, source: { driver: 'bacnet', poll_s: 60 } })),
  { id: 'iaq-f1-south.co2', equipment: 'iaq-f1-south', name: 'CO2', kind: 'co2', unit: 'ppm', point_id: 200, source: { driver: 'mqtt', address: {} } },
  { id: 'iaq-f1-south.occupancy', equipment: 'iaq-f1-south', name: 'People count', kind: 'occupancy', point_id: 201, source: { driver: 'mqtt', address: {} }, tags: ['zone', 'occupants', 'count', 'sensor'] },
];

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Local midnight (EST) of Nov 27 - n days. */
const midnight = (n: number) => Date.UTC(2026, 10, 27 - n, 5);

function history(point: number, res: History['res'], kind: History['kind'], buckets: HistoryBucket[]): History {
  return { point, res, kind, from: NOW - 7 * DAY, to: NOW, limit: 100000, count: buckets.length, truncated: false, next: null, buckets };
}

const bucket = (start: number, value: number, quality = 0): HistoryBucket => ({ start, n: 96, min: 0, max: 0, value, peak: 0, quality });

/**
 * Daily counter buckets: `past` kWh on each of Nov 21..26, `today` on Nov 27,
 * and a bucket for Nov 20 (the server returns the day the range starts in),
 * which is outside the 7 days and must not count.
 */
export function dailyHistory(point: number, past: number, today: number, over: Record<number, number> = {}): History {
  const b = [bucket(midnight(7), 9999)];
  for (let n = 6; n >= 1; n--) b.push(bucket(midnight(n), over[n] ?? past));
  b.push(bucket(midnight(0), today));
  return history(point, '1d', 'counter', b);
}

/** Hourly power means of `kw` from a week back to the running hour. */
export function hourlyPower(point: number, kw: number): History {
  const b: HistoryBucket[] = [];
  for (let t = NOW - 7 * DAY; t <= NOW; t += HOUR) b.push(bucket(t, kw));
  return history(point, '1h', 'rate', b);
}

/**
 * Expected split (kWh): main 2000 a day, 1000 today; lighting 400 / 150;
 * HVAC 900 / 300 with the chiller 500 / 120 inside it; plugs 10 kW = 240 a
 * day, 100 by 10:00 today; other = 2000 - 1540 = 460 a day, 450 today.
 */
export const B_HISTORIES: Record<string, History> = {
  'mtr-main.energy': dailyHistory(2, 2000, 1000),
  'mtr-lighting.energy': dailyHistory(4, 400, 150),
  'mtr-hvac.energy': dailyHistory(6, 900, 300),
  'mtr-chiller.energy': dailyHistory(7, 500, 120),
  'mtr-plugs.power': hourlyPower(5, 10),
};
