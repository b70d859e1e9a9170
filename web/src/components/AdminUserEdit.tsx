/**
 * Change an account's details, role and grants: a JSON merge patch with
 * only what changed, after a confirmation that lists the changes.  sbems
 * refuses (409) an administrator demoting or disabling their own account,
 * so on one's own account the lesser roles are not offered at all.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { patchUser, topRole } from '../api/admin';
import type { Grant, User, UserPatch } from '../api/admin';
import type { Building, Role, Site } from '../api/types';
import { useClient } from '../auth/AuthContext';
import { AdminError } from './AdminError';
import { FieldMsg, GrantsField, ROLE_TEXT, RoleField, fieldErrors, grantsText } from './AdminUserFields';
import { ConfirmDialog } from './ConfirmDialog';

const FIELDS = ['email', 'display_name', 'roles', 'grants'] as const;
const key = (g: Grant) => `${g.kind}:${g.id}`;
const sameGrants = (a: readonly Grant[], b: readonly Grant[]) =>
  a.length === b.length && a.map(key).sort().join('|') === b.map(key).sort().join('|');

/** What changed, as a merge patch, and in words for the confirmation. */
export function userPatch(u: User, v: { displayName: string; email: string; role: Role; grants: Grant[] }): { patch: UserPatch; words: string[] } {
  const patch: UserPatch = {};
  const words: string[] = [];
  if (v.displayName.trim() !== (u.display_name ?? '')) {
    patch.display_name = v.displayName.trim();
    words.push(`Display name: “${u.display_name ?? ''}” → “${patch.display_name}”`);
  }
  if (v.email.trim() !== (u.email ?? '')) {
    patch.email = v.email.trim();
    words.push(`Email: “${u.email ?? ''}” → “${patch.email}”`);
  }
  if (v.role !== topRole(u.roles)) {
    patch.roles = [v.role];
    words.push(`Role: ${ROLE_TEXT[topRole(u.roles)].name} → ${ROLE_TEXT[v.role].name}`);
  }
  if (v.role !== 'admin' && !sameGrants(v.grants, u.grants)) {
    patch.grants = v.grants;
    words.push(`Access: ${grantsText([], u.grants)} → ${grantsText([], v.grants)}`);
  }
  return { patch, words };
}

export function AdminUserEdit({ user, self, sites, buildings, onSaved, onClose }: {
  user: User;
  self: boolean;
  sites: readonly Site[];
  buildings: readonly Building[];
  onSaved: (u: User) => void;
  onClose: () => void;
}) {
  const client = useClient();
  const id = useId();
  const [displayName, setDisplayName] = useState(user.display_name ?? '');
  const [email, setEmail] = useState(user.email ?? '');
  const [role, setRole] = useState<Role>(topRole(user.roles));
  const [grants, setGrants] = useState<Grant[]>(user.grants);
  const [confirm, setConfirm] = useState<{ patch: UserPatch; words: string[] } | null>(null);
  const [nothing, setNothing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const server = fieldErrors(error, FIELDS);

  function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const c = userPatch(user, { displayName, email, role, grants });
    setNothing(c.words.length === 0);
    if (c.words.length) setConfirm(c);
  }

  async function save() {
    if (!confirm) return;
    setBusy(true);
    try {
      onSaved(await patchUser(client, user.id, confirm.patch));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="card mt-4 grid gap-4 sm:grid-cols-2" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className="text-lg font-semibold sm:col-span-2">Change {user.username}{self ? ' (you)' : ''}</h2>
      <div>
        <label className="label" htmlFor={`${id}-d`}>Display name</label>
        <input id={`${id}-d`} className="input" value={displayName} maxLength={128} onChange={(e) => setDisplayName(e.target.value)} />
        <FieldMsg id={`${id}-d-e`} msg={server.byField.display_name} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-m`}>Email</label>
        <input id={`${id}-m`} type="email" className="input" value={email} maxLength={254} onChange={(e) => setEmail(e.target.value)} />
        <FieldMsg id={`${id}-m-e`} msg={server.byField.email} />
      </div>
      <RoleField value={role} onChange={setRole} lockAdmin={self && user.roles.includes('admin')} error={server.byField.roles} />
      {role !== 'admin' ? (
        <div className="sm:col-span-2">
          <GrantsField value={grants} onChange={setGrants} sites={sites} buildings={buildings} error={server.byField.grants} />
        </div>
      ) : (
        <p className="text-sm sm:col-span-2">An administrator sees every building; grants do not apply.</p>
      )}
      <div className="flex flex-wrap gap-2 sm:col-span-2">
        {error !== null && !server.allShown && <div className="w-full"><AdminError error={error} /></div>}
        {error !== null && server.allShown && <p role="alert" className="mb-2 w-full text-sm font-medium">sbems refused this: see the marked fields.</p>}
        {nothing && <p role="status" className="w-full text-sm">Nothing changed.</p>}
        <button type="submit" className="btn-primary" disabled={busy}>Save changes</button>
        <button type="button" className="btn-secondary" onClick={onClose}>Close</button>
      </div>
      {confirm && (
        <ConfirmDialog title={`Change ${user.username}?`} confirmLabel={busy ? 'Saving…' : 'Save'} busy={busy}
                       onCancel={() => setConfirm(null)} onConfirm={() => void save()}>
          <ul className="list-disc pl-5 [overflow-wrap:anywhere]">
            {confirm.words.map((w) => <li key={w}>{w}</li>)}
          </ul>
          <p className="mt-2">It takes effect at once, also in {user.username}'s open sessions.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}
