/**
 * One zone: its conditions now, temperature / humidity / CO2 / occupancy
 * history continued live, the next 24 h its thermal model predicts (when it
 * has one), and its setpoints with who holds them; commands for roles that
 * may send them.
 */
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { canCommand } from '../api/client';
import type { Point, PointKind, Zone } from '../api/types';
import { useAuth, useClient } from '../auth/AuthContext';
import { LiveValue } from '../components/LiveValue';
import { PriorityPanel } from '../components/PriorityPanel';
import { SetpointControl } from '../components/SetpointControl';
import { TimeSeriesChart } from '../components/TimeSeriesChart';
import { Badge, ErrorBox, Loading, PageTitle, Stat } from '../components/ui';
import { useChannels, useLive, useNow, useReading } from '../live/LiveContext';
import { useLiveSeries } from '../live/useLiveSeries';
import { canonicalUnit } from '../lib/model';
import { bandNow, comfortState, isOccupied } from '../lib/schedule';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { displayUnit, formatMeasure, toDisplay } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';
import { COMFORT_TEXT, COMFORT_TONE } from '../components/comfort';
import { Disclosure } from '../components/Disclosure';
import { ZonePrediction } from '../components/ZonePrediction';

const RANGES = [
  { label: '6 h', ms: 6 * 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
];

const CHARTS: { kind: PointKind; title: string; color: string; digits: number }[] = [
  { kind: 'temperature', title: 'Temperature', color: '#dc2626', digits: 1 },
  { kind: 'humidity', title: 'Relative humidity', color: '#2563eb', digits: 0 },
  { kind: 'co2', title: 'CO₂', color: '#7c3aed', digits: 0 },
  { kind: 'occupancy', title: 'Occupancy', color: '#0d9488', digits: 0 },
];

function ZoneChart({ point, title, color, digits, tz, rangeMs }: { point: Point; title: string; color: string; digits: number; tz: string; rangeMs: number }) {
  const { units } = usePrefs();
  const s = useLiveSeries({ slug: point.id, id: point.point_id }, 'v', rangeMs);
  const now = useNow(30_000);
  const unit = canonicalUnit(point);
  const shown = unit ? displayUnit(unit, units) : unit;
  const rows = shown !== unit ? s.rows.map((r) => ({ ...r, v: typeof r.v === 'number' ? toDisplay(r.v, unit, units).value : null })) : s.rows;
  if (s.error) return <ErrorBox error={s.error} onRetry={s.reload} />;
  if (s.loading && rows.length === 0) return <Loading label={`Loading ${title.toLowerCase()}…`} />;
  return (
    <TimeSeriesChart title={`${title} — ${point.name}`} data={rows} series={[{ key: 'v', name: point.name, color }]}
                     unit={shown || 'state'} tz={tz} from={now - rangeMs} to={now} digits={digits} height={200}
                     exportSpec={{ points: [point.id], resolution: rangeMs > 2 * 86_400_000 ? '15m' : '1m' }} />
  );
}

/** Comfort now: the live temperature against the band in force (occupied by the schedule). */
function ZoneComfort({ zone, tz, tempId, fallback }: { zone: Zone; tz: string; tempId: number | null | undefined; fallback: number | null }) {
  const { store } = useLive();
  const { units } = usePrefs();
  const r = useReading(tempId);
  const now = useNow(15_000);
  const occupied = isOccupied(zone.schedule, tz, now);
  const band = bandNow(zone.comfort, occupied);
  const stale = typeof tempId === 'number' && store.stale(tempId, now);
  const state = stale ? 'unknown' : comfortState(r ? r.v : fallback, band);
  const hint = band
    ? `band ${formatMeasure(band.heating, '°C', units)} – ${formatMeasure(band.cooling, '°C', units)}, ${occupied ? 'occupied' : 'unoccupied'}`
    : 'no comfort band';
  return (
    <Stat label="Comfort" hint={hint}>
      <Badge tone={COMFORT_TONE[state]}>{stale ? 'Stale' : COMFORT_TEXT[state]}</Badge>
    </Stat>
  );
}

export default function ZonePage() {
  const { zone: zid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const { store } = useLive();
  const [range, setRange] = useState(RANGES[1]?.ms ?? 86_400_000);
  const [cmdCount, setCmdCount] = useState(0);
  const data = useAsync(async (signal) => {
    const zone = await client.zone(zid, signal);
    const [building, status] = await Promise.all([client.building(zone.building, signal), client.zoneStatus(zid, signal)]);
    const lists = await Promise.all(status.equipment.map((e) => client.points({ equipment: e.equipment }, signal)));
    const points = lists.flat();
    store.describe(points);
    store.seed(status.equipment.flatMap((e) => e.points));
    return { zone, building, status, points };
  }, [zid]);
  useChannels(data.data ? [`zone:${zid}`] : []);

  const derived = useMemo(() => {
    if (!data.data) return null;
    const { points, status } = data.data;
    const tempSlug = status.equipment.flatMap((e) => e.points).find((p) => p.kind === 'temperature')?.slug;
    const charts = CHARTS.map((c) => ({
      ...c,
      point: c.kind === 'temperature' ? points.find((p) => p.id === tempSlug) : points.find((p) => p.kind === c.kind),
    })).filter((c): c is typeof c & { point: Point } => !!c.point);
    const setpoints = points.filter((p) => p.kind === 'setpoint' && p.writable);
    return { charts, setpoints };
  }, [data.data]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !derived) return <Loading label="Loading the zone…" />;
  const { zone, building, status } = data.data;
  const tz = safeZone(building.timezone);
  const tempPoint = derived.charts.find((c) => c.kind === 'temperature')?.point;
  const mayCommand = canCommand(user);
  const byKind = (k: PointKind) => derived.charts.find((c) => c.kind === k)?.point;

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> /{' '}
        <Link to={`/buildings/${encodeURIComponent(building.id)}/`} className="link">{building.name}</Link> / {zone.name}
      </nav>
      <PageTitle sub={`${zone.floor !== null && zone.floor !== undefined ? `Floor ${zone.floor} · ` : ''}Times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>
        {zone.name}
      </PageTitle>

      <section aria-label="Now" className="card mb-4">
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-5">
          {(['temperature', 'humidity', 'co2', 'occupancy'] as PointKind[]).map((k) => {
            const p = byKind(k);
            return (
              <Stat key={k} label={CHARTS.find((c) => c.kind === k)?.title ?? k}>
                {p ? <LiveValue pointId={p.point_id} unit={canonicalUnit(p)} tz={tz} /> : <span className="muted">—</span>}
              </Stat>
            );
          })}
          <ZoneComfort zone={zone} tz={tz} tempId={tempPoint?.point_id} fallback={status.temperature} />
        </dl>
      </section>

      <section aria-labelledby="hist-h" className="mb-6">
        <div className="mb-2 flex flex-wrap items-center gap-3">
          <h2 id="hist-h" className="text-lg font-semibold">History</h2>
          <div role="group" aria-label="History period" className="flex gap-2">
            {RANGES.map((r) => (
              <button key={r.ms} type="button" aria-pressed={range === r.ms} onClick={() => setRange(r.ms)}
                      className={range === r.ms ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}>
                {r.label}
              </button>
            ))}
          </div>
        </div>
        {derived.charts.length === 0 ? (
          <p className="muted">No temperature, humidity, CO₂ or occupancy point serves this zone.</p>
        ) : (
          <div className="grid gap-4 lg:grid-cols-2">
            {derived.charts.map((c) => (
              <ZoneChart key={c.kind} point={c.point} title={c.title} color={c.color} digits={c.digits} tz={tz} rangeMs={range} />
            ))}
          </div>
        )}
      </section>

      <ZonePrediction zone={zone.id} building={building.id} tz={tz} />

      <section aria-labelledby="sp-h" className="mb-6">
        <h2 id="sp-h" className="mb-2 text-lg font-semibold">Setpoints</h2>
        {derived.setpoints.length === 0 ? (
          <p className="muted">No commandable setpoint serves this zone.</p>
        ) : (
          <ul className="grid gap-4 lg:grid-cols-2">
            {derived.setpoints.map((p) => {
              const unit = canonicalUnit(p);      // readings
              const cmdUnit = p.unit ?? unit;      // commands, read-backs, priority slots
              return (
                <li key={p.id} className="card space-y-3">
                  <div>
                    <h3 className="font-semibold">{p.name}</h3>
                    <p className="muted text-xs">{p.id}</p>
                    <p className="mt-1 text-xl font-semibold">
                      <LiveValue pointId={p.point_id} unit={unit} tz={tz} />
                    </p>
                  </div>
                  {mayCommand && (
                    <SetpointControl point={{ slug: p.id, name: p.name, unit: cmdUnit, min: p.min, max: p.max }} tz={tz}
                                     onCommandDone={() => setCmdCount((n) => n + 1)} />
                  )}
                  <Disclosure summary="Who holds this point">
                    <PriorityPanel slug={p.id} unit={cmdUnit} tz={tz} refreshKey={cmdCount} />
                  </Disclosure>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </>
  );
}
