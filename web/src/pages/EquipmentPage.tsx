/**
 * One piece of equipment: what it is and where (zone, parent, what it
 * feeds), a summary of its type's key values now, every point live, trends
 * of up to four points, and its commands for roles that may send them.
 *
 * Requests: the equipment, then its building, the building's equipment and
 * points (one list each: the parent, the children and the children's key
 * values come from them), the equipment's telemetry (current values before
 * the socket has sent them) and its zone.  Live: `equipment:<id>`, plus
 * `equipment:<child>` for each child whose key value is shown.
 */
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import { canCommand } from '../api/client';
import type { EqEquipment, EqPoint } from '../api/equipment';
import { getEquipment, getTelemetry, keyPoint, listEquipment, listPoints, summaryCells } from '../api/equipment';
import { useAuth, useClient } from '../auth/AuthContext';
import { EquipCommands } from '../components/EquipCommands';
import { EquipPointsTable } from '../components/EquipPointsTable';
import { EquipSummary } from '../components/EquipSummary';
import { EquipTrend, TREND_MAX } from '../components/EquipTrend';
import { EquipValue } from '../components/EquipValue';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useChannels, useLive } from '../live/LiveContext';
import { equipmentTypeName } from '../lib/model';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

const eqPath = (id: string) => `/equipment/${encodeURIComponent(id)}/`;

function Children({ items, points, tz }: { items: EqEquipment[]; points: Map<string, EqPoint[]>; tz: string }) {
  if (items.length === 0) return null;
  const label = items.every((c) => c.type === 'meter') ? 'Sub-meters' : 'Feeds';
  return (
    <div className="col-span-full">
      <dt className="muted text-xs font-medium uppercase tracking-wide">{label}</dt>
      <dd>
        <ul className="mt-1 grid gap-x-4 gap-y-2 min-[480px]:grid-cols-2 lg:grid-cols-4">
          {items.map((c) => {
            const k = keyPoint(c.type, points.get(c.id) ?? []);
            return (
              <li key={c.id} className="text-sm">
                <Link to={eqPath(c.id)} className="link inline-block py-1">{c.name}</Link>
                {k && <span className="muted block text-xs">{k.name}: <EquipValue point={k} tz={tz} /></span>}
              </li>
            );
          })}
        </ul>
      </dd>
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="muted text-xs font-medium uppercase tracking-wide">{label}</dt>
      <dd className="mt-0.5">{children}</dd>
    </div>
  );
}

export default function EquipmentPage() {
  const { equipment: eid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const { store } = useLive();
  const data = useAsync(async (signal) => {
    const equipment = await getEquipment(client, eid, signal);
    const b = equipment.building;
    const [building, all, points, telemetry, zone] = await Promise.all([
      client.building(b, signal),
      listEquipment(client, b, signal),
      listPoints(client, b, signal),
      // a head start only: the socket sends current values on subscribing
      getTelemetry(client, eid, signal).catch(() => null),
      equipment.zone ? client.zone(equipment.zone, signal).catch(() => null) : Promise.resolve(null),
    ]);
    store.describe(points);
    if (telemetry) store.seed(telemetry.points);
    return { equipment, building, all, points, zone };
  }, [eid]);

  const derived = useMemo(() => {
    if (!data.data) return null;
    const { equipment, all, points } = data.data;
    const byEquip = new Map<string, EqPoint[]>();
    for (const p of points) byEquip.set(p.equipment, [...(byEquip.get(p.equipment) ?? []), p]);
    const own = byEquip.get(equipment.id) ?? [];
    const cells = summaryCells(equipment.type, own);
    // the first summary measure (not an on/off state) and the setpoint it is compared with
    const first = cells.find((c) => c.kind === 'value' && !c.state);
    const defaults = first?.kind === 'value'
      ? [first.point.id, ...(first.ref ?? []).filter((r) => r.compare).map((r) => r.point.id)].slice(0, TREND_MAX)
      : [];
    return {
      own,
      cells,
      defaults,
      byEquip,
      parent: all.find((x) => x.id === equipment.parent),
      children: all.filter((x) => x.parent === equipment.id).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })),
    };
  }, [data.data]);

  const [picked, setPicked] = useState<{ eid: string; slugs: string[] } | null>(null);
  const chosen = picked?.eid === eid ? picked.slugs : derived?.defaults ?? [];
  const toggle = (slug: string) => {
    const next = chosen.includes(slug) ? chosen.filter((s) => s !== slug) : chosen.length < TREND_MAX ? [...chosen, slug] : chosen;
    setPicked({ eid, slugs: next });
  };

  useChannels(data.data && derived ? [`equipment:${eid}`, ...derived.children.map((c) => `equipment:${c.id}`)] : []);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !derived) return <Loading label="Loading the equipment…" />;
  const { equipment: e, building, zone } = data.data;
  const tz = safeZone(building.timezone);
  const bPath = `/buildings/${encodeURIComponent(building.id)}/`;
  const trendPoints = chosen.map((s) => derived.own.find((p) => p.id === s)).filter((p): p is EqPoint => !!p);

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> /{' '}
        <Link to={bPath} className="link">{building.name}</Link> /{' '}
        <Link to={`${bPath}equipment/`} className="link">Equipment</Link> / {e.name}
      </nav>
      <PageTitle sub={`${equipmentTypeName(e.type)} · Times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>{e.name}</PageTitle>

      <section aria-label="About" className="card mb-4">
        <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4">
          <Fact label="Type">{equipmentTypeName(e.type)}</Fact>
          <Fact label="Vendor">{e.vendor ?? '—'}</Fact>
          <Fact label="Model">{e.model ?? '—'}</Fact>
          <Fact label="Zone">
            {e.zone ? <Link to={`/zones/${encodeURIComponent(e.zone)}/`} className="link">{zone?.name ?? e.zone}</Link> : '—'}
          </Fact>
          <Fact label="Parent">
            {e.parent ? <Link to={eqPath(e.parent)} className="link">{derived.parent?.name ?? e.parent}</Link> : '—'}
          </Fact>
          <Children items={derived.children} points={derived.byEquip} tz={tz} />
        </dl>
        {e.description && <p className="muted mt-3 text-sm">{e.description}</p>}
      </section>

      <EquipSummary cells={derived.cells} tz={tz} />

      <section aria-labelledby="pts-h" className="mb-6">
        <h2 id="pts-h" className="mb-2 text-lg font-semibold">Points ({derived.own.length})</h2>
        {derived.own.length === 0 ? (
          <p className="muted">This equipment has no points.</p>
        ) : (
          <EquipPointsTable points={derived.own} tz={tz} caption={`Points of ${e.name}, live`} chosen={chosen} onToggle={toggle} />
        )}
      </section>

      {derived.own.length > 0 && <EquipTrend points={trendPoints} tz={tz} />}

      <EquipCommands points={derived.own} tz={tz} mayCommand={canCommand(user)} />
    </>
  );
}
