/**
 * The zone page's prediction: the next 24 h of zone temperature from its
 * identified thermal model against the comfort band by schedule, and the
 * HVAC heat that takes (GET /predictions/temperature).  "Try setpoints"
 * asks again with constant heating and cooling setpoints, typed in the
 * user's °C/°F and sent in °C.
 *
 * The model status is asked first (GET /analytics/models): a zone without a
 * model gets one line saying why, and no request that would only be refused;
 * without the analytics service the section is not shown at all.
 */
import { useId, useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError } from '../api/errors';
import { delta, models, noModelWords, readable, serverWords, statusWords, temperatureSourceWords, zonePrediction } from '../api/analytics';
import type { TempPrediction, ZoneScores } from '../api/analytics';
import { formatDateTime } from '../lib/time';
import { displayUnit, formatMeasure, formatNumber, fromDisplay, toDisplay } from '../lib/units';
import type { UnitPrefs } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';
import { ForecastChart } from './ForecastChart';
import type { BandRow } from './ForecastChart';
import { ErrorBox, Loading } from './ui';

export const PREDICTION_HOURS = 24;
const STEP_H = 0.25;
/** the server's accepted setpoints, °C (src/api/h_analytics.c) */
export const HEAT_RANGE: [number, number] = [5, 35];
export const COOL_RANGE: [number, number] = [5, 40];

/** Temperatures and the comfort band in the user's scale. */
export function predictionRows(p: TempPrediction, units: UnitPrefs): BandRow[] {
  const c = (v: number) => toDisplay(v, '°C', units).value;
  return p.points.map((x) => ({ t: Date.parse(x.t), lo: c(x.heating_sp), hi: c(x.cooling_sp), v: { temperature: c(x.temperature) } }));
}

/** HVAC heat in the user's power unit (+ heating, − cooling). */
export function hvacRows(p: TempPrediction, units: UnitPrefs): BandRow[] {
  return p.points.map((x) => ({ t: Date.parse(x.t), lo: null, hi: null, v: { hvac: toDisplay(x.hvac_kw, 'kW', units).value } }));
}

/** The comfort outlook and the HVAC heat, in words. */
export function outlook(p: TempPrediction, tz: string, units: UnitPrefs): string[] {
  const out: string[] = [];
  const cold = p.points.filter((x) => x.temperature < x.heating_sp - 0.05);
  const warm = p.points.filter((x) => x.temperature > x.cooling_sp + 0.05);
  const h = (n: number) => `${formatNumber(n * STEP_H, n % 4 === 0 ? 0 : n % 2 === 0 ? 1 : 2)} h`;
  if (!cold.length && !warm.length) out.push(`Stays inside the comfort band for the next ${p.points.length * STEP_H} hours.`);
  if (cold.length) out.push(`Below the heating setpoint for ${h(cold.length)}, first at ${formatDateTime(Date.parse((cold[0] as { t: string }).t), tz)}.`);
  if (warm.length) out.push(`Above the cooling setpoint for ${h(warm.length)}, first at ${formatDateTime(Date.parse((warm[0] as { t: string }).t), tz)}.`);
  const heat = p.points.map((x) => x.hvac_kw).filter((q) => q > 0.005);
  const cool = p.points.map((x) => x.hvac_kw).filter((q) => q < -0.005);
  const kwh = (qs: number[]) => formatMeasure(qs.reduce((s, q) => s + Math.abs(q) * STEP_H, 0), 'kWh', units);
  const kw = (v: number) => formatMeasure(v, 'kW', units);
  if (!heat.length && !cool.length) out.push('No HVAC heating or cooling predicted.');
  if (heat.length) out.push(`Heating up to ${kw(Math.max(...heat))}, ${kwh(heat)} in all.`);
  if (cool.length) out.push(`Cooling up to ${kw(-Math.min(...cool))}, ${kwh(cool)} in all.`);
  return out;
}

export function scoreWords(s: ZoneScores | null | undefined, units: UnitPrefs): string | null {
  if (!s || s.rmse_24h === null) return null;
  return `Tested on ${s.trajectories} held-out 24-hour runs, the model was typically within ${delta(s.rmse_24h, units)} of the measured temperature (at worst ${delta(s.max_24h, units)}).`;
}

type Setpoints = { heating: number; cooling: number } | null;

