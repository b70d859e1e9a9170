/**
 * Questions about the building model that several pages ask, answered by the
 * same rules as the server (src/api/h_data.c) so the UI and the API agree.
 */
import type { Equipment, Point, PointKind } from '../api/types';

/**
 * The power points of a building's main meters: meters without a parent
 * meter, each with its first non-virtual power point (the overview's live
 * power is their sum).
 */
export function mainMeterPowerPoints(building: string, equipment: readonly Equipment[],
                                     points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (const e of equipment) {
    if (e.building !== building || e.type !== 'meter' || e.parent) continue;
    const p = points.find((x) => x.equipment === e.id && x.kind === 'power' && x.source?.driver !== 'virtual');
    if (p) out.push(p);
  }
  return out;
}

/** The zone's temperature: the first temperature point of equipment serving it. */
export function zoneTemperaturePoint(zone: string, equipment: readonly Equipment[],
                                     points: readonly Point[]): Point | undefined {
  const serving = new Set(equipment.filter((e) => e.zone === zone).map((e) => e.id));
  return points.find((p) => p.kind === 'temperature' && serving.has(p.equipment));
}

/** The first point of a kind among the given equipment (zone charts). */
export function firstOfKind<T extends { kind: PointKind }>(points: readonly T[], kind: PointKind): T | undefined {
  return points.find((p) => p.kind === kind);
}

/** Sum of the newest values, or null when none is known. */
export function sumKnown(values: readonly (number | null | undefined)[]): number | null {
  let sum = 0;
  let any = false;
  for (const v of values) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      sum += v;
      any = true;
    }
  }
  return any ? sum : null;
}

const TYPE_NAMES: Record<string, string> = {
  ahu: 'Air handler',
  rtu: 'Rooftop unit',
  vav: 'VAV box',
  chiller: 'Chiller',
  boiler: 'Boiler',
  heat_pump: 'Heat pump',
  fan_coil: 'Fan coil',
  thermostat: 'Thermostat',
  meter: 'Meter',
  sensor: 'Sensor',
  other: 'Other',
};

export function equipmentTypeName(t: string): string {
  return TYPE_NAMES[t] ?? t;
}

const CANONICAL: Partial<Record<PointKind, string>> = {
  temperature: '°C',
  humidity: '%',
  co2: 'ppm',
  pressure: 'Pa',
  flow: 'L/s',
  position: '%',
  power: 'kW',
  energy: 'kWh',
  status: '',
  occupancy: '',
};

/**
 * The unit readings of a point arrive in: its kind's canonical unit, or for
 * setpoint, command and other points, the unit it declares.
 */
export function canonicalUnit(p: Pick<Point, 'kind' | 'unit'>): string {
  return CANONICAL[p.kind] ?? p.unit ?? '';
}
