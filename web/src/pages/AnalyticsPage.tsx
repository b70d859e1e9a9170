/**
 * Analytics of one building (/buildings/:building/analytics/): consumption
 * by day, week or month and end use; this week and this month against last
 * week and the same month last year, like-for-like; peak demand per period;
 * and links to what the analytics engine computes on its own pages (load
 * forecasts, measured savings, bills and tariffs, the models' state).
 *
 * Everything here is computed from rollups the server already keeps
 * (GET /points/{p}/history).  Requests on load: the building, its equipment
 * and points (3, more only past 1000 items a list),
 * per meter one daily history for the range and two hourly ones for the
 * comparisons, and one history per main meter for peak demand.  A range
 * change asks again for the daily and peak histories only; a granularity
 * change asks nothing.
 */
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useClient } from '../auth/AuthContext';
import type { Point } from '../api/types';
import { AnalyticsComparison } from '../components/AnalyticsComparison';
import { AnalyticsConsumption } from '../components/AnalyticsConsumption';
import { AnalyticsPeakDemand } from '../components/AnalyticsPeakDemand';
import { AnalyticsPeriodPicker } from '../components/AnalyticsPeriodPicker';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { PRESET_GRANULARITY, presetRange } from '../lib/analytics';
import type { DayRange, Granularity, Preset } from '../lib/analytics';
import { dayKey, dayLabel, meterTree } from '../lib/enduse';
import { mainMeterPowerPoints } from '../lib/model';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

interface Selection {
  preset: Preset;
  custom: DayRange | null;
  /** when the preset was chosen: "last 14 days" counts back from then */
  at: number;
  g: Granularity;
}

export default function AnalyticsPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const data = useAsync(async (signal) => {
    const [building, equipment, points] = await Promise.all([
      client.building(bid, signal),
      client.equipment({ building: bid }, signal),
      client.points({ building: bid }, signal),
    ]);
    return { building, equipment, points };
  }, [bid]);
  const [sel, setSel] = useState<Selection>(() => ({ preset: '14d', custom: null, at: Date.now(), g: 'day' }));

  const tz = safeZone(data.data?.building.timezone);
  const range = useMemo<DayRange>(
    () => (sel.preset === 'custom' && sel.custom ? sel.custom : presetRange(sel.preset === 'custom' ? '14d' : sel.preset, sel.at, tz)),
    [sel.preset, sel.custom, sel.at, tz],
  );
  const model = useMemo(() => {
    if (!data.data) return null;
    const { equipment, points } = data.data;
    const names = new Map(equipment.map((e) => [e.id, e.name]));
    const mains = mainMeterPowerPoints(bid, equipment, points).map((p: Point) => ({ point: p, meter: names.get(p.equipment) ?? p.equipment }));
    return { trees: meterTree(bid, equipment, points), mains };
  }, [data.data, bid]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !model) return <Loading label="Loading the building…" />;
  const b = data.data.building;
  const today = dayKey(Date.now(), tz);

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(bid)}/`} className="link">{b.name}</Link> / Analytics
      </nav>
      <PageTitle sub={`${b.name} · local days in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Analytics</PageTitle>

      <AnalyticsPeriodPicker preset={sel.preset} range={range} granularity={sel.g} today={today}
                             onPreset={(p) => setSel({ preset: p, custom: null, at: Date.now(), g: PRESET_GRANULARITY[p] })}
                             onCustom={(r) => setSel((s) => ({ ...s, preset: 'custom', custom: r, at: Date.now() }))}
                             onGranularity={(g) => setSel((s) => ({ ...s, g }))} />
      <p className="mb-4 text-sm" role="status" aria-live="polite">
        Showing {dayLabel(range.start)}, {range.start.slice(0, 4)} – {dayLabel(range.end)}, {range.end.slice(0, 4)}, per {sel.g}.
      </p>

      <section aria-labelledby="consumption-h" className="mb-6">
        <h2 id="consumption-h" className="mb-2 text-lg font-semibold">Consumption by period and end use</h2>
        <AnalyticsConsumption tz={tz} trees={model.trees} range={range} granularity={sel.g} />
      </section>

      <section aria-labelledby="compare-h" className="mb-6">
        <h2 id="compare-h" className="mb-2 text-lg font-semibold">Period comparison</h2>
        <AnalyticsComparison tz={tz} trees={model.trees} />
      </section>

      <section aria-labelledby="peak-h" className="mb-6">
        <h2 id="peak-h" className="mb-2 text-lg font-semibold">Peak demand</h2>
        <AnalyticsPeakDemand tz={tz} mains={model.mains} range={range} granularity={sel.g} />
      </section>

      <AnalyticsEngineLinks building={bid} />
    </>
  );
}

const ENGINE_PAGES = [
  { to: 'forecast/', label: 'Load forecast', what: 'the next 72 hours per meter with its interval, and how past forecasts compared with the meters' },
  { to: 'savings/', label: 'Measured savings', what: 'energy avoided against a weather-adjusted baseline (CalTRACK), with honest uncertainty, per measure' },
  { to: 'cost/', label: 'Cost and bills', what: 'bills through the building\u2019s tariff, line by line, and its holidays' },
  { to: 'models/', label: 'Analytics models', what: 'whether each meter\u2019s forecaster and each zone\u2019s thermal model is trained, and how well' },
];

/** What the analytics engine computes, each on its own page (nothing is asked from here). */
function AnalyticsEngineLinks({ building }: { building: string }) {
  const base = `/buildings/${encodeURIComponent(building)}/`;
  return (
    <section aria-labelledby="engine-h" className="mb-6">
      <h2 id="engine-h" className="mb-2 text-lg font-semibold">Forecasts, savings and costs</h2>
      <ul className="card space-y-2 text-sm">
        {ENGINE_PAGES.map((p) => (
          <li key={p.to}><Link className="link" to={base + p.to}>{p.label}</Link>: {p.what}.</li>
        ))}
        <li><Link className="link" to="/tariffs/">Tariffs</Link>: the utility rates sbems prices bills with.</li>
      </ul>
    </section>
  );
}
