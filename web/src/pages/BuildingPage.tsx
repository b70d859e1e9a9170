/**
 * One building: live power over the last hours (history of the main meters,
 * then their live readings), the zones coloured by temperature against the
 * comfort band in force, and the equipment with its status.  One
 * subscription to building:<b> carries every point of the building.
 */
import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useClient } from '../auth/AuthContext';
import type { Building, Equipment, Point, Zone } from '../api/types';
import { Badge, ErrorBox, Loading, PageTitle, Stat } from '../components/ui';
import type { Tone } from '../components/ui';
import { COMFORT_TEXT, COMFORT_TONE } from '../components/comfort';
import { LiveValue } from '../components/LiveValue';
import { LiveSum } from '../components/LiveSum';
import { TimeSeriesChart } from '../components/TimeSeriesChart';
import type { ChartRow } from '../components/TimeSeriesChart';
import { useChannels, useLive, useNow, usePointsVersion, useReading } from '../live/LiveContext';
import { equipmentTypeName, mainMeterPowerPoints, sumKnown, zoneTemperaturePoint } from '../lib/model';
import { bandNow, comfortState, isOccupied } from '../lib/schedule';
import { appendLive, sumHistories } from '../lib/series';
import { formatDateTime, safeZone, zoneAbbreviation } from '../lib/time';
import { energyDigits, formatMeasure, formatNumber } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';

