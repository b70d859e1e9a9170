/**
 * The analytics API (docs/api.md, "Analytics"; src/api/h_analytics.c,
 * src/api/h_tariffs.c): load forecasts and their accuracy, zone temperature
 * predictions, the state of the models, tariffs, a building's tariff,
 * holidays and measures, bills and measured savings.  The shapes are those a
 * running sbems answers (captured answers are in src/test/fixtures-analytics.ts);
 * numbers the server could not compute come as null, never as 0.
 *
 * Also the sentences the pages share: model status, temperature source,
 * "no model" refusals and the server's validation messages.
 */
import type { ApiClient } from './client';
import { ApiError, describeError } from './errors';
import { formatNumber } from '../lib/units';
import type { UnitPrefs } from '../lib/units';

// ---- shapes -----------------------------------------------------------------------

/** Backtest statistics of one model in one horizon bucket (fractions: 0.047 = 4.7 %). */
export interface BucketScore {
  n: number;
  rmse: number | null;
  cvrmse: number | null;
  nmbe: number | null;
  lo: number | null;
  hi: number | null;
  coverage: number | null;
}

/** How a load forecaster was trained and chosen (analytics/forecast.c report_obj). */
export interface ForecastReport {
  chosen: string;
  level: number;
  train_start_utc: number;
  train_end_utc: number;
  backtest_start_utc: number;
  backtest_origins: number;
  /** horizon buckets [first, last] hour; scores have one more entry: all horizons pooled */
  buckets: [number, number][];
  clean: { n: number; missing: number; zeros: number; negative: number; flat: number; flat_runs: number; spikes: number; kept: number };
  sufficiency: { days_needed: number; min_coverage: number; days_ok: number; days_total: number; ok: boolean };
  models: Record<string, BucketScore[]>;
  fit_ms: Record<string, number>;
  message: string;
}

export type TemperatureSource = 'forecast' | 'persistence';

export interface LoadPoint {
  t: string;
  kwh: number | null;
  lo: number | null;
  hi: number | null;
}

export interface LoadForecast {
  meter: string;
  building: string;
  unit: string;
  issued: string;
  model: string;
  level: number;
  temperature_source: TemperatureSource;
  trained?: string | null;
  report?: ForecastReport | null;
  points: LoadPoint[];
}

export interface AccuracyRow {
  t: string;
  issued: string;
  horizon_h: number;
  actual: number | null;
  forecast: number | null;
  lo: number | null;
  hi: number | null;
  model: string;
}

export interface Accuracy {
  meter: string;
  unit: string;
  horizon_h: number;
  summary: { pairs: number; cvrmse: number | null; nmbe: number | null; coverage: number | null };
  rows: AccuracyRow[];
}

/** A zone model's scores, in kelvin (analytics-rc.md "Scores"). */
export interface ZoneScores {
  rmse_fit: number | null;
  rmse_1step: number | null;
  rmse_24h: number | null;
  max_24h: number | null;
  bias_24h: number | null;
  trajectories: number;
}

export interface TempPoint {
  t: string;
  /** °C */
  temperature: number;
  heating_sp: number;
  cooling_sp: number;
  /** + heating, - cooling */
  hvac_kw: number;
}

export interface TempPrediction {
  zone: string;
  building: string;
  issued: string;
  temperature_source: TemperatureSource;
  scores?: ZoneScores | null;
  points: TempPoint[];
}

export type ModelStatus = 'ok' | 'insufficient' | 'pending' | 'error';

export interface MeterModel {
  meter: string;
  building: string;
  status: ModelStatus;
  message: string;
  trained?: string;
  report?: ForecastReport;
}

export interface ZoneModel {
  zone: string;
  building: string;
  status: ModelStatus;
  message: string;
  trained?: string;
  scores?: ZoneScores;
  structure?: string;
}

export interface Models {
  meters: MeterModel[];
  zones: ZoneModel[];
}

/** When a price or a demand window applies: hours [start, end] or a list of them. */
export type Hours = [number, number] | [number, number][];

export interface EnergyRule {
  period: string;
  price_per_kwh: number;
  export_price_per_kwh?: number;
  seasons?: string[];
  days?: string[];
  hours?: Hours;
}

