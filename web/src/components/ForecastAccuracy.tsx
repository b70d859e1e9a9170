/**
 * Past accuracy: the forecasts sbems issued one hour ahead over the last 7
 * days against what the meter measured (GET /predictions/load/accuracy,
 * horizon_h=1), with CV(RMSE), NMBE and how often the interval held the
 * measured value.
 */
import { useMemo, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { forecastAccuracy, pct } from '../api/analytics';
import type { Accuracy } from '../api/analytics';
import { digitsFor, displayUnit, toDisplay } from '../lib/units';
import type { UnitPrefs } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';
import { ForecastChart } from './ForecastChart';
import type { BandRow } from './ForecastChart';
import { ErrorBox, Loading, Stat } from './ui';

export const ACCURACY_DAYS = 7;

export function accuracyRows(a: Accuracy, units: UnitPrefs): BandRow[] {
  const conv = (v: number | null) => (v === null || !Number.isFinite(v) ? null : toDisplay(v, a.unit, units).value);
  return a.rows.map((r) => ({ t: Date.parse(r.t), lo: conv(r.lo), hi: conv(r.hi), v: { forecast: conv(r.forecast), actual: conv(r.actual) } }));
}

/** How often the interval held, against how often it should. */
export function coverageWords(coverage: number | null, level: number): string {
  if (coverage === null) return 'no hour with both a forecast interval and a measured value yet';
  const held = pct(coverage);
  const aim = pct(level, 0);
  const off = Math.abs(coverage - level) > 0.1 ? (coverage < level ? ' — fewer than it should: the forecaster is due to retrain' : ' — more than it should: the interval is wide') : '';
  return `the ${aim} interval held the measured value in ${held} of the hours${off}`;
}

export function ForecastAccuracy({ meter, name, tz, level }: { meter: string; name: string; tz: string; level: number }) {
  const client = useClient();
  const { units } = usePrefs();
  // the window is fixed when the meter is shown, so a re-render asks nothing again
  const [win] = useState(() => ({ to: Date.now(), from: Date.now() - ACCURACY_DAYS * 86_400_000 }));
  const r = useAsync((signal) => forecastAccuracy(client, meter, win.from, win.to, 1, signal), [meter, win]);
  const unit = displayUnit('kWh', units);
  const rows = useMemo(() => (r.data ? accuracyRows(r.data, units) : []), [r.data, units]);

  return (
    <section aria-labelledby={`acc-${meter}`} className="space-y-2">
      <h3 id={`acc-${meter}`} className="text-base font-semibold">Past accuracy: the last {ACCURACY_DAYS} days, one hour ahead</h3>
      {r.error ? <ErrorBox error={r.error} onRetry={r.reload} /> : !r.data ? <Loading label="Loading past forecasts…" /> : (
        <>
          <dl className="card grid grid-cols-2 gap-3 sm:grid-cols-4">
            <Stat label="Hours compared">{new Intl.NumberFormat().format(r.data.summary.pairs)}</Stat>
            <Stat label="CV(RMSE)" hint="typical error, relative to the mean">{pct(r.data.summary.cvrmse)}</Stat>
            <Stat label="NMBE" hint="bias: + forecasts too low">{pct(r.data.summary.nmbe)}</Stat>
            <Stat label="Interval coverage" hint={`should be about ${pct(level, 0)}`}>{pct(r.data.summary.coverage)}</Stat>
          </dl>
          <p className="text-sm">
            {r.data.summary.pairs === 0
              ? 'No forecast hour of this week has a measured value to compare with yet: sbems logs forecasts from the first training on.'
              : `Over ${r.data.summary.pairs} hours, ${coverageWords(r.data.summary.coverage, level)}.`}
          </p>
          <ForecastChart title={`Forecast one hour ahead against measured — ${name}`} rows={rows}
                         series={[{ key: 'actual', name: 'Measured', color: '#7c3aed' }, { key: 'forecast', name: 'Forecast', color: '#0f766e', dashed: true }]}
                         band={`${pct(level, 0)} interval`} unit={unit} tz={tz} from={win.from} to={win.to}
                         digits={digitsFor(unit)} height={220} csv={`forecast-accuracy-${meter}.csv`} />
        </>
      )}
    </section>
  );
}
