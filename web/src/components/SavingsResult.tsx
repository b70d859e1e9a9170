/**
 * A measured-savings answer (GET /analytics/savings) shown whole: the savings
 * with both uncertainty ranges and which to rely on, the baseline model
 * against Guideline 14, savings per measure, normalised and cost savings when
 * the server could compute them, its notes, and the daily adjusted baseline
 * against actual.
 */
import { money } from '../api/analytics';
import type { BaselineModel, Savings, SavingsResult as Result } from '../api/analytics';
import { dayKey } from '../lib/enduse';
import { dayLabel } from '../lib/enduse';
import { dailyRows, energy, g14Verdict, METHOD_WORDS, percent, ranges } from '../lib/savings';
import { displayUnit, formatMeasure, formatNumber } from '../lib/units';
import type { UnitPrefs } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { ForecastChart } from './ForecastChart';
import { Badge, ScrollRegion, Stat } from './ui';

/** The local days of [from, to) instants: "Nov 13, 2025 – Nov 12, 2026". */
export function periodWords(p: { from: string; to: string }, tz: string): string {
  const a = dayKey(Date.parse(p.from), tz);
  const b = dayKey(Date.parse(p.to) - 1, tz);
  return `${dayLabel(a)}, ${a.slice(0, 4)} – ${dayLabel(b)}, ${b.slice(0, 4)}`;
}

function RangeCells({ r, units }: { r: Result; units: UnitPrefs }) {
  const x = ranges(r, units);
  const cell = (g: typeof x.g14) => (g ? `${g.low} – ${g.high} (${g.lowPct} – ${g.highPct})` : 'not computed');
  return (
    <>
      <td className="py-1 pr-3">{cell(x.g14)}</td>
      <td className="py-1 pr-3">{cell(x.drift)}</td>
    </>
  );
}

function Uncertainty({ r, units }: { r: Result; units: UnitPrefs }) {
  const x = ranges(r, units);
  const row = (name: string, g: typeof x.g14, what: string) => (
    <tr className="border-t border-slate-200 align-top dark:border-slate-700">
      <th scope="row" className="py-2 pr-3 text-left font-medium">{name}</th>
      <td className="py-2 pr-3 tabular-nums">{g ? `${g.low} – ${g.high}` : 'not computed'}</td>
      <td className="py-2 pr-3 tabular-nums">{g ? `${g.lowPct} – ${g.highPct}` : '—'}</td>
      <td className="py-2">{what}</td>
    </tr>
  );
  return (
    <div className="card space-y-2">
      <h3 className="font-semibold">How sure: two {x.confidence} ranges of the energy avoided</h3>
      <ScrollRegion label="Uncertainty ranges" className="overflow-x-auto">
        <table className="w-full min-w-[36rem] text-sm">
          <caption className="sr-only">Uncertainty ranges of the energy avoided</caption>
          <thead>
            <tr className="text-left">
              <th scope="col" className="py-1 pr-3">Range</th>
              <th scope="col" className="py-1 pr-3">Energy avoided</th>
              <th scope="col" className="py-1 pr-3">Of the adjusted baseline</th>
              <th scope="col" className="py-1">What it counts</th>
            </tr>
          </thead>
          <tbody>
            {row('ASHRAE Guideline 14', x.g14, 'the baseline model\u2019s noise and parameter error only, as if the reporting period were a statistical twin of the baseline year')}
            {row('With drift (realistic)', x.drift, 'also how far the model misses months it was not fitted on, and the drift of the building\u2019s level seen within the baseline')}
          </tbody>
        </table>
      </ScrollRegion>
      <p className="text-sm">{x.advice}</p>
    </div>
  );
}

function ModelQuality({ m, units }: { m: BaselineModel; units: UnitPrefs }) {
  const v = g14Verdict(m);
  const nf = new Intl.NumberFormat();
  const per = m.method === 'caltrack_daily' ? 'days' : 'hours';
  const d = m.daily;
  const tu = displayUnit('°C', units);
  // slopes per kelvin-day become per °F-day for °F users (a °F is 5/9 K)
  const slope = (v: number | null) => (v === null ? '—' : `${energy(units.temp === 'F' ? v / 1.8 : v, units)} per ${units.temp === 'F' ? '°F' : 'K'}·day`);
  return (
    <div className="card space-y-2 text-sm">
      <h3 className="font-semibold">The baseline model</h3>
      <p>{METHOD_WORDS[m.method]}, {nf.format(m.parameters)} parameters fitted on {nf.format(m.points)} {per}.</p>
      <p>
        <Badge tone={v.pass ? 'good' : 'bad'}>{v.pass ? 'Passes Guideline 14' : 'Fails Guideline 14'}</Badge>{' '}
        {v.cvrmse}; {v.nmbe}; R² {m.r2 === null ? '—' : formatNumber(m.r2, 2)}.
      </p>
      {!v.pass && <p>The model does not explain the baseline well enough for Guideline 14: treat the savings as indicative only.</p>}
      {v.note && <p className="muted">{v.note}</p>}
      {d && (
        <p>
          Daily use = {energy(d.base_kwh_per_day, units)} a day
          {d.heating_kwh_per_kday !== null && <> + {slope(d.heating_kwh_per_kday)} below {formatMeasure(d.heating_balance_c, '°C', units)}</>}
          {d.cooling_kwh_per_kday !== null && <> + {slope(d.cooling_kwh_per_kday)} above {formatMeasure(d.cooling_balance_c, '°C', units)}</>}
          <span className="sr-only"> (temperatures in {tu})</span>.
        </p>
      )}
    </div>
  );
}

