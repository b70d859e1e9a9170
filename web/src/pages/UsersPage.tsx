/**
 * Users and roles (admin): the accounts, inviting one (the temporary
 * password is shown once), changing role, grants and details, resetting a
 * password, disabling (DELETE keeps the account for the audit trail) and
 * enabling again.  Route /users/.
 */
import { useState } from 'react';
import { disableUser, listUsers, patchUser, resetPassword } from '../api/admin';
import type { User } from '../api/admin';
import { useAuth, useClient } from '../auth/AuthContext';
import { AdminError } from '../components/AdminError';
import { AdminGate } from '../components/AdminGate';
import { AdminSecret } from '../components/AdminSecret';
import { browserZone } from '../components/AdminTime';
import { AdminUserCreate } from '../components/AdminUserCreate';
import { AdminUserEdit } from '../components/AdminUserEdit';
import { AdminUsersTable } from '../components/AdminUsersTable';
import type { UserAction } from '../components/AdminUsersTable';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useAsync } from '../lib/useAsync';
import { zoneAbbreviation } from '../lib/time';

type Pending = { action: 'reset' | 'disable' | 'enable'; user: User };

const CONFIRM: Record<Pending['action'], { title: (u: string) => string; label: string; text: (u: string) => string; danger: boolean }> = {
  disable: {
    title: (u) => `Disable ${u}?`,
    label: 'Disable',
    text: (u) => `${u} is signed out at once and cannot sign in. The account is kept, not deleted, so the audit log still shows who did what; you can enable it again.`,
    danger: true,
  },
  reset: {
    title: (u) => `Reset the password of ${u}?`,
    label: 'Reset password',
    text: (u) => `${u}'s current password stops working and every session of theirs ends. sbems makes a temporary password, shown once, which they must change at their next sign-in.`,
    danger: true,
  },
  enable: {
    title: (u) => `Enable ${u}?`,
    label: 'Enable',
    text: (u) => `${u} can sign in again with their password.`,
    danger: false,
  },
};

function Users() {
  const client = useClient();
  const { user: me } = useAuth();
  const tz = browserZone();
  const data = useAsync(async (signal) => {
    const [users, sites, buildings] = await Promise.all([listUsers(client, signal), client.sites(signal), client.buildings(signal)]);
    return { users, sites, buildings };
  }, [client]);
  const [editing, setEditing] = useState<number | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ username: string; password: string } | null>(null);

  function onAction(a: UserAction, u: User) {
    setMessage(null);
    setError(null);
    if (a === 'edit') setEditing(u.id);
    else setPending({ action: a, user: u });
  }

  async function run() {
    if (!pending) return;
    const { action, user } = pending;
    setBusy(true);
    try {
      if (action === 'disable') {
        await disableUser(client, user.id);
        setMessage(`${user.username} is disabled and signed out.`);
      } else if (action === 'enable') {
        await patchUser(client, user.id, { disabled: false });
        setMessage(`${user.username} is enabled.`);
      } else {
        setSecret({ username: user.username, password: await resetPassword(client, user.id) });
      }
      data.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setPending(null);
    }
  }

  if (!data.data) return data.error ? <ErrorBox error={data.error} onRetry={data.reload} /> : <Loading label="Loading users…" />;
  const { users, sites, buildings } = data.data;
  const edited = users.find((u) => u.id === editing);
  return (
    <>
      <PageTitle sub={`Sign-in times in your browser's zone, ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Users and roles</PageTitle>
      {secret && <AdminSecret username={secret.username} password={secret.password} onDone={() => setSecret(null)} />}
      {message && <p role="status" className="card mb-4 text-sm">{message}</p>}
      {error !== null && <div className="mb-4"><AdminError error={error} /></div>}
      <AdminUsersTable users={users} selfId={me?.id} tz={tz} onAction={onAction} />
      {edited && (
        <AdminUserEdit key={edited.id} user={edited} self={edited.id === me?.id} sites={sites} buildings={buildings}
                       onClose={() => setEditing(null)}
                       onSaved={(u) => { setEditing(null); setMessage(`Saved the changes to ${u.username}.`); data.reload(); }} />
      )}
      <div className="mt-8">
        <AdminUserCreate sites={sites} buildings={buildings} onRefused={data.reload} onCreated={(u) => {
          if (u.temporary_password) setSecret({ username: u.username, password: u.temporary_password });
          setMessage(`Created ${u.username}.`);
          data.reload();
        }} />
      </div>
      {pending && (
        <ConfirmDialog title={CONFIRM[pending.action].title(pending.user.username)} confirmLabel={busy ? 'Working…' : CONFIRM[pending.action].label}
                       danger={CONFIRM[pending.action].danger} busy={busy} onCancel={() => setPending(null)} onConfirm={() => void run()}>
          <p>{CONFIRM[pending.action].text(pending.user.username)}</p>
        </ConfirmDialog>
      )}
    </>
  );
}

export default function UsersPage() {
  return (
    <AdminGate least="admin" title="Users and roles">
      <Users />
    </AdminGate>
  );
}
