/**
 * Sites and their buildings: live power (the main meters' readings over the
 * WebSocket, summed as the overview does), today's energy and comfort score
 * (GET /buildings/{b}/overview, refreshed each minute) and open alerts as the
 * API reports them.  Five requests whatever the portfolio's size, plus one
 * overview per building.
 */
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { useClient } from '../auth/AuthContext';
import type { Building, Overview, Point } from '../api/types';
import { Badge, ErrorBox, Loading, PageTitle, Stat } from '../components/ui';
import { LiveSum } from '../components/LiveSum';
import { useChannels, useLive } from '../live/LiveContext';
import { mainMeterPowerPoints } from '../lib/model';
import { energyDigits, formatMeasure, formatNumber } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { formatTime, safeZone } from '../lib/time';
import { useAsync } from '../lib/useAsync';

const OVERVIEW_EVERY_MS = 60_000;

function comfortTone(score: number | null | undefined) {
  if (score === null || score === undefined) return 'neutral' as const;
  return score >= 90 ? ('good' as const) : score >= 70 ? ('warn' as const) : ('bad' as const);
}

function BuildingCard({ b, meters, overview, ovError }: { b: Building; meters: Point[]; overview?: Overview; ovError?: unknown }) {
  const { units } = usePrefs();
  const tz = safeZone(b.timezone);
  const c = overview?.comfort;
  return (
    <li className="card flex flex-col gap-3">
      <div>
        <h3 className="text-lg font-semibold">
          <Link to={`/buildings/${encodeURIComponent(b.id)}/`} className="link">
            {b.name}
          </Link>
        </h3>
        <p className="muted text-xs">
          {b.address ? `${b.address} · ` : ''}
          {tz}
          {overview ? ` · updated ${formatTime(Date.parse(overview.at), tz)}` : ''}
        </p>
      </div>
      <dl className="grid grid-cols-2 gap-3">
        <Stat label="Power now">
          <LiveSum ids={meters.map((p) => p.point_id).filter((x): x is number => typeof x === 'number')} unit="kW" fallback={overview?.power_kw} />
        </Stat>
        <Stat label="Energy today">
          {formatMeasure(overview?.energy_today_kwh, 'kWh', units, undefined, energyDigits(units))}
        </Stat>
        <Stat label="Comfort" hint={c ? `${c.in_band} of ${c.zones - c.unknown} zones in band${c.unknown ? `, ${c.unknown} unknown` : ''}` : undefined}>
          {typeof c?.score === 'number' ? (
            <Badge tone={comfortTone(c.score)}>{formatNumber(c.score, 0)} %</Badge>
          ) : (
            '—'
          )}
        </Stat>
        <Stat label="Alerts">
          {overview && !overview.alerts.available ? (
            <span className="muted text-sm font-normal">alerts: not yet available</span>
          ) : typeof overview?.alerts.active === 'number' ? (
            <Link to={`/alerts/?building=${encodeURIComponent(b.id)}`} className="link">
              <Badge tone={overview.alerts.critical ? 'bad' : overview.alerts.active ? 'warn' : 'good'}>
                {overview.alerts.active} open{overview.alerts.critical ? `, ${overview.alerts.critical} critical` : ''}
              </Badge>
            </Link>
          ) : (
            '—'
          )}
        </Stat>
      </dl>
      {ovError !== undefined && <ErrorBox error={ovError} />}
    </li>
  );
}

export default function PortfolioPage() {
  const client = useClient();
  const { store } = useLive();
  const model = useAsync(async (signal) => {
    const [sites, buildings, meters, power] = await Promise.all([
      client.sites(signal),
      client.buildings(signal),
      client.equipment({ type: 'meter' }, signal),
      client.points({ kind: 'power' }, signal),
    ]);
    store.describe(power);
    return { sites, buildings, meters, power };
  }, [client]);

  const meterPoints = useMemo(() => {
    const m = new Map<string, Point[]>();
    if (!model.data) return m;
    for (const b of model.data.buildings) m.set(b.id, mainMeterPowerPoints(b.id, model.data.meters, model.data.power));
    return m;
  }, [model.data]);

  useChannels([...meterPoints.values()].flat().map((p) => `point:${p.id}`));

  const [overviews, setOverviews] = useState<Record<string, Overview>>({});
  const [ovErrors, setOvErrors] = useState<Record<string, unknown>>({});
  useEffect(() => {
    const list = model.data?.buildings;
    if (!list) return undefined;
    const ac = new AbortController();
    const load = () => {
      for (const b of list) {
        client.overview(b.id, ac.signal).then(
          (o) => {
            setOverviews((s) => ({ ...s, [b.id]: o }));
            setOvErrors((s) => {
              const { [b.id]: _gone, ...rest } = s;
              return rest;
            });
          },
          (e: unknown) => {
            if (!ac.signal.aborted) setOvErrors((s) => ({ ...s, [b.id]: e }));
          },
        );
      }
    };
    load();
    const h = setInterval(() => {
      if (document.visibilityState !== 'hidden') load();
    }, OVERVIEW_EVERY_MS);
    return () => {
      ac.abort();
      clearInterval(h);
    };
  }, [client, model.data]);

  if (model.error) return <ErrorBox error={model.error} onRetry={model.reload} />;
  if (!model.data) return <Loading label="Loading the portfolio…" />;
  const { sites, buildings } = model.data;
  if (buildings.length === 0) {
    return (
      <>
        <PageTitle>Portfolio</PageTitle>
        <p className="muted">No building is in your scope yet. An administrator can grant you sites or buildings.</p>
      </>
    );
  }
  const siteName = new Map(sites.map((s) => [s.id, s.name]));
  const bySite = new Map<string, Building[]>();
  for (const b of buildings) bySite.set(b.site, [...(bySite.get(b.site) ?? []), b]);

  return (
    <>
      <PageTitle sub={`${buildings.length} building${buildings.length === 1 ? '' : 's'} in ${bySite.size} site${bySite.size === 1 ? '' : 's'}`}>
        Portfolio
      </PageTitle>
      {[...bySite.entries()].map(([site, list]) => (
        <section key={site} aria-labelledby={`site-${site}`} className="mb-6">
          <h2 id={`site-${site}`} className="mb-2 text-lg font-semibold">
            {siteName.get(site) ?? site}
          </h2>
          <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
            {list.map((b) => (
              <BuildingCard key={b.id} b={b} meters={meterPoints.get(b.id) ?? []} overview={overviews[b.id]} ovError={ovErrors[b.id]} />
            ))}
          </ul>
        </section>
      ))}
    </>
  );
}