export interface DemandCharge {
  name: string;
  price_per_kw: number;
  seasons?: string[];
  days?: string[];
  hours?: Hours;
}

export interface FixedCharge {
  name: string;
  per_day?: number;
  per_period?: number;
}

/** A tariff document (docs/internals/analytics-tariff.md), as the server stores it (canonical form). */
export interface Tariff {
  id: string;
  name: string;
  description?: string;
  currency: string;
  billing_cycle_day?: number;
  demand_interval_min?: number;
  demand_method?: 'block' | 'rolling';
  seasons?: { name: string; from: string; to: string }[];
  holidays?: string[];
  energy: EnergyRule[];
  tiers?: { up_to_kwh?: number; price_per_kwh: number }[];
  demand?: DemandCharge[];
  fixed?: FixedCharge[];
  export?: { mode: 'none' | 'flat' | 'tou'; price_per_kwh?: number };
  tax_pct?: number;
}

export interface Holiday {
  date: string;
  name: string;
}

export interface Measure {
  id: string;
  name: string;
  start: string;
  description?: string;
}

export interface BillLine {
  kind: string;
  label: string;
  qty: number | null;
  unit: string;
  price: number | null;
  cost: number | null;
  peak_at?: string | null;
  peak_s?: number;
  no_data?: boolean;
  from_forecast?: boolean;
}

export interface Bill {
  tariff: string;
  currency: string;
  /** the billing period */
  start: string;
  end: string;
  /** the part of it the computation covers */
  from: string;
  to: string;
  coverage: number | null;
  estimate: boolean;
  allocated: boolean;
  import_kwh: number | null;
  export_kwh: number | null;
  forecast_kwh: number | null;
  peak_kw: number | null;
  peak_at: string | null;
  intervals: number;
  missing: number;
  first_missing: string | null;
  lines: BillLine[];
  subtotal: number | null;
  tax: number | null;
  total: number | null;
  /** codes ("partial", "missing" ...) */
  notes?: string[];
  /** the notes in words, joined with "; " */
  note?: string;
}

export interface Cost {
  building: string;
  meter: string;
  tariff: string;
  currency: string;
  from: string;
  to: string;
  total: number | null;
  bills: Bill[];
}

export interface SavingsResult {
  intervals: number;
  intervals_used: number;
  baseline_kwh: number | null;
  actual_kwh: number | null;
  avoided_kwh: number | null;
  percent: number | null;
  confidence: number;
  guideline14: { low_kwh: number | null; high_kwh: number | null; fsu: number | null };
  with_drift: { low_kwh: number | null; high_kwh: number | null; sd_block_kwh: number | null; sd_drift_kwh: number | null; sd_prior_kwh: number | null };
}

export interface BaselineModel {
  method: 'caltrack_hourly' | 'caltrack_daily';
  parameters: number;
  points: number;
  cvrmse: number | null;
  nmbe: number | null;
  r2: number | null;
  guideline14: { pass: boolean; cvrmse_max: number; nmbe_max: number };
  residual_autocorrelation: number | null;
  month_block_cv: number | null;
  /** the daily method's chosen model */
  daily?: {
    kind: 'intercept' | 'hdd' | 'cdd' | 'hdd_cdd';
    base_kwh_per_day: number;
    heating_kwh_per_kday: number | null;
    cooling_kwh_per_kday: number | null;
    heating_balance_c: number | null;
    cooling_balance_c: number | null;
  };
}

export interface Savings {
  building: string;
  meter: string;
  baseline: { from: string; to: string; model: BaselineModel | null };
  reporting: { from: string; to: string };
  savings: SavingsResult;
  measures: (Measure & { savings: SavingsResult })[];
  normalised: { baseline_kwh: number | null; reporting_kwh: number | null; savings_kwh: number | null; percent: number | null; years_of_weather: number } | null;
  cost: { tariff: string; currency: string; baseline: number | null; actual: number | null; savings: number | null; note: string } | null;
  notes: string[];
  daily: { date: string; baseline_kwh: number | null; actual_kwh: number | null }[];
}

export type SavingsMethod = 'hourly' | 'daily';

// ---- calls ------------------------------------------------------------------------

