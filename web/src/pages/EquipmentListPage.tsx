/**
 * A building's equipment, grouped by type (air handlers, VAV boxes,
 * plant, thermostats, meters, sensors ...), each with vendor and model,
 * zone, parent and live status, and a filter by name, type, vendor or
 * zone.  Cards rather than a wide table, so 60+ items read on a phone
 * without sideways scrolling; a list of the types jumps to each group.
 *
 * Requests: the building, its zones, equipment and points (four lists);
 * live: one subscription to `building:<id>`, which carries every point.
 */
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { EqEquipment, EqPoint } from '../api/equipment';
import { groupByType, listEquipment, listPoints, matchesFilter, typePlural } from '../api/equipment';
import { useClient } from '../auth/AuthContext';
import { EquipStatus } from '../components/EquipStatus';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useChannels, useLive } from '../live/LiveContext';
import { equipmentTypeName } from '../lib/model';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

const eqPath = (id: string) => `/equipment/${encodeURIComponent(id)}/`;

function Item({ e, points, zoneName, parentName, tz }: { e: EqEquipment; points: EqPoint[]; zoneName?: string; parentName?: string; tz: string }) {
  const vm = [e.vendor, e.model].filter(Boolean).join(' · ');
  return (
    <li className="card p-3" data-testid={`equipment-${e.id}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-x-2">
        <Link to={eqPath(e.id)} className="link inline-block py-1 text-base font-semibold">{e.name}</Link>
        <span className="muted text-xs">{equipmentTypeName(e.type)}</span>
      </div>
      <p className="muted text-xs">{vm || 'Vendor and model not given'}</p>
      <p className="mt-1 text-xs">
        Zone: {e.zone ? <Link to={`/zones/${encodeURIComponent(e.zone)}/`} className="link">{zoneName ?? e.zone}</Link> : '—'}
        {' · '}
        Parent: {e.parent ? <Link to={eqPath(e.parent)} className="link">{parentName ?? e.parent}</Link> : '—'}
      </p>
      <EquipStatus points={points} tz={tz} />
    </li>
  );
}

export default function EquipmentListPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { store } = useLive();
  const [query, setQuery] = useState('');
  const data = useAsync(async (signal) => {
    const [building, zones, equipment, points] = await Promise.all([
      client.building(bid, signal),
      client.zones(bid, signal),
      listEquipment(client, bid, signal),
      listPoints(client, bid, signal),
    ]);
    store.describe(points);
    return { building, zones, equipment, points };
  }, [bid]);
  useChannels(data.data ? [`building:${bid}`] : []);

  const derived = useMemo(() => {
    if (!data.data) return null;
    const { zones, equipment, points } = data.data;
    const byEquip = new Map<string, EqPoint[]>();
    for (const p of points) byEquip.set(p.equipment, [...(byEquip.get(p.equipment) ?? []), p]);
    return {
      byEquip,
      zoneNames: new Map(zones.map((z) => [z.id, z.name])),
      names: new Map(equipment.map((e) => [e.id, e.name])),
    };
  }, [data.data]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !derived) return <Loading label="Loading the equipment…" />;
  const { building: b, equipment } = data.data;
  const tz = safeZone(b.timezone);
  const shown = equipment.filter((e) => matchesFilter(e, query, e.zone ? derived.zoneNames.get(e.zone) : undefined));
  const groups = groupByType(shown);

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> /{' '}
        <Link to={`/buildings/${encodeURIComponent(b.id)}/`} className="link">{b.name}</Link> / Equipment
      </nav>
      <PageTitle sub={`${b.name} · Times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Equipment</PageTitle>

      <div className="mb-4 max-w-md">
        <label htmlFor="eq-filter" className="label">Filter by name, type, vendor or zone</label>
        <input id="eq-filter" type="search" className="input" value={query} autoComplete="off"
               placeholder="e.g. AHU, vav floor 2, chiller" onChange={(ev) => setQuery(ev.target.value)} />
        <p role="status" className="muted mt-1 text-sm">Showing {shown.length} of {equipment.length}</p>
      </div>

      {groups.length > 1 && (
        <nav aria-label="Equipment types" className="mb-4">
          <ul className="flex flex-wrap gap-2 text-sm">
            {groups.map((g) => (
              <li key={g.type}>
                <a href={`#type-${g.type}`} className="btn-secondary min-h-[36px] px-3 py-1">{typePlural(g.type)} ({g.items.length})</a>
              </li>
            ))}
          </ul>
        </nav>
      )}

      {groups.length === 0 && <p className="muted">{equipment.length ? 'No equipment matches the filter.' : 'This building has no equipment.'}</p>}
      {groups.map((g) => (
        <section key={g.type} aria-labelledby={`type-${g.type}`} className="mb-6">
          <h2 id={`type-${g.type}`} className="mb-2 scroll-mt-4 text-lg font-semibold">{typePlural(g.type)} ({g.items.length})</h2>
          <ul className="grid grid-cols-1 gap-3 min-[480px]:grid-cols-2 xl:grid-cols-3">
            {g.items.map((e) => (
              <Item key={e.id} e={e} points={derived.byEquip.get(e.id) ?? []} tz={tz}
                    zoneName={e.zone ? derived.zoneNames.get(e.zone) : undefined}
                    parentName={e.parent ? derived.names.get(e.parent) : undefined} />
            ))}
          </ul>
        </section>
      ))}
    </>
  );
}
