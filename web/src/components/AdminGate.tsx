/**
 * Role gate of the administration pages: someone below the least role
 * gets a sentence saying who may use the page, and none of its forms (the
 * server would refuse them with 403 anyway; docs/security.md).
 */
import type { ReactNode } from 'react';
import { hasRole } from '../api/client';
import type { Role } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { PageTitle } from './ui';

const WHO: Partial<Record<Role, string>> = {
  admin: 'an administrator',
  manager: 'a manager or an administrator',
  operator: 'an operator, manager or administrator',
};

export function AdminGate({ least, title, children }: { least: Role; title: string; children: ReactNode }) {
  const { user } = useAuth();
  if (hasRole(user?.roles, least)) return <>{children}</>;
  return (
    <>
      <PageTitle>{title}</PageTitle>
      <p role="note" className="card text-sm">
        This page needs {WHO[least] ?? `the ${least} role`}. You are signed in as {user?.username ?? 'nobody'}
        {user ? ` (${user.roles.join(', ') || 'no role'})` : ''}; ask an administrator if you need it.
      </p>
    </>
  );
}
