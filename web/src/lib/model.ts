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

// A reading is stored in the canonical unit of its declared unit's dimension
// (docs/internals/model.md, "Units"), whatever the kind: a flow setpoint
// declared in m³/s reads in L/s, a setpoint declared in °F reads in °C.
// Commands, min/max and the priority array stay in the declared unit.
const CANON: Record<string, string> = {
  '°C': '°C', '°F': '°C', K: '°C', '%': '%', '%RH': '%', ppm: 'ppm', count: '', '-': '',
  W: 'kW', kW: 'kW', MW: 'kW', 'Btu/h': 'kW', 'kBtu/h': 'kW', tonref: 'kW', hp: 'kW',
  Wh: 'kWh', kWh: 'kWh', MWh: 'kWh', Btu: 'kWh', kBtu: 'kWh', MMBtu: 'kWh', therm: 'kWh', MJ: 'kWh', GJ: 'kWh',
  Pa: 'Pa', kPa: 'Pa', hPa: 'Pa', bar: 'Pa', mbar: 'Pa', psi: 'Pa', inH2O: 'Pa', inHg: 'Pa',
  'L/s': 'L/s', 'L/min': 'L/s', 'm³/s': 'L/s', 'm³/h': 'L/s', cfm: 'L/s', gpm: 'L/s',
  'm³': 'm³', L: 'm³', gal: 'm³', 'ft³': 'm³', ccf: 'm³', Hz: 'Hz', A: 'A', mA: 'A', V: 'V', kV: 'V',
};

/**
 * The unit readings of a point arrive in: the canonical unit of its declared
 * unit's dimension (src/model/units.c), whatever its kind (a setpoint declared
 * in °F reads in °C, a flow setpoint in m³/s reads in L/s); without a declared
 * unit, its kind's canonical unit.  Commands, min/max and priority slots stay
 * in the declared unit (SetpointControl, PriorityPanel take p.unit).
 */
export function canonicalUnit(p: Pick<Point, 'kind' | 'unit'>): string {
  return (p.unit ? CANON[p.unit] : undefined) ?? CANONICAL[p.kind] ?? p.unit ?? '';
}
