/** The accounts, with their role, access, state and last sign-in, and the actions on each. */
import { topRole } from '../api/admin';
import type { User } from '../api/admin';
import { LocalTime } from './AdminTime';
import { ROLE_TEXT, grantsText } from './AdminUserFields';
import { Badge, ScrollRegion } from './ui';

export type UserAction = 'edit' | 'reset' | 'disable' | 'enable';

function Status({ u }: { u: User }) {
  if (u.disabled) return <Badge tone="bad">Disabled</Badge>;
  if (u.must_change_password) return <Badge tone="warn">Must change password</Badge>;
  return <Badge tone="good">Active</Badge>;
}

export function AdminUsersTable({ users, selfId, tz, onAction }: {
  users: readonly User[];
  selfId: number | undefined;
  tz: string;
  onAction: (a: UserAction, u: User) => void;
}) {
  const small = 'btn-secondary min-h-[36px] px-3 py-1';
  return (
    <ScrollRegion label="Users table" className="card p-0 sm:p-4 overflow-x-auto">
      <table className="min-w-full text-left text-sm">
        <caption className="sr-only">User accounts</caption>
        <thead className="muted text-xs uppercase">
          <tr>
            <th scope="col" className="py-2 pl-3 pr-3 sm:pl-0">User</th>
            <th scope="col" className="py-2 pr-3">Role</th>
            <th scope="col" className="py-2 pr-3">May see</th>
            <th scope="col" className="py-2 pr-3">State</th>
            <th scope="col" className="py-2 pr-3">Last sign-in</th>
            <th scope="col" className="py-2 pr-3">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => {
            const self = u.id === selfId;
            return (
              <tr key={u.id} className="border-t border-slate-200 align-top dark:border-slate-700">
                <th scope="row" className="min-w-[8rem] py-2 pl-3 pr-3 text-left font-medium sm:pl-0">
                  <span className="break-all">{u.username}</span>{self && <span className="muted font-normal"> (you)</span>}
                  {(u.display_name || u.email) && (
                    <span className="muted block text-xs font-normal break-all">{[u.display_name, u.email].filter(Boolean).join(' · ')}</span>
                  )}
                </th>
                <td className="py-2 pr-3">{ROLE_TEXT[topRole(u.roles)].name}</td>
                <td className="min-w-[9rem] py-2 pr-3">{grantsText(u.roles, u.grants)}</td>
                <td className="py-2 pr-3"><Status u={u} /></td>
                <td className="min-w-[8rem] py-2 pr-3"><LocalTime iso={u.last_login} tz={tz} /></td>
                <td className="min-w-[11rem] py-2 pr-3">
                  <div className="flex flex-wrap gap-1">
                    <button type="button" className={small} onClick={() => onAction('edit', u)} aria-label={`Change ${u.username}`}>Change</button>
                    {/* one's own password is changed with the current one, not reset (a reset ends one's own sessions) */}
                    {!self && <button type="button" className={small} onClick={() => onAction('reset', u)} aria-label={`Reset password of ${u.username}`}>Reset password</button>}
                    {!self && (u.disabled
                      ? <button type="button" className={small} onClick={() => onAction('enable', u)} aria-label={`Enable ${u.username}`}>Enable</button>
                      : <button type="button" className={small} onClick={() => onAction('disable', u)} aria-label={`Disable ${u.username}`}>Disable</button>)}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