const RANGES = [
  { label: '1 h', ms: 3_600_000 },
  { label: '6 h', ms: 6 * 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
];

function PowerChart({ building, meters, tz }: { building: string; meters: Point[]; tz: string }) {
  const client = useClient();
  const { store } = useLive();
  const [range, setRange] = useState(RANGES[1]?.ms ?? 6 * 3_600_000);
  const ids = meters.map((m) => m.point_id).filter((x): x is number => typeof x === 'number');
  const idKey = ids.join(',');
  const hist = useAsync(async (signal) => {
    const to = Date.now();
    const from = to - range;
    const list = await Promise.all(meters.map((m) => client.history(m.id, { from, to, resolution: '1m' }, signal)));
    return { from, rows: sumHistories(list, 'kw') };
  }, [building, range, idKey]);
  const [rows, setRows] = useState<ChartRow[]>([]);
  useEffect(() => setRows(hist.data?.rows ?? []), [hist.data]);
  useEffect(() => {
    if (!idKey) return undefined;
    const watchedIds = idKey.split(',').map(Number);
    const watched = new Set(watchedIds);
    return store.subscribeBatch((changed) => {
      if (![...changed].some((id) => watched.has(id))) return;
      const latest = watchedIds.map((id) => store.get(id));
      const kw = sumKnown(latest.map((r) => r?.v));
      const t = Math.max(...latest.map((r) => r?.t ?? 0));
      if (kw === null || !t) return;
      setRows((rs) => appendLive(rs, { t, kw } as ChartRow, Date.now() - range));
    });
  }, [store, idKey, range]);
  const now = useNow(30_000);

  if (meters.length === 0) return <p className="muted card text-sm">No main meter with a power point in this building.</p>;
  return (
    <div>
      <div role="group" aria-label="Power chart period" className="mb-2 flex gap-2">
        {RANGES.map((r) => (
          <button key={r.ms} type="button" aria-pressed={range === r.ms} onClick={() => setRange(r.ms)}
                  className={range === r.ms ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}>
            {r.label}
          </button>
        ))}
      </div>
      {hist.error ? <ErrorBox error={hist.error} onRetry={hist.reload} /> : null}
      {hist.loading && rows.length === 0 ? (
        <Loading label="Loading power history…" />
      ) : (
        <TimeSeriesChart title={`Power, last ${RANGES.find((r) => r.ms === range)?.label ?? ''} (1-minute means, then live)`}
                         data={rows} series={[{ key: 'kw', name: 'Building power', color: '#0d9488' }]}
                         unit="kW" tz={tz} from={now - range} to={now}
                         exportSpec={{ points: meters.map((m) => m.id) }} />
      )}
    </div>
  );
}

function ZoneTile({ zone, temp, tz }: { zone: Zone; temp: Point | undefined; tz: string }) {
  const { units } = usePrefs();
  const { store } = useLive();
  const r = useReading(temp?.point_id);
  const now = useNow(15_000);
  const occupied = isOccupied(zone.schedule, tz, now);
  const band = bandNow(zone.comfort, occupied);
  const stale = typeof temp?.point_id === 'number' && store.stale(temp.point_id, now);
  const state = stale ? 'unknown' : comfortState(r?.v, band);
  const colour = {
    in_band: 'border-emerald-500 bg-emerald-50 dark:bg-emerald-950',
    too_warm: 'border-red-500 bg-red-50 dark:bg-red-950',
    too_cold: 'border-sky-500 bg-sky-50 dark:bg-sky-950',
    unknown: 'border-slate-400 bg-slate-100 dark:bg-slate-800',
  }[state];
  const bandText = band ? `${formatMeasure(band.heating, '°C', units)} – ${formatMeasure(band.cooling, '°C', units)}` : 'no comfort band';
  return (
    <li>
      <Link to={`/zones/${encodeURIComponent(zone.id)}/`}
            className={`block rounded-lg border-l-4 p-3 shadow-sm hover:shadow-md ${colour}`}
            aria-label={`${zone.name}: ${r ? formatMeasure(r.v, '°C', units) : 'no temperature'}${stale ? ' (stale)' : ''}, ${COMFORT_TEXT[state]}, band ${bandText}, ${occupied ? 'occupied' : 'unoccupied'}`}>
        <p className="truncate text-sm font-semibold">{zone.name}</p>
        <p className="mt-1 text-xl font-semibold">
          <LiveValue pointId={temp?.point_id} unit="°C" tz={tz} />
        </p>
        <p className="mt-1 flex flex-wrap items-center gap-1 text-xs">
          <Badge tone={COMFORT_TONE[state]}>{stale ? 'Stale' : COMFORT_TEXT[state]}</Badge>
          <span className="muted">{occupied ? 'occupied' : 'unoccupied'} · {bandText}</span>
        </p>
      </Link>
    </li>
  );
}

function EquipmentRow({ e, points, tz, zoneName }: { e: Equipment; points: Point[]; tz: string; zoneName?: string }) {
  const { store } = useLive();
  const ids = points.map((p) => p.point_id).filter((x): x is number => typeof x === 'number');
  usePointsVersion(ids);
  const now = useNow(15_000);
  const status = points.find((p) => p.kind === 'status') ?? points.find((p) => p.kind === 'command' && !p.unit);
  const withData = ids.filter((id) => store.get(id));
  const stale = withData.filter((id) => store.stale(id, now)).length;
  const sr = status?.point_id ? store.get(status.point_id) : undefined;
  let tone: Tone = 'neutral';
  let text = 'no data';
  if (withData.length > 0) {
    tone = stale === withData.length ? 'bad' : stale ? 'warn' : 'good';
    text = stale === withData.length ? 'all stale' : stale ? `${stale} stale` : 'reporting';
  }
  return (
    <tr className="border-t border-slate-200 dark:border-slate-700">
      <th scope="row" className="py-2 pr-3 text-left font-medium">{e.name}</th>
      <td className="py-2 pr-3">{equipmentTypeName(e.type)}</td>
      <td className="py-2 pr-3">{zoneName ?? '—'}</td>
      <td className="py-2 pr-3">
        {status ? (sr ? (sr.v !== 0 ? `${status.name}: on` : `${status.name}: off`) : `${status.name}: —`) : '—'}
      </td>
      <td className="py-2 pr-3">
        <Badge tone={tone} title={sr ? formatDateTime(sr.t, tz) : undefined}>{text}</Badge>
        <span className="muted ml-1 text-xs">{withData.length}/{ids.length} points</span>
      </td>
    </tr>
  );
}

export default function BuildingPage() {
  const { units } = usePrefs();
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { store } = useLive();
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
    const sortedZones = [...zones].sort((a, b) => (a.floor ?? 0) - (b.floor ?? 0) || a.name.localeCompare(b.name));
    const temps = new Map(zones.map((z) => [z.id, zoneTemperaturePoint(z.id, equipment, points)]));
    const byEquip = new Map<string, Point[]>();
    for (const p of points) byEquip.set(p.equipment, [...(byEquip.get(p.equipment) ?? []), p]);
    const zoneNames = new Map(zones.map((z) => [z.id, z.name]));
    return { meters, sortedZones, temps, byEquip, zoneNames };
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
            {ov && !ov.alerts.available ? <span className="muted text-sm font-normal">alerts: not yet available</span> : ov?.alerts.active ?? '—'}
          </Stat>
        </dl>
        {overview.error ? <div className="mt-2"><ErrorBox error={overview.error} /></div> : null}
      </section>

      <section aria-labelledby="power-h" className="mb-6">
        <h2 id="power-h" className="mb-2 text-lg font-semibold">Power</h2>
        <PowerChart building={bid} meters={derived.meters} tz={tz} />
      </section>

      <section aria-labelledby="zones-h" className="mb-6">
        <h2 id="zones-h" className="mb-2 text-lg font-semibold">Zones</h2>
        {derived.sortedZones.length === 0 ? (
          <p className="muted">No zones.</p>
        ) : (
          <ul className="grid grid-cols-1 gap-3 min-[480px]:grid-cols-2 md:grid-cols-3 xl:grid-cols-5">
            {derived.sortedZones.map((z) => (
              <ZoneTile key={z.id} zone={z} temp={derived.temps.get(z.id)} tz={tz} />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="eq-h" className="mb-6">
        <h2 id="eq-h" className="mb-2 text-lg font-semibold">Equipment</h2>
        <div className="card overflow-x-auto p-0 sm:p-4">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">Equipment of {b.name} with its status</caption>
            <thead className="muted text-xs uppercase">
              <tr>
                <th scope="col" className="py-2 pr-3">Name</th>
                <th scope="col" className="py-2 pr-3">Type</th>
                <th scope="col" className="py-2 pr-3">Zone</th>
                <th scope="col" className="py-2 pr-3">Status</th>
                <th scope="col" className="py-2 pr-3">Data</th>
              </tr>
            </thead>
            <tbody>
              {data.data.equipment.map((e) => (
                <EquipmentRow key={e.id} e={e} points={derived.byEquip.get(e.id) ?? []} tz={tz}
                              zoneName={e.zone ? derived.zoneNames.get(e.zone) : undefined} />
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
