/**
 * The building's zones with their weekly schedule and comfort bands in
 * words, and whether each is occupied now in the building's time zone.
 * Selection and edit buttons only when the user may edit (`canEdit`).
 */
import { Link } from 'react-router-dom';
import type { Zone } from '../api/types';
import { useNow } from '../live/LiveContext';
import { usePrefs } from '../lib/prefs';
import { isOccupied } from '../lib/schedule';
import { scheduleInWords } from '../lib/scheduleEdit';
import { formatMeasure } from '../lib/units';
import { Badge, ScrollRegion } from './ui';

export interface ScheduleTableProps {
  zones: Zone[];
  tz: string;
  canEdit: boolean;
  selected: ReadonlySet<string>;
  onSelect: (ids: string[], on: boolean) => void;
  onEdit: (id: string) => void;
}

function Band({ label, b }: { label: string; b: { heating: number; cooling: number } }) {
  const { units } = usePrefs();
  return (
    <div>
      <span className="muted">{label}: </span>
      {formatMeasure(b.heating, '°C', units)} – {formatMeasure(b.cooling, '°C', units)}
    </div>
  );
}

export function ScheduleTable({ zones, tz, canEdit, selected, onSelect, onEdit }: ScheduleTableProps) {
  const now = useNow(30_000);
  const all = zones.length > 0 && zones.every((z) => selected.has(z.id));
  return (
    <ScrollRegion label="Zone schedules table" className="card p-0 sm:p-4 overflow-x-auto">
      <table className="min-w-full text-left text-sm">
        <caption className="sr-only">Zones with their weekly schedule, comfort bands and occupancy now</caption>
        <thead className="muted text-xs uppercase">
          <tr>
            {canEdit && (
              <th scope="col" className="py-2 pl-3 pr-2 sm:pl-0">
                <label className="flex min-h-[36px] items-center">
                  <input type="checkbox" className="h-5 w-5" checked={all} onChange={(e) => onSelect(zones.map((z) => z.id), e.target.checked)} />
                  <span className="sr-only">Select all zones</span>
                </label>
              </th>
            )}
            <th scope="col" className="py-2 pr-3">Zone</th>
            <th scope="col" className="py-2 pr-3">Weekly schedule</th>
            <th scope="col" className="py-2 pr-3">Comfort bands</th>
            <th scope="col" className="py-2 pr-3">Now</th>
            {canEdit && <th scope="col" className="py-2 pr-3"><span className="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {zones.map((z) => {
            const occ = isOccupied(z.schedule, tz, now);
            return (
              <tr key={z.id} className="border-t border-slate-200 align-top dark:border-slate-700">
                {canEdit && (
                  <td className="py-2 pl-3 pr-2 sm:pl-0">
                    <label className="flex min-h-[36px] items-center">
                      <input type="checkbox" className="h-5 w-5" checked={selected.has(z.id)} onChange={(e) => onSelect([z.id], e.target.checked)} />
                      <span className="sr-only">Select {z.name}</span>
                    </label>
                  </td>
                )}
                <th scope="row" className="py-2 pr-3 font-medium">
                  <Link to={`/zones/${encodeURIComponent(z.id)}/`} className="link">{z.name}</Link>
                </th>
                <td className="min-w-[12rem] py-2 pr-3">{scheduleInWords(z.schedule)}</td>
                <td className="min-w-[11rem] py-2 pr-3 tabular-nums">
                  {z.comfort ? (
                    <>
                      <Band label="Occupied" b={z.comfort.occupied} />
                      <Band label="Unoccupied" b={z.comfort.unoccupied} />
                    </>
                  ) : <span className="muted">none</span>}
                </td>
                <td className="py-2 pr-3">
                  <Badge tone={occ ? 'good' : 'neutral'}>{occ ? 'Occupied' : 'Unoccupied'}</Badge>
                </td>
                {canEdit && (
                  <td className="py-2 pr-3">
                    <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-label={`Edit ${z.name}`} onClick={() => onEdit(z.id)}>
                      Edit
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
