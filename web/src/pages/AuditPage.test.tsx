import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { audit } from '../test/fixtures-admin';
import { makeHarness, renderWith } from '../test/render';
import AuditPage from './AuditPage';

const PAGE1 = {
  items: [
    audit(120, { time: '2026-11-27T19:00:00Z', action: 'point.write', target: 'point:vav-1.htg-sp', result: 'not_confirmed', detail: 'priority 5 holds it',
      after: { command: { value: 22, reason: 'a very long reason that must wrap on a phone instead of overflowing the page sideways' }, result: 'not_confirmed', readback: 20 } }),
    audit(119, { time: '2026-11-27T18:00:00Z', action: 'zone.update', before: { id: 'f1-south', name: 'F1 S' }, after: { id: 'f1-south', name: 'Floor 1 south' } }),
  ],
  next_cursor: '119',
};
const PAGE2 = { items: [audit(80, { action: 'point.release', actor_id: 0, actor: 'sbems', ip: null, result: 'ok' })], next_cursor: null };

const ALLOWED = ['limit', 'cursor', 'actor_id', 'action', 'target', 'from', 'to']; // sb_api__h_audit's q_ok

async function show(roles: string[]) {
  const h = makeHarness((c: Call) => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    if (c.path === '/api/v1/audit') {
      const bad = [...c.query.keys()].filter((k) => !ALLOWED.includes(k));
      if (bad.length) return apiError(400, 'invalid', `unknown query parameter ${bad[0]}`);
      return json(200, c.query.get('cursor') === '119' ? PAGE2 : PAGE1);
    }
    return apiError(404, 'not_found');
  });
  await h.client.login('mia', 'pw');
  renderWith(h, <AuditPage />);
  return { h, audits: () => h.calls.filter((c) => c.path === '/api/v1/audit') };
}

describe('AuditPage', () => {
  // A browser west of UTC: times and the entered range are in its zone, not the server's UTC.
  // (Node reads TZ again when it changes; the app's tsconfig has no Node types, hence the cast)
  const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
  const tzWas = env.TZ;
  beforeAll(() => { env.TZ = 'America/Chicago'; });
  afterAll(() => { if (tzWas === undefined) delete env.TZ; else env.TZ = tzWas; });

  it('shows the newest records with times in the browser zone, and appends the next page with the cursor', async () => {
    const { audits } = await show(['manager']);
    const list = await screen.findByRole('list', { name: 'Audit records' });
    await within(list).findByText('point.write');
    expect(screen.getByText(/Newest first\. Times in your browser's zone/)).toHaveTextContent('America/Chicago, CST');
    expect(screen.getByText(/Account and sign-in records are shown to administrators only/)).toBeInTheDocument();
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent(/point\.write.*Not confirmed.*ada \(#1\) from 10\.0\.0\.2.*point:vav-1\.htg-sp.*priority 5 holds it/);
    expect(items[0]?.querySelector('time')).toHaveAttribute('dateTime', '2026-11-27T19:00:00Z');
    expect(items[0]?.querySelector('time')).toHaveTextContent(/Nov 27, 2026, 01:00:00\s?PM CST/); // 19:00Z
    expect(audits()[0]?.query.toString()).toBe('limit=50');

    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await within(list).findByText('point.release');
    expect(audits()[1]?.query.get('cursor')).toBe('119');
    expect(within(list).getAllByRole('listitem')).toHaveLength(3); // appended, not replaced
    expect(within(list).getAllByRole('listitem')[2]).toHaveTextContent(/By\s*sbems/);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
    expect(screen.getByText('The oldest record is shown.')).toBeInTheDocument();
  });

  it('puts the filters into the query, and starts again from the newest', async () => {
    const { audits } = await show(['admin']);
    await screen.findByText('point.write');
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByText('point.release');
    await user.type(screen.getByLabelText('User id'), '3');
    await user.type(screen.getByLabelText('Action starts with'), 'zone.');
    await user.type(screen.getByLabelText('Object (exact)'), 'zone:f1-south');
    await user.type(screen.getByLabelText(/^From/), '2026-11-27T08:00');
    await user.type(screen.getByLabelText(/^Until/), '2026-11-28T08:00');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));

    await waitFor(() => expect(audits()).toHaveLength(3));
    const q = audits()[2]?.query as URLSearchParams;
    expect(Object.fromEntries(q)).toEqual({
      limit: '50', actor_id: '3', action: 'zone.', target: 'zone:f1-south',
      from: String(Date.parse('2026-11-27T14:00:00Z')), to: String(Date.parse('2026-11-28T14:00:00Z')), // 08:00 CST
    });
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(2)); // page 1 of the new filter only
  });

  it('refuses a time range that ends before it starts, without asking the server', async () => {
    const { audits } = await show(['manager']);
    await screen.findByText('point.write');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^From/), '2026-11-28T08:00');
    await user.type(screen.getByLabelText(/^Until/), '2026-11-27T08:00');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(screen.getByText('Must be after “From”.')).toBeInTheDocument();
    expect(audits()).toHaveLength(1);
  });

  it('filters by the user of an entry and shows before/after JSON readably', async () => {
    const { audits } = await show(['manager']);
    const item = (await screen.findByText('zone.update')).closest('li') as HTMLElement;
    const user = userEvent.setup();
    await user.click(within(item).getByText('Before and after'));
    const pres = item.querySelectorAll('pre');
    expect(pres).toHaveLength(2);
    expect(pres[0]?.textContent).toBe(JSON.stringify({ id: 'f1-south', name: 'F1 S' }, null, 2));
    expect(pres[1]).toHaveTextContent('"name": "Floor 1 south"');
    expect(pres[0]?.className).toMatch(/whitespace-pre-wrap/);
    expect(pres[0]?.className).toMatch(/overflow-wrap:anywhere/);

    await user.click(within(item).getByRole('button', { name: 'Only this user' }));
    await waitFor(() => expect(audits()).toHaveLength(2));
    expect(audits()[1]?.query.get('actor_id')).toBe('1');
    expect(screen.getByLabelText('User id')).toHaveValue('1');
  });

  it.each([['viewer'], ['operator']])('tells a %s the page needs a manager, and asks nothing', async (role) => {
    const { audits } = await show([role]);
    expect(screen.getByRole('note')).toHaveTextContent('This page needs a manager or an administrator');
    expect(screen.queryByRole('form')).not.toBeInTheDocument();
    expect(audits()).toHaveLength(0);
  });
});
