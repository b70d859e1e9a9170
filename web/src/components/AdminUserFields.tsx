/**
 * Fields of an account: its role and the sites and buildings it may see
 * (the server's model: roles, each with the rights of those below it, and
 * grants {kind: site|building, id}; docs/security.md "Roles and scope").
 */
import { useId } from 'react';
import { ROLES } from '../api/admin';
import type { Grant } from '../api/admin';
import { ApiError } from '../api/errors';
import type { Building, Role, Site } from '../api/types';

export const ROLE_TEXT: Record<Role, { name: string; what: string }> = {
  viewer: { name: 'Viewer', what: 'reads the data of the buildings granted' },
  operator: { name: 'Operator', what: 'also commands equipment and sends readings' },
  manager: { name: 'Manager', what: 'also changes the model of their buildings and reads the audit log' },
  admin: { name: 'Administrator', what: 'everything, in every building: accounts, devices, configuration' },
};

export function FieldMsg({ id, msg }: { id: string; msg?: string }) {
  return msg ? <p id={id} className="mt-1 text-sm font-medium text-red-800 dark:text-red-300">{msg}</p> : null;
}

/** The server's per-field messages, and whether every one names a field this form shows. */
export function fieldErrors(err: unknown, fields: readonly string[]): { byField: Record<string, string>; allShown: boolean } {
  const byField: Record<string, string> = {};
  if (!(err instanceof ApiError)) return { byField, allShown: false };
  for (const d of err.details) if (d.field && fields.includes(d.field)) byField[d.field] = d.message;
  const allShown = err.details.length > 0 && err.details.every((d) => d.field && fields.includes(d.field));
  return { byField, allShown };
}

export function RoleField({ value, onChange, lockAdmin, error }: { value: Role; onChange: (r: Role) => void; lockAdmin?: boolean; error?: string }) {
  const id = useId();
  return (
    <fieldset aria-describedby={error ? `${id}-e` : undefined}>
      <legend className="label">Role</legend>
      {[...ROLES].reverse().map((r) => {
        const locked = !!lockAdmin && r !== 'admin';
        return (
          <label key={r} className="flex min-h-[44px] items-start gap-2 py-1 text-sm">
            <input type="radio" name={`${id}-role`} className="mt-0.5 h-5 w-5" value={r} checked={value === r}
                   disabled={locked} onChange={() => onChange(r)} />
            <span>
              <span className="font-medium">{ROLE_TEXT[r].name}</span>
              <span className="muted"> — {ROLE_TEXT[r].what}</span>
            </span>
          </label>
        );
      })}
      {lockAdmin && (
        <p className="text-sm" id={`${id}-lock`}>
          This is your own account: sbems does not let you take away your own administrator role (another administrator can).
        </p>
      )}
      <FieldMsg id={`${id}-e`} msg={error} />
    </fieldset>
  );
}

const same = (a: Grant, b: Grant) => a.kind === b.kind && a.id === b.id;

export function GrantsField({ value, onChange, sites, buildings, error }: {
  value: readonly Grant[];
  onChange: (g: Grant[]) => void;
  sites: readonly Site[];
  buildings: readonly Building[];
  error?: string;
}) {
  const id = useId();
  const has = (g: Grant) => value.some((x) => same(x, g));
  const toggle = (g: Grant, on: boolean) => onChange(on ? [...value.filter((x) => !same(x, g)), g] : value.filter((x) => !same(x, g)));
  const known = (g: Grant) => (g.kind === 'site' ? sites.some((s) => s.id === g.id) : buildings.some((b) => b.id === g.id));
  const unknown = value.filter((g) => !known(g));
  const box = (g: Grant, text: string, key: string) => (
    <label key={key} className="flex min-h-[44px] items-center gap-2 text-sm">
      <input type="checkbox" className="h-5 w-5" checked={has(g)} onChange={(e) => toggle(g, e.target.checked)} />
      <span className="[overflow-wrap:anywhere]">{text}</span>
    </label>
  );
  return (
    <fieldset aria-describedby={error ? `${id}-e` : `${id}-h`}>
      <legend className="label">Buildings this user may see</legend>
      <p id={`${id}-h`} className="muted mb-1 text-xs">A site covers every building in it, including ones added later.</p>
      {sites.length > 0 && <p className="mt-1 text-xs font-semibold uppercase">Whole sites</p>}
      {sites.map((s) => box({ kind: 'site', id: s.id }, `${s.name} (site ${s.id})`, `s:${s.id}`))}
      {buildings.length > 0 && <p className="mt-2 text-xs font-semibold uppercase">Single buildings</p>}
      {buildings.map((b) => box({ kind: 'building', id: b.id }, `${b.name} (${b.id}, site ${b.site})`, `b:${b.id}`))}
      {unknown.map((g) => box(g, `${g.kind} ${g.id} (not in the model now)`, `u:${g.kind}:${g.id}`))}
      {value.length === 0 && <p className="mt-1 text-sm">With no building or site, this user sees nothing.</p>}
      <FieldMsg id={`${id}-e`} msg={error} />
    </fieldset>
  );
}

/** "site harbor-point, building hpo" for lists. */
export function grantsText(roles: readonly Role[], grants: readonly Grant[]): string {
  if (roles.includes('admin')) return 'every building (administrator)';
  if (grants.length === 0) return 'nothing';
  return grants.map((g) => `${g.kind} ${g.id}`).join(', ');
}