function TryForm({ onTry, active }: { onTry: (s: Setpoints) => void; active: boolean }) {
  const id = useId();
  const { units } = usePrefs();
  const u = displayUnit('°C', units);
  const [heat, setHeat] = useState('');
  const [cool, setCool] = useState('');
  const [error, setError] = useState<string | null>(null);
  const shown = (c: number) => formatNumber(toDisplay(c, '°C', units).value, 1);

  function submit(e: FormEvent) {
    e.preventDefault();
    const h = Number(heat);
    const c = Number(cool);
    if (heat.trim() === '' || cool.trim() === '' || !Number.isFinite(h) || !Number.isFinite(c)) {
      setError('Enter both setpoints.');
      return;
    }
    const hc = fromDisplay(h, '°C', units);
    const cc = fromDisplay(c, '°C', units);
    if (hc < HEAT_RANGE[0] || hc > HEAT_RANGE[1]) return setError(`Heating must be ${shown(HEAT_RANGE[0])} – ${shown(HEAT_RANGE[1])} ${u}.`);
    if (cc < COOL_RANGE[0] || cc > COOL_RANGE[1]) return setError(`Cooling must be ${shown(COOL_RANGE[0])} – ${shown(COOL_RANGE[1])} ${u}.`);
    if (hc > cc) return setError('Heating must not be above cooling.');
    setError(null);
    onTry({ heating: Math.round(hc * 100) / 100, cooling: Math.round(cc * 100) / 100 });
  }

  return (
    <form className="flex flex-wrap items-end gap-2" onSubmit={submit} aria-label="Try setpoints" noValidate>
      <div>
        <label htmlFor={`${id}-h`} className="label">Heating setpoint ({u})</label>
        <input id={`${id}-h`} className="input w-32" inputMode="decimal" value={heat} onChange={(e) => setHeat(e.target.value)} />
      </div>
      <div>
        <label htmlFor={`${id}-c`} className="label">Cooling setpoint ({u})</label>
        <input id={`${id}-c`} className="input w-32" inputMode="decimal" value={cool} onChange={(e) => setCool(e.target.value)} />
      </div>
      <button type="submit" className="btn-secondary">Predict with these</button>
      {active && <button type="button" className="btn-secondary" onClick={() => { setError(null); onTry(null); }}>Back to the comfort band</button>}
      <p className="muted w-full text-xs">Held constant for the whole 24 hours; only a prediction, nothing is sent to the equipment.</p>
      {error && <p role="alert" className="w-full text-sm text-red-700 dark:text-red-300">{error}</p>}
    </form>
  );
}

function Prediction({ zone, tz }: { zone: string; tz: string }) {
  const client = useClient();
  const { units } = usePrefs();
  const [sp, setSp] = useState<Setpoints>(null);
  const r = useAsync((signal) => zonePrediction(client, zone, PREDICTION_HOURS, sp, signal), [zone, sp?.heating, sp?.cooling]);
  const rows = useMemo(() => (r.data ? predictionRows(r.data, units) : []), [r.data, units]);
  const hvac = useMemo(() => (r.data ? hvacRows(r.data, units) : []), [r.data, units]);
  const tu = displayUnit('°C', units);
  const pu = displayUnit('kW', units);
  const p = r.data;
  const from = rows[0]?.t ?? 0;
  const to = rows[rows.length - 1]?.t ?? 0;
  const what = sp ? `setpoints ${formatMeasure(sp.heating, '°C', units)} – ${formatMeasure(sp.cooling, '°C', units)}` : 'the comfort band by schedule';

  return (
    <div className="space-y-3">
      <TryForm onTry={setSp} active={sp !== null} />
      {r.error instanceof ApiError && r.error.status === 409 ? <p className="card text-sm">{noModelWords(r.error.message, 'prediction')}</p>
        : r.error instanceof ApiError && r.error.status === 400 ? <p role="alert" className="text-sm text-red-700 dark:text-red-300">{serverWords(r.error)}</p>
          : r.error ? <ErrorBox error={r.error} onRetry={r.reload} />
            : !p ? <Loading label="Loading the prediction…" /> : (
              <>
                <p className="text-sm" role="status">
                  With {what}: issued {formatDateTime(Date.parse(p.issued), tz)}, outdoor temperature from {temperatureSourceWords(p.temperature_source)}.
                </p>
                <ul className="ml-5 list-disc text-sm">
                  {outlook(p, tz, units).map((l) => <li key={l}>{l}</li>)}
                </ul>
                <div className="grid gap-4 lg:grid-cols-2">
                  <ForecastChart title="Predicted zone temperature" rows={rows} band={sp ? 'Setpoints' : 'Comfort band'}
                                 series={[{ key: 'temperature', name: 'Predicted temperature', color: '#dc2626' }]}
                                 unit={tu} tz={tz} from={from} to={to} digits={1} height={220} csv={`zone-prediction-${zone}.csv`} />
                  <ForecastChart title="HVAC heat it takes (+ heating, − cooling)" rows={hvac}
                                 series={[{ key: 'hvac', name: 'HVAC heat', color: '#2563eb' }]}
                                 unit={pu} tz={tz} from={from} to={to} digits={pu === 'MW' ? 3 : 1} height={160} />
                </div>
                {scoreWords(p.scores, units) && <p className="muted text-sm">{scoreWords(p.scores, units)}</p>}
              </>
            )}
    </div>
  );
}

export function ZonePrediction({ zone, building, tz }: { zone: string; building: string; tz: string }) {
  const client = useClient();
  const id = useId();
  const st = useAsync((signal) => models(client, building, signal), [building]);
  // no analytics service (or no answer): nothing to offer, no box of errors on the zone page
  if (st.loading || st.error || !st.data) return null;
  const z = st.data.zones.find((x) => x.zone === zone);
  if (!z) return null;
  return (
    <section aria-labelledby={`${id}-h`} className="mb-6">
      <h2 id={`${id}-h`} className="mb-2 text-lg font-semibold">Temperature prediction, next {PREDICTION_HOURS} h</h2>
      {z.status === 'ok' ? <Prediction zone={zone} tz={tz} />
        : <p className="muted text-sm">Not available ({statusWords(z.status).toLowerCase()}){z.message ? `: ${readable(z.message)}` : ''}.</p>}
    </section>
  );
}
