/**
 * The equipment pages' side of the API: the calls they make, and the rules
 * that find an equipment's points by what they are rather than by id.
 *
 * Finding points: a summary cell ("discharge air temp", "fan status") is a
 * rule over the point's kind, its Haystack tags, its Brick class and, last,
 * its name.  Tags are tried first, then the Brick class, then the name,
 * because models differ in what they fill in: the simulated office has
 * `discharge air temp sensor` tags on most points but none on its fan
 * start/stop or chiller enable, whose Brick class is the generic `Point`,
 * so only the name says what they are.  A cell whose rule finds nothing is
 * left out: no id is ever hard-coded.
 */
import type { ApiClient } from './client';
import type { Equipment, EquipmentType, Point, PointKind, TelemetryPoint } from './types';
import { canonicalUnit, equipmentTypeName } from '../lib/model';
import { convert, isTemperatureUnit } from '../lib/units';
import { zonedParts } from '../lib/time';

/** Point and Equipment as the API sends them; `brick` is in openapi.json but not in types.ts. */
export type EqPoint = Point & { brick?: string | null };
export type EqEquipment = Equipment & { brick?: string | null };

/** GET /equipment/{e}/telemetry (openapi.json "Telemetry"). */
export interface Telemetry {
  equipment: string;
  type: string;
  name: string;
  points: TelemetryPoint[];
}

const seg = (s: string) => encodeURIComponent(s);

// ---- calls --------------------------------------------------------------------------

export function getEquipment(client: ApiClient, id: string, signal?: AbortSignal): Promise<EqEquipment> {
  return client.get<EqEquipment>(`/api/v1/equipment/${seg(id)}`, undefined, signal);
}

export function getTelemetry(client: ApiClient, id: string, signal?: AbortSignal): Promise<Telemetry> {
  return client.get<Telemetry>(`/api/v1/equipment/${seg(id)}/telemetry`, undefined, signal);
}

export function listEquipment(client: ApiClient, building: string, signal?: AbortSignal): Promise<EqEquipment[]> {
  return client.listAll<EqEquipment>('/api/v1/equipment', { building }, signal);
}

export function listPoints(client: ApiClient, building: string, signal?: AbortSignal): Promise<EqPoint[]> {
  return client.listAll<EqPoint>('/api/v1/points', { building }, signal);
}

/** Local midnight of the day containing `now` in tz (ms). */
export function localMidnight(now: number, tz: string): number {
  return Math.floor(now / 60_000) * 60_000 - zonedParts(now, tz).minute * 60_000;
}

export interface TodayEnergy {
  /** consumption since local midnight, kWh */
  kwh: number;
  /** highest counter reading in today's bucket (kWh), to continue it with live readings */
  max: number | null;
}

/**
 * Today's consumption of one energy point: the open daily bucket of its
 * counter rollup (the store's days are the building's local days), the
 * same figure GET /buildings/{b}/overview sums over the main meters.  No
 * bucket for today: null.
 */
export async function todayEnergy(client: ApiClient, slug: string, tz: string, now: number,
                                  signal?: AbortSignal): Promise<TodayEnergy | null> {
  const h = await client.history(slug, { from: now - 86_400_000, to: now + 1, resolution: '1d' }, signal);
  const b = h.buckets?.[h.buckets.length - 1];
  // yesterday's bucket starts a day before midnight; two hours of slack covers DST days
  if (!b || typeof b.value !== 'number' || b.start < localMidnight(now, tz) - 2 * 3_600_000) return null;
  return { kwh: b.value, max: b.max };
}

/** Today's kWh continued by a live counter reading newer than the bucket's highest. */
export function todayWithLive(t: TodayEnergy, live: number | undefined): number {
  if (typeof live !== 'number' || typeof t.max !== 'number' || live < t.max) return t.kwh; // no reading, or a reset
  return t.kwh + (live - t.max);
}

// ---- finding points -------------------------------------------------------------------

export interface Rule {
  kinds?: readonly PointKind[];
  /** Haystack tags: each group needs one of its tags */
  tags?: readonly (readonly string[])[];
  brick?: RegExp;
  name?: RegExp;
  /** never a point with one of these tags, or a name matching */
  notTags?: readonly string[];
  notName?: RegExp;
  /** only points without a unit (states, on/off) */
  unitless?: boolean;
}