const seg = encodeURIComponent;

export function loadForecast(c: ApiClient, meter: string, horizonH: number, signal?: AbortSignal): Promise<LoadForecast> {
  return c.get<LoadForecast>('/api/v1/predictions/load', { meter, horizon_h: horizonH }, signal);
}

export function forecastAccuracy(c: ApiClient, meter: string, from: number, to: number, horizonH: number, signal?: AbortSignal): Promise<Accuracy> {
  return c.get<Accuracy>('/api/v1/predictions/load/accuracy', { meter, from: Math.floor(from), to: Math.floor(to), horizon_h: horizonH }, signal);
}

/** Setpoints in °C; both or neither (the comfort band by schedule). */
export function zonePrediction(c: ApiClient, zone: string, hours: number, setpoints: { heating: number; cooling: number } | null,
                               signal?: AbortSignal): Promise<TempPrediction> {
  return c.get<TempPrediction>('/api/v1/predictions/temperature', {
    zone, hours, heating: setpoints?.heating, cooling: setpoints?.cooling,
  }, signal);
}

export function models(c: ApiClient, building: string, signal?: AbortSignal): Promise<Models> {
  return c.get<Models>('/api/v1/analytics/models', { building }, signal);
}

/** target: a meter, a zone or a building; 202 {"target","status":"queued"}. */
export async function retrain(c: ApiClient, target: string): Promise<{ target: string; status: string }> {
  return c.request<{ target: string; status: string }>('POST', '/api/v1/analytics/models/retrain', { body: { target } });
}

export async function tariffs(c: ApiClient, signal?: AbortSignal): Promise<Tariff[]> {
  return (await c.get<{ items: Tariff[] }>('/api/v1/tariffs', undefined, signal)).items;
}

/** 201 created or 200 replaced, with the stored (canonical) tariff. */
export function putTariff(c: ApiClient, id: string, body: unknown): Promise<{ status: number; body: Tariff }> {
  return c.requestFull<Tariff>('PUT', `/api/v1/tariffs/${seg(id)}`, { body });
}

export async function deleteTariff(c: ApiClient, id: string): Promise<void> {
  await c.request<void>('DELETE', `/api/v1/tariffs/${seg(id)}`);
}

export async function buildingTariff(c: ApiClient, building: string, signal?: AbortSignal): Promise<string | null> {
  return (await c.get<{ tariff: string | null }>(`/api/v1/buildings/${seg(building)}/tariff`, undefined, signal)).tariff;
}

export async function setBuildingTariff(c: ApiClient, building: string, tariff: string | null): Promise<string | null> {
  return (await c.request<{ tariff: string | null }>('PUT', `/api/v1/buildings/${seg(building)}/tariff`, { body: { tariff } })).tariff;
}

export async function holidays(c: ApiClient, building: string, signal?: AbortSignal): Promise<Holiday[]> {
  return (await c.get<{ days: Holiday[] }>(`/api/v1/buildings/${seg(building)}/holidays`, undefined, signal)).days;
}

export async function putHolidays(c: ApiClient, building: string, days: Holiday[]): Promise<Holiday[]> {
  return (await c.request<{ days: Holiday[] }>('PUT', `/api/v1/buildings/${seg(building)}/holidays`, { body: { days } })).days;
}

export async function measures(c: ApiClient, building: string, signal?: AbortSignal): Promise<Measure[]> {
  return (await c.get<{ measures: Measure[] }>(`/api/v1/buildings/${seg(building)}/measures`, undefined, signal)).measures;
}

export async function putMeasures(c: ApiClient, building: string, list: Measure[]): Promise<Measure[]> {
  return (await c.request<{ measures: Measure[] }>('PUT', `/api/v1/buildings/${seg(building)}/measures`, { body: { measures: list } })).measures;
}

/** Local dates, the end included. */
export function cost(c: ApiClient, building: string, first: string, last: string, signal?: AbortSignal): Promise<Cost> {
  return c.get<Cost>('/api/v1/analytics/cost', { building, period: `${first}/${last}` }, signal);
}

export interface SavingsQuery {
  baseline: { start: string; end: string };
  reporting: { start: string; end: string };
  meter?: string;
  method: SavingsMethod;
}

