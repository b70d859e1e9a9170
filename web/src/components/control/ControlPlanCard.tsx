/**
 * The optimizer's plan (GET /predictions/plan): for a chosen zone, the
 * planned heating and cooling setpoints and the predicted temperature over
 * the horizon against the schedule's fixed setpoints (the baseline the plan
 * is compared with), and the building's totals, plan against baseline.
 *
 * The plan is computed when asked (a button), not on every visit: it is a
 * linear program over every zone of the building, and the page's visitors
 * need not pay for it each time they look at the settings.
 *
 * The plan's points carry no baseline setpoints, so the baseline line is the
 * zone's comfort band in force at each step (its occupancy schedule), which
 * is what the optimizer's baseline uses (src/analytics/svc_zone.c).
 */
import { useState } from 'react';
import type { Plan, PlanTotals } from '../../api/control';
import { getPlan } from '../../api/control';
import { money } from '../../api/analytics';
import { ApiError } from '../../api/errors';
import type { Zone } from '../../api/types';
import { useClient } from '../../auth/AuthContext';
import { timeText } from '../../api/fdd';
import { usePrefs } from '../../lib/prefs';
import { bandNow, isOccupied } from '../../lib/schedule';
import { useAsync } from '../../lib/useAsync';
import { formatMeasure, formatNumber, toDisplay } from '../../lib/units';
import type { UnitPrefs } from '../../lib/units';
import type { BandRow, BandSeries } from '../ForecastChart';
import { ForecastChart } from '../ForecastChart';
import { ErrorBox, Loading, ScrollRegion } from '../ui';

const HOURS = [6, 12, 24, 48];

const SERIES: readonly BandSeries[] = [
  { key: 'ph', name: 'Planned heating setpoint', color: '#dc2626' },
  { key: 'pc', name: 'Planned cooling setpoint', color: '#2563eb' },
  { key: 'bh', name: 'Baseline heating setpoint', color: '#f97316', dashed: true },
  { key: 'bc', name: 'Baseline cooling setpoint', color: '#0891b2', dashed: true },
  { key: 'tp', name: 'Predicted temperature', color: '#7c3aed' },
];

/** The chart's rows for a zone of the plan, in the user's temperature unit. */
export function planRows(plan: Plan, zoneId: string, zone: Zone | undefined, tz: string, units: UnitPrefs): BandRow[] {
  const z = plan.zones.find((x) => x.zone === zoneId);
  if (!z) return [];
  const d = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? toDisplay(v, '°C', units).value : null);
  return z.points.map((p) => {
    const t = Date.parse(p.t);
    const b = zone ? bandNow(zone.comfort, isOccupied(zone.schedule, tz, t)) : null;
    return { t, lo: null, hi: null, v: { ph: d(p.heating_sp), pc: d(p.cooling_sp), bh: d(b?.heating), bc: d(b?.cooling), tp: d(p.temperature) } };
  });
}

interface Row {
  label: string;
  key: keyof PlanTotals;
  fmt: (v: number) => string;
}