function allowed(p: EqPoint, r: Rule, skip?: ReadonlySet<string>): boolean {
  if (skip?.has(p.id)) return false;
  if (r.kinds && !r.kinds.includes(p.kind)) return false;
  if (r.unitless && p.unit) return false;
  if (r.notTags && (p.tags ?? []).some((t) => r.notTags?.includes(t))) return false;
  return !(r.notName && r.notName.test(p.name));
}

/** The first point the rule finds: by tags, else by Brick class, else by name. */
export function findPoint(points: readonly EqPoint[], r: Rule, skip?: ReadonlySet<string>): EqPoint | undefined {
  const cand = points.filter((p) => allowed(p, r, skip));
  const tagged = r.tags && cand.find((p) => {
    const tags = p.tags ?? [];
    return r.tags?.every((group) => group.some((t) => tags.includes(t)));
  });
  return tagged || (r.brick && cand.find((p) => !!p.brick && r.brick?.test(p.brick))) ||
    (r.name && cand.find((p) => r.name?.test(p.name))) || undefined;
}

const MOVING = ['command', 'position', 'other'] as const;

export const RULES = {
  dischargeTemp: { kinds: ['temperature'], tags: [['discharge', 'supply'], ['air'], ['temp']],
                   brick: /^(Discharge|Supply)_Air_Temperature_Sensor$/, name: /(discharge|supply) air temp/i },
  dischargeTempSp: { kinds: ['setpoint'], tags: [['discharge', 'supply'], ['air'], ['temp'], ['sp']],
                     brick: /^(Discharge|Supply)_Air_Temperature_Setpoint$/, name: /(discharge|supply) air temp.*(setpoint|\bsp\b)/i },
  fanRun: { kinds: ['status', 'command', 'other'], unitless: true, tags: [['fan'], ['run', 'enable', 'status']],
            notTags: ['speed', 'mode'], brick: /Fan_(Status|Start_Stop|Run|On_Off)/,
            name: /fan.*(start|stop|run|status|enable|on\/off)|(start|stop|enable).*fan/i, notName: /speed|mode/i },
  fanSpeed: { kinds: MOVING, tags: [['fan'], ['speed']], brick: /Fan_Speed/, name: /fan speed|vfd/i },
  outsideDamper: { kinds: MOVING, tags: [['outside', 'outdoor'], ['damper']], brick: /Outside_Air_Damper/,
                   name: /(outdoor|outside) air damper|\boa damper/i },
  coolingValve: { kinds: MOVING, tags: [['cool', 'cooling', 'chilled'], ['valve']], brick: /Cooling_Valve|Chilled_Water_Valve/,
                  name: /cool(ing)? (coil )?valve|chilled water valve/i },
  heatingValve: { kinds: MOVING, tags: [['heat', 'heating', 'reheat', 'hot'], ['valve']], brick: /Heating_Valve|Hot_Water_Valve|Reheat/,
                  name: /(reheat|heat(ing)?|hot water) (coil )?valve|reheat/i },
  staticPressure: { kinds: ['pressure'], tags: [['static', 'discharge', 'supply', 'duct'], ['pressure']],
                    brick: /Static_Pressure_Sensor/, name: /static pressure/i },
  staticPressureSp: { kinds: ['setpoint'], tags: [['static', 'discharge', 'supply', 'duct'], ['pressure'], ['sp']],
                      brick: /Static_Pressure_Setpoint/, name: /static pressure.*setpoint/i },
  economizer: { tags: [['economizer', 'economizing']], brick: /Economizer/, name: /economi[sz]er/i },
  zoneTemp: { kinds: ['temperature'], tags: [['zone', 'room', 'space'], ['temp']], brick: /^(Zone|Room|Space)_Air_Temperature_Sensor$/,
              name: /(zone|room|space) (air )?temp/i },
  heatingSp: { kinds: ['setpoint'], tags: [['heating', 'heat'], ['sp']], brick: /Heating_(Temperature_)?Setpoint/,
               name: /heat(ing)? setpoint/i },
  coolingSp: { kinds: ['setpoint'], tags: [['cooling', 'cool'], ['sp']], brick: /Cooling_(Temperature_)?Setpoint/,
               name: /cool(ing)? setpoint/i },
  tempSp: { kinds: ['setpoint'], tags: [['temp'], ['sp']], brick: /Temperature_Setpoint/, name: /temp.*setpoint|setpoint/i },
  airflow: { kinds: ['flow'], tags: [['air'], ['flow']], brick: /Air_Flow_Sensor/, name: /air ?flow/i },
  airflowSp: { kinds: ['setpoint'], tags: [['flow'], ['sp']], brick: /Air_Flow_Setpoint/, name: /flow.*setpoint/i },
  damper: { kinds: MOVING, tags: [['damper']], brick: /Damper/, name: /damper|air valve/i },
  mode: { kinds: ['command', 'status', 'other'], tags: [['mode']], notTags: ['fan'], brick: /Mode/, name: /mode/i, notName: /fan/i },
  running: { kinds: ['status', 'other'], unitless: true, tags: [['run', 'running', 'proof']],
             notTags: ['occupied', 'online', 'hold', 'fault', 'alarm'], brick: /(Run|On_Off|Start_Stop)_Status|Fan_Status/,
             name: /\b(running|run status|status|proof)\b/i, notName: /occup|online|connection|hold|fault|alarm/i },
  fault: { kinds: ['status', 'other', 'command'], unitless: true, tags: [['fault', 'alarm']], brick: /Fault|Alarm/,
           name: /\b(fault|alarm|trip)\b/i },
  online: { kinds: ['status', 'other'], unitless: true, tags: [['online']], name: /online|connection/i },
  enable: { kinds: ['command', 'status'], unitless: true, tags: [['enable']], brick: /Enable|Start_Stop/, name: /enable|start.?stop/i },
  chilledWaterTemp: { kinds: ['temperature'], tags: [['chilled'], ['water'], ['temp']], brick: /Chilled_Water.*Temperature_Sensor/,
                      name: /chw|chilled water/i },
  chilledWaterSp: { kinds: ['setpoint'], tags: [['chilled'], ['water'], ['sp']], brick: /Chilled_Water.*Setpoint/,
                    name: /chw|chilled water/i },
  load: { kinds: ['power'], tags: [['thermal', 'load']], brick: /Thermal_Power|Load/, name: /\bload\b/i },
  cop: { tags: [['cop', 'efficiency']], brick: /Coefficient_Of_Performance|COP/, name: /\bcop\b|coefficient of performance/i },
  partLoad: { kinds: ['other', 'position'], tags: [['plr']], name: /\bplr\b|part.?load/i },
} satisfies Record<string, Rule>;