export function savings(c: ApiClient, building: string, q: SavingsQuery, signal?: AbortSignal): Promise<Savings> {
  return c.get<Savings>('/api/v1/analytics/savings', {
    building,
    baseline: `${q.baseline.start}/${q.baseline.end}`,
    reporting: `${q.reporting.start}/${q.reporting.end}`,
    meter: q.meter,
    method: q.method,
  }, signal);
}

// ---- words ------------------------------------------------------------------------

export const STATUS_WORDS: Record<ModelStatus, string> = {
  ok: 'Ready',
  insufficient: 'Not enough data',
  pending: 'Not trained yet',
  error: 'Training failed',
};

export const STATUS_TONE: Record<ModelStatus, 'good' | 'warn' | 'neutral' | 'bad'> = {
  ok: 'good',
  insufficient: 'warn',
  pending: 'neutral',
  error: 'bad',
};

export function statusWords(s: string): string {
  return STATUS_WORDS[s as ModelStatus] ?? s;
}

export function temperatureSourceWords(s: string): string {
  return s === 'forecast' ? 'weather forecast' : "yesterday's temperatures (no weather forecast)";
}

/** The server's ">=" as the sign people read. */
export function readable(msg: string): string {
  return msg.replace(/>=/g, '≥').replace(/<=/g, '≤');
}

/**
 * A refusal for lack of a model ("no forecast: needs 90 days ...") as the
 * page says it: "No forecast yet: needs 90 days with ≥ 90 % coverage, has 41".
 */
export function noModelWords(msg: string, what: 'forecast' | 'prediction' = 'forecast'): string {
  const rest = readable(msg.replace(/^no (forecast|thermal model)\s*:\s*/i, '').trim());
  return `No ${what} yet: ${rest || 'no model has been trained'}`;
}

/** A model name as people say it. */
export function modelName(m: string): string {
  const names: Record<string, string> = {
    gbm: 'gradient-boosted trees',
    towt: 'time-of-week and temperature (TOWT)',
    naive_day: 'same hour yesterday',
    naive_week: 'same hour last week',
  };
  return names[m] ?? m;
}

/**
 * An error as the page shows it: a 400's own words, which name the field at
 * fault (the server's validation message, shown as is), else describeError.
 */
export function serverWords(e: unknown): string {
  if (e instanceof ApiError && e.status === 400) {
    const d = e.details.map((x) => x.message).filter(Boolean);
    return d.length ? d.join('; ') : e.message || describeError(e);
  }
  if (e instanceof ApiError && e.status === 409 && e.message) return readable(e.message);
  return describeError(e);
}

/** Percent of a fraction: 0.0472 -> "4.7 %". */
export function pct(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  const r = Number((fraction * 100).toFixed(digits)) || 0; // never "-0.0 %"
  return `${new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(r)} %`;
}

const moneyCache = new Map<string, (v: number) => string>();

/** Money in the tariff's currency; prices get up to 4 decimals (0.135 USD/kWh). */
export function money(v: number | null | undefined, currency: string, price = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const key = `${currency}|${price}`;
  let f = moneyCache.get(key);
  if (!f) {
    const digits = { minimumFractionDigits: 2, maximumFractionDigits: price ? 4 : 2 };
    try {
      const nf = new Intl.NumberFormat(undefined, { style: 'currency', currency, ...digits });
      f = (x) => nf.format(x);
    } catch {
      // not an ISO 4217 code this browser knows: the number and the code
      const nf = new Intl.NumberFormat(undefined, digits);
      f = (x) => `${nf.format(x)} ${currency}`;
    }
    moneyCache.set(key, f);
  }
  return f(v);
}

/** "3 h" / "1 day" / "2 days" for a count of hours or days. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${new Intl.NumberFormat().format(n)} ${n === 1 ? one : many}`;
}

/** A temperature difference (a model's error): kelvin, or °F for °F users. */
export function delta(k: number | null | undefined, units: UnitPrefs): string {
  if (k === null || k === undefined || !Number.isFinite(k)) return '—';
  return units.temp === 'F' ? `${formatNumber(k * 1.8, 1)} °F` : `${formatNumber(k, 1)} K`;
}
