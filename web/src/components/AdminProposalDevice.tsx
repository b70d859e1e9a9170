/**
 * One discovered device: the equipment it would become (id, name, type)
 * and its proposed points, each with a checkbox.
 */
import { useId } from 'react';
import { pointObject } from '../api/admin';
import type { DiscoveredDevice } from '../api/admin';
import type { EquipmentType } from '../api/types';
import { ScrollRegion } from './ui';
import { equipmentTypeName } from '../lib/model';

export const EQUIP_TYPES: EquipmentType[] = ['ahu', 'rtu', 'vav', 'chiller', 'boiler', 'heat_pump', 'fan_coil', 'thermostat', 'meter', 'sensor', 'other'];

export interface EquipDraft {
  id: string;
  name: string;
  type: EquipmentType;
}

export const pointKey = (device: number, object: string) => `${device}/${object}`;

export function deviceTitle(d: DiscoveredDevice): string {
  return d.name || `Device ${d.device}`;
}

export function AdminProposalDevice({ d, equip, onEquip, checked, added, onCheck, onAll, idError }: {
  d: DiscoveredDevice;
  equip: EquipDraft;
  onEquip: (e: EquipDraft) => void;
  checked: ReadonlySet<string>;
  added: ReadonlySet<string>;
  onCheck: (key: string, on: boolean) => void;
  onAll: (on: boolean) => void;
  idError?: string;
}) {
  const id = useId();
  const points = d.points ?? [];
  const title = deviceTitle(d);
  const n = points.filter((p) => checked.has(pointKey(d.device, pointObject(p)))).length;
  const facts = [`instance ${d.device}`, d.address && `at ${d.address}`, [d.vendor, d.model].filter(Boolean).join(' '),
    d.objects !== undefined && `${d.objects} objects`].filter(Boolean).join(' · ');
  return (
    <section aria-labelledby={`${id}-h`} className="card mt-4">
      <h4 id={`${id}-h`} className="text-base font-semibold">{title}</h4>
      <p className="muted text-xs">{facts}</p>
      {d.complete === false && <p className="mt-1 text-sm">Not every object of this device could be read.</p>}
      {d.errors && d.errors.length > 0 && (
        <details className="mt-1 text-sm">
          <summary className="cursor-pointer">{d.errors.length} read {d.errors.length === 1 ? 'error' : 'errors'}</summary>
          <ul className="mt-1 list-disc pl-5 [overflow-wrap:anywhere]">
            {d.errors.map((e, i) => <li key={i}>{[e.object, e.property].filter(Boolean).join(' ')}: {e.error}</li>)}
          </ul>
        </details>
      )}
      <fieldset className="mt-3 grid gap-3 sm:grid-cols-3">
        <legend className="label">Equipment it becomes</legend>
        <div>
          <label className="label" htmlFor={`${id}-id`}>Equipment id</label>
          <input id={`${id}-id`} className="input" value={equip.id} onChange={(e) => onEquip({ ...equip, id: e.target.value })}
                 aria-invalid={idError ? true : undefined} aria-describedby={idError ? `${id}-id-e` : undefined} />
          {idError && <p id={`${id}-id-e`} className="mt-1 text-sm font-medium text-red-800 dark:text-red-300">{idError}</p>}
        </div>
        <div>
          <label className="label" htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} className="input" value={equip.name} onChange={(e) => onEquip({ ...equip, name: e.target.value })} />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-type`}>Type</label>
          <select id={`${id}-type`} className="input" value={equip.type} onChange={(e) => onEquip({ ...equip, type: e.target.value as EquipmentType })}>
            {EQUIP_TYPES.map((t) => <option key={t} value={t}>{equipmentTypeName(t)}</option>)}
          </select>
        </div>
      </fieldset>
      {points.length === 0 ? (
        <p className="mt-3 text-sm">No points proposed for this device.</p>
      ) : (
        <>
          <div className="mt-3 flex flex-wrap items-center gap-2 text-sm">
            <span>{n} of {points.length} points chosen</span>
            <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => onAll(true)} aria-label={`Select all points of ${title}`}>Select all</button>
            <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => onAll(false)} aria-label={`Select no points of ${title}`}>Select none</button>
          </div>
          <ScrollRegion label="Proposed points table" className="mt-2 overflow-x-auto">
            <table className="min-w-full text-left text-sm">
              <caption className="sr-only">Points proposed for {title}</caption>
              <thead className="muted text-xs uppercase">
                <tr>
                  <th scope="col" className="py-2 pr-3">Add</th>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">Kind</th>
                  <th scope="col" className="py-2 pr-3">Unit</th>
                  <th scope="col" className="py-2 pr-3">Brick class</th>
                  <th scope="col" className="py-2 pr-3">Commandable</th>
                  <th scope="col" className="py-2 pr-3">Object</th>
                </tr>
              </thead>
              <tbody>
                {points.map((p) => {
                  const obj = pointObject(p);
                  const k = pointKey(d.device, obj);
                  const done = added.has(k);
                  return (
                    <tr key={k} className="border-t border-slate-200 align-top dark:border-slate-700">
                      <td className="py-1 pr-3">
                        {done ? <span className="text-xs font-semibold">added</span> : (
                          <input type="checkbox" className="m-2 h-5 w-5" checked={checked.has(k)} onChange={(e) => onCheck(k, e.target.checked)}
                                 aria-label={`Add ${p.name} (${obj}) of ${title}`} />
                        )}
                      </td>
                      <th scope="row" className="min-w-[9rem] py-2 pr-3 text-left font-medium">
                        {p.name}
                        <span className="muted block text-xs font-normal">{p.id}{p.confidence !== undefined ? ` · confidence ${Math.round(p.confidence * 100)} %` : ''}</span>
                      </th>
                      <td className="py-2 pr-3">{p.kind}</td>
                      <td className="py-2 pr-3">{p.unit || '—'}</td>
                      <td className="min-w-[10rem] py-2 pr-3 break-all">{p.brick || '—'}</td>
                      <td className="py-2 pr-3">{p.writable ? 'yes' : 'no'}</td>
                      <td className="py-2 pr-3 whitespace-nowrap">{obj}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollRegion>
        </>
      )}
    </section>
  );
}