export type RuleName = keyof typeof RULES;

export function find(points: readonly EqPoint[], name: RuleName, skip?: ReadonlySet<string>): EqPoint | undefined {
  return findPoint(points, RULES[name], skip);
}

// ---- states and commands ----------------------------------------------------------------

/**
 * A two-state point: a status, or a command with no unit and no range
 * other than 0..1 (docs/site-format.md: `command` is for on/off and
 * multistate commands, modulating outputs are `position` or `%`).  A
 * unitless command with a wider range (a thermostat mode 0..4) is
 * multistate, so it gets the numeric control.
 */
export function isBinary(p: Pick<Point, 'kind' | 'unit' | 'min' | 'max'>): boolean {
  if (p.kind !== 'status' && p.kind !== 'command') return false;
  if (p.min === 0 && p.max === 1) return true;
  return !p.unit && (p.min === null || p.min === undefined) && (p.max === null || p.max === undefined);
}

/** The words for 0 and 1 of a two-state point. */
export function stateWords(p: Pick<Point, 'name' | 'tags'>): [string, string] {
  const tags = p.tags ?? [];
  const n = p.name.toLowerCase();
  if (tags.includes('occupied') || /occup/.test(n)) return ['Unoccupied', 'Occupied'];
  if (tags.includes('online') || /online|connection/.test(n)) return ['Offline', 'Online'];
  if (tags.includes('fault') || tags.includes('alarm') || /fault|alarm/.test(n)) return ['Normal', 'Fault'];
  if (tags.includes('enable') || /enable/.test(n)) return ['Disabled', 'Enabled'];
  return ['Off', 'On'];
}

/** "On", "Off", or the number itself for a value that is neither 0 nor 1. */
export function stateText(p: Pick<Point, 'name' | 'tags'>, v: number): string {
  const [off, on] = stateWords(p);
  if (v === 0) return off;
  if (v === 1) return on;
  return String(Math.round(v * 100) / 100);
}

export interface StatusPoints {
  fault?: EqPoint;
  run?: EqPoint;
  online?: EqPoint;
}

/** What the list shows as an equipment's status: a fault, a run state (or its start/stop command), a connection. */
export function statusPoints(points: readonly EqPoint[]): StatusPoints {
  const run = find(points, 'running') ?? points.find((p) => p.writable && isBinary(p) && p.kind === 'command');
  return { fault: find(points, 'fault'), run, online: find(points, 'online') };
}

