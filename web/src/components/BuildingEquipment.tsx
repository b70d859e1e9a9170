/**
 * The building's equipment with its status and data freshness; each name
 * leads to the equipment's page, and "All equipment" to the building's
 * equipment list.
 */
import { Link } from 'react-router-dom';
import type { Equipment, Point } from '../api/types';
import { useLive, useNow, usePointsVersion } from '../live/LiveContext';
import { equipmentTypeName } from '../lib/model';
import { formatDateTime } from '../lib/time';
import { Badge, ScrollRegion } from './ui';
import type { Tone } from './ui';

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
      <th scope="row" className="py-2 pr-3 text-left font-medium">
        <Link to={`/equipment/${encodeURIComponent(e.id)}/`} className="link">{e.name}</Link>
      </th>
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

export function BuildingEquipment({ building, name, equipment, byEquip, zoneNames, tz }: {
  building: string;
  name: string;
  equipment: readonly Equipment[];
  byEquip: ReadonlyMap<string, Point[]>;
  zoneNames: ReadonlyMap<string, string>;
  tz: string;
}) {
  return (
    <>
      <p className="mb-2 text-sm">
        <Link to={`/buildings/${encodeURIComponent(building)}/equipment/`} className="link">All equipment</Link>
      </p>
      <ScrollRegion label="Equipment table" className="card p-0 sm:p-4 overflow-x-auto">
        <table className="min-w-full text-left text-sm">
          <caption className="sr-only">Equipment of {name} with its status</caption>
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
            {equipment.map((e) => (
              <EquipmentRow key={e.id} e={e} points={byEquip.get(e.id) ?? []} tz={tz}
                            zoneName={e.zone ? zoneNames.get(e.zone) : undefined} />
            ))}
          </tbody>
        </table>
      </ScrollRegion>
    </>
  );
}
