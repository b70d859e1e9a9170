/**
 * Units as the user wants them.  sbems answers in each point's canonical unit
 * (docs/site-format.md, "Kinds, units and aggregation"): temperatures in °C,
 * power in kW, energy in kWh; a setpoint in its own declared unit (°C, °F,
 * Pa ...), which is also the unit its commands take.  The UI converts
 * temperatures to the preferred scale for display and converts what the user
 * types back into the point's unit before sending a command.
 */

export type TempUnit = 'C' | 'F';

export const TEMP_SYMBOL: Record<TempUnit, string> = { C: '°C', F: '°F' };

/**
 * How power and energy are shown: kW/kWh (the store's canonical units),
 * MW/MWh for campuses, or kBtu/h/kBtu as US energy reports (ENERGY STAR
 * Portfolio Manager) give them.
 */
export type EnergyUnit = 'kWh' | 'MWh' | 'kBtu';

export const ENERGY_SYMBOLS: Record<EnergyUnit, { power: string; energy: string }> = {
  kWh: { power: 'kW', energy: 'kWh' },
  MWh: { power: 'MW', energy: 'MWh' },
  kBtu: { power: 'kBtu/h', energy: 'kBtu' },
};

/** The user's unit choices; a bare TempUnit means "temperature only". */
export interface UnitPrefs {
  temp: TempUnit;
  energy: EnergyUnit;
}

export type UnitPref = TempUnit | UnitPrefs;

type Dim = 'temperature' | 'power' | 'energy';

/** symbol -> [dimension, scale to the base, offset]: base = (v + offset) * scale */
const UNITS: Record<string, [Dim, number, number]> = {
  '°C': ['temperature', 1, 0],
  '°F': ['temperature', 5 / 9, -32],
  K: ['temperature', 1, -273.15],
  W: ['power', 0.001, 0],
  kW: ['power', 1, 0],
  MW: ['power', 1000, 0],
  Wh: ['energy', 0.001, 0],
  kWh: ['energy', 1, 0],
  MWh: ['energy', 1000, 0],
  // 1 kWh = 3412.14 Btu (NIST SP 811, Btu_IT): 1 kBtu = 1 / 3.41214 kWh.
  'kBtu/h': ['power', 1 / 3.412142, 0],
  kBtu: ['energy', 1 / 3.412142, 0],
};

export function isTemperatureUnit(symbol: string | null | undefined): boolean {
  return !!symbol && UNITS[symbol]?.[0] === 'temperature';
}

/**
 * v from one unit symbol to another of the same dimension (°C/°F/K,
 * W/kW/MW, Wh/kWh/MWh).  Throws for units it does not know or that differ
 * in dimension: a silent wrong number would be worse.
 */
export function convert(v: number, from: string, to: string): number {
  if (from === to) return v;
  const a = UNITS[from];
  const b = UNITS[to];
  if (!a || !b || a[0] !== b[0]) throw new Error(`cannot convert ${from} to ${to}`);
  const base = (v + a[2]) * a[1];
  return base / b[1] - b[2];
}

/** The unit a value of this unit is shown in, under the user's preferences. */
export function displayUnit(unit: string, pref: UnitPref): string {
  const dim = UNITS[unit]?.[0];
  if (dim === 'temperature') return TEMP_SYMBOL[typeof pref === 'string' ? pref : pref.temp];
  if (typeof pref === 'string' || !dim) return unit;
  return ENERGY_SYMBOLS[pref.energy][dim];
}

/** Temperature, power and energy in the preferred units; others pass through. */
export function toDisplay(v: number, unit: string, pref: UnitPref): { value: number; unit: string } {
  const to = displayUnit(unit, pref);
  return to === unit ? { value: v, unit } : { value: convert(v, unit, to), unit: to };
}

/** A value typed in the display unit, into the point's own unit (for commands). */
export function fromDisplay(v: number, pointUnit: string, pref: UnitPref): number {
  const shown = displayUnit(pointUnit, pref);
  return shown === pointUnit ? v : convert(v, shown, pointUnit);
}

/** Fraction digits that suit a unit's usual precision. */
export function digitsFor(unit: string): number {
  if (isTemperatureUnit(unit)) return 1;
  if (unit === 'ppm' || unit === 'W' || unit === 'Pa' || unit === 'kBtu') return 0;
  if (unit === 'MW' || unit === 'MWh') return 3;
  if (unit === '%' || unit === '%RH') return 0;
  return 1;
}

const nfCache = new Map<string, Intl.NumberFormat>();

export function formatNumber(v: number, digits: number, locale?: string): string {
  const key = `${locale ?? ''}|${digits}`;
  let nf = nfCache.get(key);
  if (!nf) {
    nf = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    nfCache.set(key, nf);
  }
  return nf.format(v);
}

/** "21.5 °C" / "70.7 °F" / "412 ppm" / "—" for no value. */
export function formatMeasure(v: number | null | undefined, unit: string, pref: UnitPref,
                              locale?: string, digits?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const d = toDisplay(v, unit, pref);
  const text = formatNumber(d.value, digits ?? digitsFor(d.unit), locale);
  if (!d.unit) return text;
  return d.unit === '%' || d.unit === '%RH' ? `${text} %` : `${text} ${d.unit}`;
}

/** The scale a locale's users expect: °F in the United States and a few others, else °C. */
export function defaultTempUnit(locale: string | undefined): TempUnit {
  if (!locale) return 'C';
  let region: string | undefined;
  try {
    region = new Intl.Locale(locale).maximize().region;
  } catch {
    region = locale.split(/[-_]/)[1]?.toUpperCase();
  }
  return region && ['US', 'LR', 'MM', 'BS', 'BZ', 'KY', 'PW', 'FM', 'MH'].includes(region) ? 'F' : 'C';
}

/** Digits for a day's or month's energy: whole kWh/kBtu, MWh to the kWh. */
export function energyDigits(pref: UnitPrefs): number {
  return pref.energy === 'MWh' ? 3 : 0;
}