// ---- summaries ---------------------------------------------------------------------------

export type Cell =
  | { kind: 'value'; key: string; label: string; point: EqPoint; state?: boolean; note?: string;
      /** compared with the value: a setpoint */
      ref?: { label: string; point: EqPoint; compare: boolean }[] }
  | { kind: 'cop'; key: string; label: string; cop?: EqPoint; load?: EqPoint; electric?: EqPoint }
  | { kind: 'today'; key: string; label: string; point: EqPoint };

function value(key: string, label: string, point: EqPoint | undefined, extra: Partial<Extract<Cell, { kind: 'value' }>> = {}): Cell[] {
  return point ? [{ kind: 'value', key, label, point, ...extra }] : [];
}

/** A run state read from a command says what was asked, not what runs: say so. */
function runState(p: EqPoint | undefined): Partial<Extract<Cell, { kind: 'value' }>> {
  return { state: true, note: p?.kind === 'command' ? `commanded (${p.name}); no run status point` : undefined };
}

function refs(...list: [string, EqPoint | undefined, boolean][]) {
  const out = list.filter((r): r is [string, EqPoint, boolean] => !!r[1]).map(([label, point, compare]) => ({ label, point, compare }));
  return out.length ? out : undefined;
}

/** The first non-virtual power point (as the overview picks a meter's), else any. */
export function meterPower(points: readonly EqPoint[]): EqPoint | undefined {
  return points.find((p) => p.kind === 'power' && p.source?.driver !== 'virtual') ?? points.find((p) => p.kind === 'power');
}

/** The power a plant draws (electricity, gas): a power point that is not its load. */
function inputPower(points: readonly EqPoint[], load: EqPoint | undefined): EqPoint | undefined {
  const skip = new Set(load ? [load.id] : []);
  return findPoint(points, { kinds: ['power'], tags: [['elec', 'gas', 'fuel']], brick: /Electric_Power|Gas|Fuel/, name: /kw|power|gas/i }, skip) ??
    points.find((p) => p.kind === 'power' && !skip.has(p.id));
}

/** The cells of an equipment's "now" summary, by its type; cells without a point are left out. */
export function summaryCells(type: EquipmentType | string, points: readonly EqPoint[]): Cell[] {
  const f = (n: RuleName) => find(points, n);
  const byKind = (k: PointKind) => points.find((p) => p.kind === k);
  switch (type) {
    case 'ahu':
    case 'rtu':
    case 'fan_coil':
    case 'heat_pump': {
      const sp = f('staticPressureSp');
      return [
        ...value('dat', 'Discharge air temp', f('dischargeTemp'), { ref: refs(['setpoint', f('dischargeTempSp'), true]) }),
        ...((fan) => value('fan', 'Supply fan', fan, runState(fan)))(f('fanRun') ?? f('running')),
        ...value('speed', 'Fan speed', f('fanSpeed')),
        ...value('oad', 'Outside air damper', f('outsideDamper')),
        ...value('clg', 'Cooling valve', f('coolingValve')),
        ...value('htg', 'Heating valve', f('heatingValve')),
        ...value('sp', 'Static pressure', f('staticPressure'), { ref: refs(['setpoint', sp, true]) }),
        ...value('eco', 'Economizer', f('economizer'), { state: true }),
      ];
    }
    case 'vav':
      return [
        ...value('zat', 'Zone temperature', f('zoneTemp') ?? byKind('temperature'),
                 { ref: refs(['heating setpoint', f('heatingSp'), false], ['cooling setpoint', f('coolingSp'), false]) }),
        ...value('flow', 'Airflow', f('airflow') ?? byKind('flow'), { ref: refs(['setpoint', f('airflowSp'), true]) }),
        ...value('damper', 'Damper', f('damper')),
        ...value('reheat', 'Reheat', f('heatingValve')),
      ];
    case 'chiller': {
      const load = f('load');
      const electric = inputPower(points, load);
      const cop = f('cop');
      return [
        ...((st) => value('status', 'Status', st, runState(st)))(f('running') ?? f('enable')),
        ...value('chw', 'Chilled water', f('chilledWaterTemp'), { ref: refs(['setpoint', f('chilledWaterSp'), true]) }),
        ...value('load', 'Cooling load', load),
        ...value('kw', 'Electric power', electric),
        ...(cop || (load && electric) ? [{ kind: 'cop' as const, key: 'cop', label: 'COP', cop, load, electric }] : []),
        ...value('plr', 'Part load ratio', f('partLoad')),
      ];
    }
    case 'boiler': {
      const load = f('load');
      return [
        ...((st) => value('status', 'Status', st, runState(st)))(f('running') ?? f('enable')),
        ...value('load', 'Heating load', load),
        ...value('in', 'Input power', inputPower(points, load)),
      ];
    }
    case 'thermostat': {
      const htg = f('heatingSp');
      const clg = f('coolingSp');
      return [
        ...value('room', 'Room temperature', f('zoneTemp') ?? byKind('temperature')),
        ...value('htg', 'Heating setpoint', htg),
        ...value('clg', 'Cooling setpoint', clg),
        ...(htg || clg ? [] : value('sp', 'Setpoint', f('tempSp'))),
        ...value('mode', 'Mode', f('mode')),
        ...value('rh', 'Humidity', byKind('humidity')),
        ...value('occ', 'Occupancy', byKind('occupancy')),
      ];
    }
    case 'meter': {
      const energy = byKind('energy');
      return [
        ...value('kw', 'Power', meterPower(points)),
        ...(energy ? [{ kind: 'today' as const, key: 'today', label: 'Energy today', point: energy }] : []),
      ];
    }
    case 'sensor':
      return [
        ...value('t', 'Temperature', byKind('temperature')),
        ...value('rh', 'Humidity', byKind('humidity')),
        ...value('co2', 'CO₂', byKind('co2')),
        ...value('occ', 'Occupancy', byKind('occupancy')),
      ];
    default:
      return [];
  }
}

