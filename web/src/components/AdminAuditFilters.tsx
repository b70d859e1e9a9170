/**
 * The audit log's filters: exactly those GET /api/v1/audit accepts
 * (sb_api__h_audit refuses any other query parameter): actor_id, action (a
 * prefix), target (exact), from and to (entered in the browser's zone,
 * sent as ms; `to` is exclusive and must be after `from`).
 */
import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { AuditFilter } from '../api/admin';
import { FieldMsg } from './AdminUserFields';

const ACTIONS = ['site.', 'building.', 'zone.', 'equipment.', 'point.', 'point.write', 'point.release', 'bacnet.',
  'user.', 'auth.', 'auth.login'];

interface Fields {
  actor: string;
  action: string;
  target: string;
  from: string;
  to: string;
}

/** datetime-local value ("2026-11-27T08:00") for ms, in the browser's zone. */
function toInput(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

const fieldsOf = (f: AuditFilter): Fields => ({
  actor: f.actor_id ? String(f.actor_id) : '',
  action: f.action ?? '',
  target: f.target ?? '',
  from: toInput(f.from),
  to: toInput(f.to),
});

export function parseFilter(v: Fields): { filter?: AuditFilter; errors: Partial<Record<keyof Fields, string>> } {
  const errors: Partial<Record<keyof Fields, string>> = {};
  const f: AuditFilter = {};
  if (v.actor.trim()) {
    const n = Number(v.actor);
    if (!Number.isInteger(n) || n <= 0) errors.actor = 'A user id is a whole number above 0.';
    else f.actor_id = n;
  }
  if (v.action.trim()) f.action = v.action.trim();
  if (v.target.trim()) f.target = v.target.trim();
  // A datetime-local value without a zone is read in the browser's zone.
  const time = (s: string) => (s ? new Date(s).getTime() : undefined);
  f.from = time(v.from);
  f.to = time(v.to);
  if (f.from !== undefined && Number.isNaN(f.from)) errors.from = 'Not a date and time.';
  if (f.to !== undefined && Number.isNaN(f.to)) errors.to = 'Not a date and time.';
  if (!errors.from && !errors.to && f.from !== undefined && f.to !== undefined && f.to <= f.from) errors.to = 'Must be after “From”.';
  if (f.from === undefined) delete f.from;
  if (f.to === undefined) delete f.to;
  return Object.keys(errors).length ? { errors } : { filter: f, errors };
}

export function AdminAuditFilters({ value, onApply, tzName }: { value: AuditFilter; onApply: (f: AuditFilter) => void; tzName: string }) {
  const id = useId();
  const [v, setV] = useState<Fields>(() => fieldsOf(value));
  const [errors, setErrors] = useState<Partial<Record<keyof Fields, string>>>({});
  // A filter set from an entry ("only this user") shows in the fields.
  useEffect(() => setV(fieldsOf(value)), [value]);
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => setV((o) => ({ ...o, [k]: e.target.value }));

  function submit(e: FormEvent) {
    e.preventDefault();
    const r = parseFilter(v);
    setErrors(r.errors);
    if (r.filter) onApply(r.filter);
  }

  const err = (k: keyof Fields) => (errors[k] ? { 'aria-invalid': true, 'aria-describedby': `${id}-${k}-e` } : {});
  return (
    <form onSubmit={submit} noValidate className="card grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label="Filter the audit log">
      <div>
        <label className="label" htmlFor={`${id}-actor`}>User id</label>
        <input id={`${id}-actor`} className="input" inputMode="numeric" value={v.actor} onChange={set('actor')} {...err('actor')} />
        <FieldMsg id={`${id}-actor-e`} msg={errors.actor} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-action`}>Action starts with</label>
        <input id={`${id}-action`} className="input" list={`${id}-actions`} value={v.action} placeholder="zone." onChange={set('action')} />
        <datalist id={`${id}-actions`}>{ACTIONS.map((a) => <option key={a} value={a} />)}</datalist>
      </div>
      <div>
        <label className="label" htmlFor={`${id}-target`}>Object (exact)</label>
        <input id={`${id}-target`} className="input" value={v.target} placeholder="point:ahu-1.sat" onChange={set('target')} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-from`}>From ({tzName})</label>
        <input id={`${id}-from`} type="datetime-local" className="input" value={v.from} onChange={set('from')} {...err('from')} />
        <FieldMsg id={`${id}-from-e`} msg={errors.from} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-to`}>Until ({tzName})</label>
        <input id={`${id}-to`} type="datetime-local" className="input" value={v.to} onChange={set('to')} {...err('to')} />
        <FieldMsg id={`${id}-to-e`} msg={errors.to} />
      </div>
      <div className="flex flex-wrap items-end gap-2">
        <button type="submit" className="btn-primary">Apply filters</button>
        <button type="button" className="btn-secondary" onClick={() => { setErrors({}); onApply({}); }}>Clear</button>
      </div>
    </form>
  );
}