function Measures({ s, units }: { s: Savings; units: UnitPrefs }) {
  if (s.measures.length === 0) return <p className="muted text-sm">No measure starts in the reporting period, so there are no savings per measure.</p>;
  return (
    <div className="card space-y-2">
      <h3 className="font-semibold">Savings per measure</h3>
      <ScrollRegion label="Savings per measure" className="overflow-x-auto">
        <table className="w-full min-w-[48rem] text-sm">
          <caption className="sr-only">Savings per measure</caption>
          <thead>
            <tr className="text-left">
              <th scope="col" className="py-1 pr-3">Measure</th>
              <th scope="col" className="py-1 pr-3">From</th>
              <th scope="col" className="py-1 pr-3">Avoided</th>
              <th scope="col" className="py-1 pr-3">Saving</th>
              <th scope="col" className="py-1 pr-3">Guideline 14 range</th>
              <th scope="col" className="py-1 pr-3">With drift (realistic)</th>
            </tr>
          </thead>
          <tbody>
            {s.measures.map((m) => (
              <tr key={m.id} className="border-t border-slate-200 dark:border-slate-700">
                <th scope="row" className="py-1 pr-3 text-left font-medium">{m.name}</th>
                <td className="py-1 pr-3">{dayLabel(m.start)}, {m.start.slice(0, 4)}</td>
                <td className="py-1 pr-3 tabular-nums">{energy(m.savings.avoided_kwh, units)}</td>
                <td className="py-1 pr-3 tabular-nums">{percent(m.savings.percent)}</td>
                <RangeCells r={m.savings} units={units} />
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <p className="muted text-xs">
        Each measure gets the days from its start to the next measure&rsquo;s start, so its savings include those of the measures
        still running from before it, and windows in different seasons are not strictly comparable.
      </p>
    </div>
  );
}

export function SavingsResultView({ s, tz }: { s: Savings; tz: string }) {
  const { units } = usePrefs();
  const r = s.savings;
  const per = s.baseline.model?.method === 'caltrack_daily' ? 'days' : 'hours';
  const rows = dailyRows(s.daily, tz, units);
  const eu = displayUnit('kWh', units);
  const nf = new Intl.NumberFormat();
  return (
    <div className="space-y-4">
      <div className="card space-y-3">
        <p className="text-lg font-semibold" role="status">
          {r.percent === null ? 'Savings could not be computed.' : `${percent(r.percent)} saved: ${energy(r.avoided_kwh, units)} avoided`}
        </p>
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          <Stat label="Adjusted baseline" hint="what the building would have used">{energy(r.baseline_kwh, units)}</Stat>
          <Stat label="Actual">{energy(r.actual_kwh, units)}</Stat>
          <Stat label="Avoided">{energy(r.avoided_kwh, units)}</Stat>
          <Stat label="Saving">{percent(r.percent)}</Stat>
        </dl>
        <p className="muted text-sm">
          Reporting period {periodWords(s.reporting, tz)} against the baseline {periodWords(s.baseline, tz)}, meter {s.meter};{' '}
          {nf.format(r.intervals_used)} of {nf.format(r.intervals)} {per} used.
        </p>
      </div>
      <Uncertainty r={r} units={units} />
      {s.baseline.model ? <ModelQuality m={s.baseline.model} units={units} /> : <p className="muted text-sm">The baseline model&rsquo;s statistics are not available.</p>}
      <Measures s={s} units={units} />
      {s.normalised && (
        <div className="card text-sm">
          <h3 className="font-semibold">Normalised to a typical year</h3>
          <p>
            {energy(s.normalised.savings_kwh, units)} ({percent(s.normalised.percent)}) a year in the weather of {s.normalised.years_of_weather} earlier
            years: {energy(s.normalised.baseline_kwh, units)} before, {energy(s.normalised.reporting_kwh, units)} after. No uncertainty is given for it.
          </p>
        </div>
      )}
      {s.cost && (
        <div className="card space-y-1 text-sm">
          <h3 className="font-semibold">Cost savings through tariff {s.cost.tariff}</h3>
          <dl className="grid grid-cols-3 gap-3">
            <Stat label="Baseline cost">{money(s.cost.baseline, s.cost.currency)}</Stat>
            <Stat label="Actual cost">{money(s.cost.actual, s.cost.currency)}</Stat>
            <Stat label="Saved">{money(s.cost.savings, s.cost.currency)}</Stat>
          </dl>
          <p className="muted">Note: {s.cost.note}.</p>
        </div>
      )}
      {s.notes.length > 0 && (
        <div className="card text-sm">
          <h3 className="font-semibold">Notes from sbems</h3>
          <ul className="ml-5 list-disc">{s.notes.map((n) => <li key={n}>{n.charAt(0).toUpperCase() + n.slice(1)}.</li>)}</ul>
        </div>
      )}
      <ForecastChart title="Daily energy: adjusted baseline against actual" rows={rows} unit={eu} tz={tz}
                     series={[{ key: 'baseline', name: 'Adjusted baseline', color: '#0f766e', dashed: true }, { key: 'actual', name: 'Actual', color: '#7c3aed' }]}
                     from={rows[0]?.t ?? 0} to={rows[rows.length - 1]?.t ?? 0} digits={units.energy === 'MWh' ? 3 : 0} height={260}
                     csv={`savings-${s.building}-${s.meter}-daily.csv`} />
    </div>
  );
}
