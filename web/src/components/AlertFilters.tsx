/**
 * The alert list's filters: building, state, severity and "assigned to me",
 * exactly the query parameters GET /api/v1/alerts takes.  Each applies when
 * changed (the list says how many it shows in a polite status).
 */
import { useId } from 'react';
import type { Severity, StateFilter } from '../api/alerts';
import { SEVERITIES, SEVERITY_TEXT, STATE_FILTERS, STATE_FILTER_TEXT } from '../api/alerts';
import type { Building } from '../api/types';

export interface AlertFilterValue {
  building: string;
  state: StateFilter;
  severity: Severity | '';
  mine: boolean;
}

export function AlertFilters({ value, buildings, onChange }: { value: AlertFilterValue; buildings: readonly Building[]; onChange: (v: AlertFilterValue) => void }) {
  const id = useId();
  const known = buildings.some((b) => b.id === value.building);
  return (
    <form className="card grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label="Filter the alerts" onSubmit={(e) => e.preventDefault()}>
      <div>
        <label className="label" htmlFor={`${id}-b`}>Building</label>
        <select id={`${id}-b`} className="input" value={value.building} onChange={(e) => onChange({ ...value, building: e.target.value })}>
          <option value="">All buildings</option>
          {buildings.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
          {value.building && !known && <option value={value.building}>{value.building}</option>}
        </select>
      </div>
      <div>
        <label className="label" htmlFor={`${id}-s`}>State</label>
        <select id={`${id}-s`} className="input" value={value.state} onChange={(e) => onChange({ ...value, state: e.target.value as StateFilter })}>
          {STATE_FILTERS.map((s) => <option key={s} value={s}>{STATE_FILTER_TEXT[s]}</option>)}
        </select>
      </div>
      <div>
        <label className="label" htmlFor={`${id}-v`}>Severity</label>
        <select id={`${id}-v`} className="input" value={value.severity} onChange={(e) => onChange({ ...value, severity: e.target.value as Severity | '' })}>
          <option value="">Any severity</option>
          {SEVERITIES.map((s) => <option key={s} value={s}>{SEVERITY_TEXT[s]}</option>)}
        </select>
      </div>
      <div className="flex items-end">
        <label className="flex min-h-[44px] items-center gap-2 text-sm font-medium">
          <input type="checkbox" className="h-5 w-5" checked={value.mine} onChange={(e) => onChange({ ...value, mine: e.target.checked })} />
          Assigned to me
        </label>
      </div>
    </form>
  );
}
