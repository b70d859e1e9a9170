/**
 * Every point of an equipment with its live value, unit, whether it can be
 * commanded and where it comes from; the first column picks points for the
 * trend (up to TREND_MAX: the other boxes are disabled, and the note says
 * why, in words).
 */
import { useId } from 'react';
import type { EqPoint } from '../api/equipment';
import { readingUnit } from '../api/equipment';
import type { DriverName } from '../api/types';
import { usePrefs } from '../lib/prefs';
import { displayUnit } from '../lib/units';
import { EquipValue } from './EquipValue';
import { ScrollRegion } from './ui';
import { TREND_MAX } from './EquipTrend';

const DRIVERS: Record<DriverName, string> = {
  bacnet: 'BACnet', modbus: 'Modbus', mqtt: 'MQTT', rest: 'REST', weather: 'Weather service', virtual: 'Virtual',
};

function sourceText(p: EqPoint): string {
  const s = p.source;
  if (!s) return '—';
  const name = DRIVERS[s.driver] ?? s.driver;
  if (s.driver === 'virtual') return `${name} (computed)`;
  if (typeof s.poll_s === 'number' && s.poll_s > 0) return `${name}, every ${s.poll_s} s`;
  return s.driver === 'mqtt' ? `${name} (pushed)` : name;
}

export interface EquipPointsTableProps {
  points: readonly EqPoint[];
  tz: string;
  caption: string;
  chosen: readonly string[];
  onToggle: (slug: string) => void;
}

export function EquipPointsTable({ points, tz, caption, chosen, onToggle }: EquipPointsTableProps) {
  const { units } = usePrefs();
  const noteId = useId();
  const full = chosen.length >= TREND_MAX;
  return (
    <>
      {/* relative: the sr-only texts inside are absolutely placed and must scroll with the table, not widen the page */}
      <ScrollRegion label="Points table" className="card relative p-0 sm:p-4 overflow-x-auto">
        <table className="min-w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <thead className="muted text-xs uppercase">
            <tr>
              <th scope="col" className="px-2 py-2">Trend</th>
              <th scope="col" className="py-2 pr-3">Point</th>
              <th scope="col" className="py-2 pr-3">Kind</th>
              <th scope="col" className="py-2 pr-3">Value</th>
              <th scope="col" className="py-2 pr-3">Unit</th>
              <th scope="col" className="py-2 pr-3">Writable</th>
              <th scope="col" className="py-2 pr-3">Source</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => {
              const on = chosen.includes(p.id);
              const unit = readingUnit(p);
              const shown = unit ? displayUnit(unit, units) : '';
              return (
                <tr key={p.id} className="border-t border-slate-200 dark:border-slate-700">
                  <td className="px-2 py-0">
                    <label className="inline-flex min-h-[44px] min-w-[44px] cursor-pointer items-center justify-center">
                      <input type="checkbox" className="h-5 w-5 accent-teal-700" checked={on} disabled={!on && full}
                             aria-label={`Trend ${p.name}`} aria-describedby={!on && full ? noteId : undefined}
                             onChange={() => onToggle(p.id)} />
                    </label>
                  </td>
                  <th scope="row" className="min-w-[11rem] py-2 pr-3 font-medium">
                    {p.name}
                    <span className="muted block text-xs font-normal">{p.id}</span>
                  </th>
                  <td className="py-2 pr-3">{p.kind}</td>
                  <td className="whitespace-nowrap py-2 pr-3"><EquipValue point={p} tz={tz} /></td>
                  <td className="py-2 pr-3">
                    {shown || '—'}
                    {p.unit && p.unit !== unit && <span className="muted block text-xs">device: {p.unit}</span>}
                  </td>
                  <td className="py-2 pr-3">
                    {p.writable ? (
                      <a href={`#cmd-${p.id}`} className="link">Yes<span className="sr-only">: go to {p.name} under Commands</span></a>
                    ) : 'No'}
                  </td>
                  <td className="py-2 pr-3">{sourceText(p)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
      <p id={noteId} role="status" className="muted mt-2 text-sm">
        {chosen.length} of {TREND_MAX} points chosen for the trend{full ? '; clear one to choose another.' : '.'}
      </p>
    </>
  );
}