function TotalsTable({ plan, units }: { plan: Plan; units: UnitPrefs }) {
  const cur = plan.currency;
  const rows: Row[] = [
    { label: 'Electricity (HVAC)', key: 'kwh_electric', fmt: (v) => formatMeasure(v, 'kWh', units) },
    { label: 'Heating fuel', key: 'kwh_fuel', fmt: (v) => formatMeasure(v, 'kWh', units) },
    { label: 'Cost', key: 'cost', fmt: (v) => (cur ? money(v, cur) : formatNumber(v, 2)) },
    { label: 'of which demand charges', key: 'cost_demand', fmt: (v) => (cur ? money(v, cur) : formatNumber(v, 2)) },
    { label: 'Peak (HVAC)', key: 'peak_kw', fmt: (v) => formatMeasure(v, 'kW', units) },
    { label: 'Discomfort', key: 'discomfort_kh', fmt: (v) => `${formatNumber(v, 1)} K·h` },
  ];
  return (
    <ScrollRegion label="Plan against baseline" className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Totals over the horizon: plan against the schedule's baseline</caption>
        <thead>
          <tr className="border-b border-slate-300 dark:border-slate-600">
            <th scope="col" className="py-1 pr-3">Total</th>
            <th scope="col" className="py-1 pr-3 text-right">Plan</th>
            <th scope="col" className="py-1 pr-3 text-right">Baseline</th>
            <th scope="col" className="py-1 text-right">Difference</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const p = plan.plan[r.key];
            const b = plan.baseline[r.key];
            const diff = p - b;
            return (
              <tr key={r.key} className="border-b border-slate-100 dark:border-slate-800">
                <th scope="row" className="py-1 pr-3 font-medium">{r.label}</th>
                <td className="py-1 pr-3 text-right tabular-nums">{r.fmt(p)}</td>
                <td className="py-1 pr-3 text-right tabular-nums">{r.fmt(b)}</td>
                <td className="py-1 text-right tabular-nums">{Number.isFinite(diff) ? `${diff > 0 ? '+' : diff < 0 ? '−' : ''}${r.fmt(Math.abs(diff))}` : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export interface ControlPlanCardProps {
  building: string;
  tz: string;
  zones: readonly Zone[];
}

export function ControlPlanCard({ building, tz, zones }: ControlPlanCardProps) {
  const client = useClient();
  const { units, tempUnit } = usePrefs();
  const [hours, setHours] = useState(24);
  const [zone, setZone] = useState('');
  const [asked, setAsked] = useState(false);
  const plan = useAsync((signal) => (asked ? getPlan(client, building, hours, signal) : Promise.resolve(null)),
                        [building, hours, asked]);
  const names = Object.fromEntries(zones.map((z) => [z.id, z.name]));

  let body;
  if (!asked) {
    body = (
      <button type="button" className="btn-secondary" onClick={() => setAsked(true)}>
        Plan the next {hours} hours
      </button>
    );
  } else if (plan.error instanceof ApiError && plan.error.status === 409) {
    body = <p role="status" className="text-sm">No plan: {plan.error.message}</p>;
  } else if (plan.error) {
    body = <ErrorBox error={plan.error} onRetry={plan.reload} />;
  } else if (!plan.data) {
    body = <Loading label="Planning…" />;
  } else {
    const p = plan.data;
    const zid = p.zones.some((z) => z.zone === zone) ? zone : p.zones[0]?.zone ?? '';
    const rows = planRows(p, zid, zones.find((z) => z.id === zid), tz, units);
    const from = Date.parse(p.issued);
    const to = from + p.steps * 15 * 60_000;
    body = (
      <div className="grid gap-3">
        <p className="text-sm">
          Issued {timeText(p.issued, tz)}: {p.status === 'optimal' ? 'optimal' : p.status === 'slack' ? 'a comfort band cannot be met everywhere (slack)' : p.status}
          {' '}in {formatNumber(p.solve_s, 2)} s. <span className="muted">{p.load}</span>
        </p>
        <TotalsTable plan={p} units={units} />
        {p.zones.length > 0 && (
          <label className="text-sm sm:max-w-xs">
            <span className="label mb-0">Zone</span>
            <select className="input mt-1" value={zid} onChange={(e) => setZone(e.target.value)}>
              {p.zones.map((z) => <option key={z.zone} value={z.zone}>{names[z.zone] ?? z.zone}</option>)}
            </select>
          </label>
        )}
        {zid && (
          <ForecastChart title={`Setpoints of ${names[zid] ?? zid}: plan against baseline`} rows={rows} series={SERIES}
                         unit={tempUnit === 'F' ? '°F' : '°C'} tz={tz} from={from} to={to}
                         csv={`plan-${building}-${zid}.csv`} />
        )}
      </div>
    );
  }
  return (
    <section className="card" aria-labelledby="ctl-plan">
      <div className="mb-2 flex flex-wrap items-end justify-between gap-2">
        <h2 id="ctl-plan" className="text-lg font-semibold">Optimizer plan</h2>
        <label className="text-sm">
          <span className="label mb-0">Horizon</span>
          <select className="input mt-1" value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            {HOURS.map((h) => <option key={h} value={h}>{h} hours</option>)}
          </select>
        </label>
      </div>
      <p className="muted mb-3 text-sm">
        The setpoints that minimise the tariff's energy and demand cost within the comfort bands, against the schedule's fixed setpoints on the same zone models.
      </p>
      {body}
    </section>
  );
}