/** The one value that says most about an equipment (the first summary value), for lists of children. */
export function keyPoint(type: string, points: readonly EqPoint[]): EqPoint | undefined {
  const c = summaryCells(type, points).find((x) => x.kind === 'value');
  return c?.kind === 'value' ? c.point : undefined;
}

// ---- units of readings ------------------------------------------------------------------

/** The unit a point's readings (live, history) arrive in. */
export function readingUnit(p: Pick<Point, 'kind' | 'unit'>): string {
  return canonicalUnit(p);
}

/** The unit commands, min/max and the priority array of a point are in: the declared one. */
export function commandUnit(p: Pick<Point, 'kind' | 'unit'>): string {
  return p.unit ?? readingUnit(p);
}

/** Two readings in one unit (°C for temperatures), or null when they cannot be compared. */
export function comparable(a: number, ua: string, b: number, ub: string): [number, number] | null {
  if (isTemperatureUnit(ua) && isTemperatureUnit(ub)) return [convert(a, ua, '°C'), convert(b, ub, '°C')];
  return ua === ub ? [a, b] : null;
}

// ---- the list ------------------------------------------------------------------------------

export const TYPE_ORDER: readonly string[] = ['ahu', 'rtu', 'vav', 'fan_coil', 'heat_pump', 'chiller', 'boiler',
  'thermostat', 'meter', 'sensor', 'other'];

const PLURAL: Record<string, string> = {
  ahu: 'Air handlers', rtu: 'Rooftop units', vav: 'VAV boxes', fan_coil: 'Fan coils', heat_pump: 'Heat pumps',
  chiller: 'Chillers', boiler: 'Boilers', thermostat: 'Thermostats', meter: 'Meters', sensor: 'Sensors',
  other: 'Other equipment',
};

export function typePlural(t: string): string {
  return PLURAL[t] ?? equipmentTypeName(t);
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Equipment grouped by type in a fixed order (air side, plant, terminals, meters), names in natural order. */
export function groupByType<T extends Pick<Equipment, 'type' | 'name'>>(list: readonly T[]): { type: string; items: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const e of list) groups.set(e.type, [...(groups.get(e.type) ?? []), e]);
  const rank = (t: string) => (TYPE_ORDER.includes(t) ? TYPE_ORDER.indexOf(t) : TYPE_ORDER.length);
  return [...groups.entries()]
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))
    .map(([type, items]) => ({ type, items: [...items].sort((a, b) => byName.compare(a.name, b.name)) }));
}

/** Whether every word of the query is in the equipment's name, id, type, vendor, model or zone. */
export function matchesFilter(e: EqEquipment, query: string, zoneName?: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [e.name, e.id, e.type, equipmentTypeName(e.type), typePlural(e.type), e.vendor, e.model, zoneName]
    .filter(Boolean).join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}
