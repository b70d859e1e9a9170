/**
 * Invite a user: POST /api/v1/users without a password, so sbems makes a
 * temporary one (returned once) that must be changed at first sign-in.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { USERNAME_RE, createUser } from '../api/admin';
import type { Grant, User, UserCreate } from '../api/admin';
import { ApiError } from '../api/errors';
import type { Building, Role, Site } from '../api/types';
import { useClient } from '../auth/AuthContext';
import { AdminError } from './AdminError';
import { FieldMsg, GrantsField, RoleField, fieldErrors } from './AdminUserFields';

const FIELDS = ['username', 'email', 'display_name', 'roles', 'grants'] as const;

/**
 * onRefused runs after a refusal too: sbems creates the account before it
 * stores the grants, so a refused grant can leave an account behind (without
 * grants, and its temporary password lost) that the list must show.
 */
export function AdminUserCreate({ sites, buildings, onCreated, onRefused }: {
  sites: readonly Site[];
  buildings: readonly Building[];
  onCreated: (u: User) => void;
  onRefused?: () => void;
}) {
  const client = useClient();
  const id = useId();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [grants, setGrants] = useState<Grant[]>([]);
  const [local, setLocal] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const server = fieldErrors(error, FIELDS);
  const taken = error instanceof ApiError && error.status === 409;
  const userMsg = local ?? server.byField.username ?? (taken ? `This username is taken (${error.message}).` : undefined);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const name = username.trim();
    if (!USERNAME_RE.test(name)) {
      setLocal('1 to 64 characters: letters, digits and . _ @ + -');
      return;
    }
    setLocal(null);
    const body: UserCreate = { username: name, roles: [role] };
    if (displayName.trim()) body.display_name = displayName.trim();
    if (email.trim()) body.email = email.trim();
    if (role !== 'admin') body.grants = grants;
    setBusy(true);
    try {
      const u = await createUser(client, body);
      setUsername('');
      setDisplayName('');
      setEmail('');
      setRole('viewer');
      setGrants([]);
      onCreated(u);
    } catch (err) {
      setError(err);
      onRefused?.();
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="card grid gap-4 sm:grid-cols-2" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className="text-lg font-semibold sm:col-span-2">Invite a user</h2>
      <div>
        <label className="label" htmlFor={`${id}-u`}>Username</label>
        <input id={`${id}-u`} className="input" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)}
               aria-invalid={userMsg ? true : undefined} aria-describedby={userMsg ? `${id}-u-e` : undefined} />
        <FieldMsg id={`${id}-u-e`} msg={userMsg} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-d`}>Display name (optional)</label>
        <input id={`${id}-d`} className="input" autoComplete="off" value={displayName} maxLength={128} onChange={(e) => setDisplayName(e.target.value)} />
        <FieldMsg id={`${id}-d-e`} msg={server.byField.display_name} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-m`}>Email (optional)</label>
        <input id={`${id}-m`} type="email" className="input" autoComplete="off" value={email} maxLength={254} onChange={(e) => setEmail(e.target.value)} />
        <FieldMsg id={`${id}-m-e`} msg={server.byField.email} />
      </div>
      <RoleField value={role} onChange={setRole} error={server.byField.roles} />
      {role !== 'admin' ? (
        <div className="sm:col-span-2">
          <GrantsField value={grants} onChange={setGrants} sites={sites} buildings={buildings} error={server.byField.grants} />
        </div>
      ) : (
        <p className="text-sm sm:col-span-2">An administrator sees every building; no grants are needed.</p>
      )}
      <div className="sm:col-span-2">
        {error !== null && !taken && !server.allShown && <div className="mb-2"><AdminError error={error} /></div>}
        {error !== null && (server.allShown || taken) && <p role="alert" className="mb-2 w-full text-sm font-medium">sbems refused this: see the marked fields.</p>}
        <button type="submit" className="btn-primary" disabled={busy}>{busy ? 'Creating…' : 'Create user'}</button>
        <p className="muted mt-2 text-xs">sbems makes a temporary password, shown once; the user chooses their own at first sign-in.</p>
      </div>
    </form>
  );
}
