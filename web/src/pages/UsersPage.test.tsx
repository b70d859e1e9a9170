import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { User } from '../api/admin';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { ADMIN_USER, SITES, VIEWER_USER } from '../test/fixtures-admin';
import { makeHarness, renderWith } from '../test/render';
import UsersPage from './UsersPage';

async function show(roles: string[], extra: (c: Call) => Response | undefined = () => undefined, users: User[] = [ADMIN_USER, VIEWER_USER]) {
  const h = makeHarness((c) => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles })); // signed in as user id 1 = ADMIN_USER
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/users' && c.method === 'GET') return json(200, page(users));
    if (c.path === '/api/v1/sites') return json(200, page(SITES));
    if (c.path === '/api/v1/buildings') return json(200, page([BUILDING]));
    return apiError(404, 'not_found');
  });
  await h.client.login('ada', 'pw');
  renderWith(h, <UsersPage />);
  if (roles.includes('admin')) await screen.findByRole('table', { name: 'User accounts' });
  return h;
}

const sent = (h: { calls: Call[] }, method: string, path?: string) => h.calls.filter((c) => c.method === method && (!path || c.path === path));

describe('UsersPage', () => {
  it('lists the accounts with role, access, state and last sign-in in words', async () => {
    await show(['admin']);
    const rows = within(screen.getByRole('table', { name: 'User accounts' })).getAllByRole('row');
    expect(rows[1]).toHaveTextContent(/ada \(you\).*Administrator.*every building \(administrator\).*Active.*2026/);
    expect(rows[2]).toHaveTextContent(/val.*Viewer.*building hpo.*Must change password.*never/);
    // one's own account cannot be disabled or reset here
    expect(within(rows[1] as HTMLElement).queryByRole('button', { name: /disable/i })).not.toBeInTheDocument();
    expect(within(rows[1] as HTMLElement).queryByRole('button', { name: /reset/i })).not.toBeInTheDocument();
  });

  it('creates a user and shows the one-time password once, with a copy button', async () => {
    const created: User = { ...VIEWER_USER, id: 9, username: 'nia', roles: ['operator'], temporary_password: 'Xq3-temp-pass-42' };
    const h = await show(['admin'], (c) => (c.path === '/api/v1/users' && c.method === 'POST' ? json(201, created) : undefined));
    const user = userEvent.setup();
    const form = screen.getByRole('form', { name: 'Invite a user' });
    await user.type(within(form).getByLabelText('Username'), 'nia');
    await user.click(within(form).getByRole('radio', { name: /Operator/ }));
    await user.click(within(form).getByRole('checkbox', { name: /Harbor Point Office/ }));
    await user.click(within(form).getByRole('button', { name: 'Create user' }));

    expect(sent(h, 'POST', '/api/v1/users')[0]?.body).toEqual({ username: 'nia', roles: ['operator'], grants: [{ kind: 'building', id: 'hpo' }] });
    const pw = await screen.findByTestId('one-time-password');
    expect(pw).toHaveTextContent('Xq3-temp-pass-42');
    expect(screen.getByText(/will not be shown again/)).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Temporary password for nia' })).toHaveFocus();
    await user.click(screen.getByRole('button', { name: 'Copy password' }));
    expect(await navigator.clipboard.readText()).toBe('Xq3-temp-pass-42');
    expect(screen.getByText('Copied.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Done, hide it' }));
    expect(screen.queryByText(/Xq3-temp-pass-42/)).not.toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain('Xq3-temp-pass-42');
    expect(within(form).getByLabelText('Username')).toHaveValue(''); // the form is ready for the next
  });

  it('shows the server refusals on their fields', async () => {
    let n = 0;
    await show(['admin'], (c) => {
      if (c.path !== '/api/v1/users' || c.method !== 'POST') return undefined;
      return ++n === 1
        ? apiError(400, 'invalid', 'invalid', [{ field: 'grants', message: 'each grant is {"kind":"site"|"building","id":slug}' }])
        : apiError(409, 'conflict', 'username taken: already exists');
    });
    const user = userEvent.setup();
    const form = screen.getByRole('form', { name: 'Invite a user' });
    await user.type(within(form).getByLabelText('Username'), 'bad name!');
    await user.click(within(form).getByRole('button', { name: 'Create user' }));
    expect(within(form).getByText('1 to 64 characters: letters, digits and . _ @ + -')).toBeInTheDocument();
    expect(n).toBe(0);

    await user.clear(within(form).getByLabelText('Username'));
    await user.type(within(form).getByLabelText('Username'), 'ada');
    await user.click(within(form).getByRole('button', { name: 'Create user' }));
    expect(await within(form).findByText('each grant is {"kind":"site"|"building","id":slug}')).toBeInTheDocument();
    await user.click(within(form).getByRole('button', { name: 'Create user' }));
    expect(await within(form).findByText(/This username is taken/)).toBeInTheDocument();
    expect(within(form).getByLabelText('Username')).toHaveAttribute('aria-invalid', 'true');
  });

  it('disables a user only after a confirmation that explains the account is kept', async () => {
    const h = await show(['admin'], (c) => (c.method === 'DELETE' ? empty(204) : undefined));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Disable val' }));
    const dialog = screen.getByRole('dialog', { name: 'Disable val?' });
    expect(dialog).toHaveTextContent('The account is kept, not deleted, so the audit log still shows who did what');
    expect(sent(h, 'DELETE')).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(sent(h, 'DELETE')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Disable val' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Disable' }));
    expect(await screen.findByText('val is disabled and signed out.')).toBeInTheDocument();
    expect(sent(h, 'DELETE').map((c) => c.path)).toEqual(['/api/v1/users/7']);
  });

  it('changes a role with a merge patch of what changed only', async () => {
    const h = await show(['admin'], (c) => (c.method === 'PATCH' ? json(200, { ...VIEWER_USER, roles: ['manager'] }) : undefined));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Change val' }));
    const form = screen.getByRole('form', { name: 'Change val' });
    await user.click(within(form).getByRole('radio', { name: /Manager/ }));
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    const dialog = screen.getByRole('dialog', { name: 'Change val?' });
    expect(dialog).toHaveTextContent('Role: Viewer → Manager');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Saved the changes to val.')).toBeInTheDocument();
    expect(sent(h, 'PATCH').map((c) => [c.path, c.body])).toEqual([['/api/v1/users/7', { roles: ['manager'] }]]);
  });

  it('does not offer an administrator the lesser roles on their own account', async () => {
    await show(['admin']);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Change ada' }));
    const form = screen.getByRole('form', { name: 'Change ada (you)' });
    expect(within(form).getByRole('radio', { name: /Viewer/ })).toBeDisabled();
    expect(within(form).getByRole('radio', { name: /Administrator/ })).toBeChecked();
    expect(form).toHaveTextContent('sbems does not let you take away your own administrator role');
  });

  it('resets a password after confirmation and shows the temporary one once', async () => {
    const h = await show(['admin'], (c) => (c.path.endsWith('/reset-password') ? json(200, { temporary_password: 'Reset-9-temp' }) : undefined));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Reset password of val' }));
    expect(sent(h, 'POST', '/api/v1/users/7/reset-password')).toHaveLength(0);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Reset password' }));
    expect(await screen.findByTestId('one-time-password')).toHaveTextContent('Reset-9-temp');
    expect(sent(h, 'POST', '/api/v1/users/7/reset-password')).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Done, hide it' }));
    await waitFor(() => expect(screen.queryByTestId('one-time-password')).not.toBeInTheDocument());
  });

  it.each([['viewer'], ['operator'], ['manager']])('tells a %s the page needs an administrator, with no forms', async (role) => {
    const h = await show([role]);
    expect(screen.getByRole('note')).toHaveTextContent('This page needs an administrator');
    expect(screen.queryByRole('form')).not.toBeInTheDocument();
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
    expect(h.calls.filter((c) => c.path.startsWith('/api/v1/users'))).toHaveLength(0);
  });
});
