/**
 * One building: summary, building power beside the outdoor temperature,
 * the weather now, energy by end use, the zones floor by floor coloured by
 * temperature against the comfort band in force, and the equipment.  One
 * subscription to building:<b> carries every point of the building (weather
 * included); everything is derived from the model (meter parents, point
 * kinds and tags), never from ids.
 *
 * Requests on load: the building, its zones, equipment and points (4, more
 * only past 1000 items a list), the overview (then each minute), one
 * 1-minute history per main meter and one for the outdoor temperature (again
 * per period change), and one history per meter for the end uses (again
 * every 15 minutes).
 */
import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useClient } from '../auth/AuthContext';
import type { Building, Equipment, Point, Zone } from '../api/types';
import { ErrorBox, Loading, PageTitle, Stat } from '../components/ui';
import { LiveSum } from '../components/LiveSum';
import { BuildingEndUse } from '../components/BuildingEndUse';
import { BuildingEquipment } from '../components/BuildingEquipment';
import { BuildingFloors } from '../components/BuildingFloors';
import { BuildingPowerChart, RANGES, RangePicker } from '../components/BuildingPowerChart';
import { OutdoorTempChart, WeatherNow, weatherPoints } from '../components/BuildingWeather';
import type { ZoneTilePoints } from '../components/BuildingZoneTile';
import { useChannels, useLive } from '../live/LiveContext';
import { mainMeterPowerPoints, zoneTemperaturePoint } from '../lib/model';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { energyDigits, formatMeasure, formatNumber } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';

/** Per zone: its temperature (the shared rule), and the first CO2 and occupancy point serving it. */
function zonePoints(zones: readonly Zone[], equipment: readonly Equipment[], points: readonly Point[]): Map<string, ZoneTilePoints> {
  const zoneOf = new Map(equipment.filter((e) => e.zone).map((e) => [e.id, e.zone as string]));
  const out = new Map<string, ZoneTilePoints>(zones.map((z) => [z.id, { temp: zoneTemperaturePoint(z.id, equipment, points) }]));
  for (const p of points) {
    const z = zoneOf.get(p.equipment);
    const t = z ? out.get(z) : undefined;
    if (!t) continue;
    if (p.kind === 'co2' && !t.co2) t.co2 = p;
    if (p.kind === 'occupancy' && !t.occupancy) t.occupancy = p;
  }
  return out;
}

export default function BuildingPage() {
  const { units } = usePrefs();
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { store } = useLive();
  const [range, setRange] = useState(RANGES[2]?.ms ?? 24 * 3_600_000);
  const data = useAsync(async (signal) => {
    const [building, zones, equipment, points] = await Promise.all([
      client.building(bid, signal),
      client.zones(bid, signal),
      client.equipment({ building: bid }, signal),
      client.points({ building: bid }, signal),
    ]);
    store.describe(points);
    return { building, zones, equipment, points };
  }, [bid]);
  const overview = useAsync((signal) => client.overview(bid, signal), [bid]);
  useEffect(() => {
    const h = setInterval(overview.reload, 60_000);
    return () => clearInterval(h);
  }, [overview.reload]);
  useChannels(data.data ? [`building:${bid}`] : []);

  const derived = useMemo(() => {
    if (!data.data) return null;
    const { zones, equipment, points } = data.data;
    const meters = mainMeterPowerPoints(bid, equipment, points);
    const byEquip = new Map<string, Point[]>();
    for (const p of points) byEquip.set(p.equipment, [...(byEquip.get(p.equipment) ?? []), p]);
    const zoneNames = new Map(zones.map((z) => [z.id, z.name]));
    return { meters, zonePts: zonePoints(zones, equipment, points), byEquip, zoneNames, weather: weatherPoints(points) };
  }, [data.data, bid]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !derived) return <Loading label="Loading the building…" />;
  const b: Building = data.data.building;
  const tz = safeZone(b.timezone);
  const ov = overview.data;

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / {b.name}
      </nav>
      <PageTitle sub={`Times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>{b.name}</PageTitle>

      <section aria-label="Summary" className="card mb-4">
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Stat label="Power now">
            {derived.meters.length ? (
              <LiveSum ids={derived.meters.map((m) => m.point_id).filter((x): x is number => typeof x === 'number')} unit="kW" fallback={ov?.power_kw} />
            ) : '—'}
          </Stat>
          <Stat label="Energy today">{formatMeasure(ov?.energy_today_kwh, 'kWh', units, undefined, energyDigits(units))}</Stat>
          <Stat label="Comfort">{typeof ov?.comfort.score === 'number' ? `${formatNumber(ov.comfort.score, 0)} % in band` : '—'}</Stat>
          <Stat label="Alerts">
            {ov && !ov.alerts.available ? <span className="muted text-sm font-normal">alerts: not yet available</span>
              : typeof ov?.alerts.active === 'number'
                ? <Link to={`/alerts/?building=${encodeURIComponent(b.id)}`} className="link">{ov.alerts.active} open{ov.alerts.unacknowledged ? ` (${ov.alerts.unacknowledged} not acknowledged)` : ''}</Link>
                : '—'}
          </Stat>
        </dl>
        {overview.error ? <div className="mt-2"><ErrorBox error={overview.error} /></div> : null}
      </section>

      <section aria-labelledby="power-h" className="mb-6">
        <div className="mb-2 flex flex-wrap items-center gap-3">
          <h2 id="power-h" className="text-lg font-semibold">Power and outdoor temperature</h2>
          <RangePicker value={range} onChange={setRange} label="Chart period" />
        </div>
        <div className="grid gap-4 lg:grid-cols-2">
          <div className="min-w-0"><BuildingPowerChart building={bid} meters={derived.meters} tz={tz} range={range} /></div>
          <div className="min-w-0"><OutdoorTempChart point={derived.weather.temperature} tz={tz} range={range} /></div>
        </div>
      </section>

      <section aria-labelledby="weather-h" className="mb-6">
        <h2 id="weather-h" className="mb-2 text-lg font-semibold">Weather now</h2>
        <WeatherNow w={derived.weather} tz={tz} />
      </section>

      <section aria-labelledby="enduse-h" className="mb-6">
        <h2 id="enduse-h" className="mb-2 text-lg font-semibold">Energy by end use</h2>
        <BuildingEndUse building={bid} tz={tz} equipment={data.data.equipment} points={data.data.points} />
      </section>

      <section aria-labelledby="zones-h" className="mb-6">
        <h2 id="zones-h" className="mb-2 text-lg font-semibold">Zones</h2>
        <BuildingFloors zones={data.data.zones} points={derived.zonePts} tz={tz} />
      </section>

      <section aria-labelledby="eq-h" className="mb-6">
        <h2 id="eq-h" className="mb-2 text-lg font-semibold">Equipment</h2>
        <BuildingEquipment building={bid} name={b.name} equipment={data.data.equipment} byEquip={derived.byEquip}
                           zoneNames={derived.zoneNames} tz={tz} />
      </section>
    </>
  );
}
