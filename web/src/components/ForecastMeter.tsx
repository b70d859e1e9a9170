/**
 * One meter's load forecast: the next 24, 48 or 72 hours with the interval,
 * who made it and from what, how good it was in the backtest, and below it
 * how the hourly forecasts of the last week compared with what the meter
 * measured.  The 72 h answer is asked once; the horizon buttons only cut it.
 * A meter whose model is not ready says why and asks nothing.
 */
import { useMemo, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError } from '../api/errors';
import { loadForecast, modelName, noModelWords, pct, readable, STATUS_TONE, statusWords, temperatureSourceWords } from '../api/analytics';
import type { LoadForecast, MeterModel } from '../api/analytics';
import { formatDateTime } from '../lib/time';
import { digitsFor, displayUnit, formatMeasure, toDisplay } from '../lib/units';
import type { UnitPrefs } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';
import { ForecastAccuracy } from './ForecastAccuracy';
import { ForecastChart } from './ForecastChart';
import type { BandRow } from './ForecastChart';
import { backtestWords, trainingWords } from './ForecastWords';
import { Badge, ErrorBox, Loading, Stat } from './ui';

const HORIZONS = [24, 48, 72];
const HOUR = 3_600_000;

/** Forecast points as chart rows in the user's energy unit. */
export function forecastRows(f: LoadForecast, hours: number, units: UnitPrefs): BandRow[] {
  const conv = (v: number | null) => (v === null || !Number.isFinite(v) ? null : toDisplay(v, f.unit, units).value);
  return f.points.slice(0, hours).map((p) => ({ t: Date.parse(p.t), lo: conv(p.lo), hi: conv(p.hi), v: { kwh: conv(p.kwh) } }));
}

/** A refusal without a model, in words. */
export function NoForecast({ message }: { message: string }) {
  return <p className="card text-sm">{noModelWords(message)}</p>;
}

function Details({ f, tz }: { f: LoadForecast; tz: string }) {
  const words = f.report ? backtestWords(f.report) : null;
  const training = f.report ? trainingWords(f.report, tz) : null;
  return (
    <div className="card space-y-2 text-sm">
      <dl className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Model">{modelName(f.model)}</Stat>
        <Stat label="Issued">{formatDateTime(Date.parse(f.issued), tz)}</Stat>
        <Stat label="Trained">{f.trained ? formatDateTime(Date.parse(f.trained), tz) : '—'}</Stat>
        <Stat label="Outdoor temperature from">{temperatureSourceWords(f.temperature_source)}</Stat>
      </dl>
      {words && (
        <div>
          <p className="font-medium">How good it was when tested on the past:</p>
          <ul className="ml-5 list-disc">
            {words.buckets.map((b) => <li key={b}>{b}</li>)}
            {words.coverage && <li>{words.coverage}</li>}
          </ul>
        </div>
      )}
      {training && <p className="muted">{training}</p>}
      {f.report?.message && <p className="muted">Why this model: {readable(f.report.message)}.</p>}
    </div>
  );
}

export function ForecastMeter({ meter, name, status, tz }: { meter: string; name: string; status: MeterModel | undefined; tz: string }) {
  const client = useClient();
  const { units } = usePrefs();
  const [hours, setHours] = useState(72);
  const ready = !status || status.status === 'ok';
  const r = useAsync((signal) => (ready ? loadForecast(client, meter, 72, signal) : Promise.resolve(null)), [meter, ready]);
  const unit = displayUnit('kWh', units);
  const rows = useMemo(() => (r.data ? forecastRows(r.data, hours, units) : []), [r.data, hours, units]);

  if (!ready && status) {
    return (
      <div className="space-y-2">
        <p><Badge tone={STATUS_TONE[status.status]}>{statusWords(status.status)}</Badge></p>
        <NoForecast message={status.message || 'not trained yet'} />
      </div>
    );
  }
  if (r.error instanceof ApiError && r.error.status === 409) return <NoForecast message={r.error.message} />;
  if (r.error) return <ErrorBox error={r.error} onRetry={r.reload} />;
  if (!r.data) return <Loading label="Loading the forecast…" />;
  const f = r.data;
  const first = rows[0]?.t ?? Date.parse(f.issued);
  const peak = rows.reduce<BandRow | null>((m, x) => ((x.v.kwh ?? -Infinity) > (m?.v.kwh ?? -Infinity) ? x : m), null);
  const level = pct(f.level, 0);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Forecast horizon">
        <span className="text-sm font-medium">Next</span>
        {HORIZONS.map((h) => (
          <button key={h} type="button" aria-pressed={hours === h} onClick={() => setHours(h)}
                  className={hours === h ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}>
            {h} h
          </button>
        ))}
      </div>
      <ForecastChart title={`Forecast energy per hour — ${name}, next ${hours} h`} rows={rows}
                     series={[{ key: 'kwh', name: 'Forecast', color: '#0f766e' }]} band={`${level} interval`}
                     unit={unit} tz={tz} from={first} to={first + (rows.length - 1) * HOUR} digits={digitsFor(unit)}
                     csv={`forecast-${meter}-${hours}h.csv`} />
      <p className="text-sm">
        The shaded band is the {level} interval: the hour's energy should fall inside it {level} of the time.
        {peak && peak.v.kwh !== null && (
          <> Highest hour: {formatMeasure(peak.v.kwh, unit, units)} ({formatMeasure(peak.lo, unit, units)} – {formatMeasure(peak.hi, unit, units)}), starting {formatDateTime(peak.t, tz)}.</>
        )}
      </p>
      <Details f={f} tz={tz} />
      <ForecastAccuracy meter={meter} name={name} tz={tz} level={f.level} />
    </div>
  );
}
