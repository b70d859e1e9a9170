import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../api/alerts';
import { FakeWebSocket } from '../test/FakeWebSocket';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { page } from '../test/fixtures';
import { ADMIN_USER, VIEWER_USER } from '../test/fixtures-admin';
import { ALERTS, ALERT_41, ALERT_42, AL_POINTS, BUILDINGS, detail } from '../test/fixtures-alerts';
import { makeHarness, renderWith } from '../test/render';
import { formatDateTime } from '../lib/time';
import AlertsPage from './AlertsPage';

type Extra = (c: Call) => Response | undefined;

function sbems(roles: string[], extra: Extra = () => undefined) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings') return json(200, page(BUILDINGS));
    if (c.path === '/api/v1/points') return json(200, page(AL_POINTS.filter(() => c.query.get('building') === 'hpo')));
    if (c.path === '/api/v1/alerts' && c.method === 'GET') return json(200, { items: ALERTS, next_cursor: null });
    if (c.path === '/api/v1/alerts/42' && c.method === 'GET') return json(200, detail(ALERT_42));
    if (c.path === '/api/v1/alerts/41' && c.method === 'GET') return json(200, detail(ALERT_41));
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[], opts: { path?: string; extra?: Extra } = {}) {
  const h = makeHarness(sbems(roles, opts.extra));
  await h.client.login('vic', 'pw');
  renderWith(h, <AlertsPage />, { path: opts.path ?? '/alerts/', route: '/alerts/:id?' });
  await screen.findByTestId('alert-42');
  return h;
}

const gets = (h: { calls: Call[] }) => h.calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/alerts');
const posts = (h: { calls: Call[] }) => h.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/api/v1/alerts/'));
const row = (id: number) => screen.getByTestId(`alert-${id}`);

afterEach(() => FakeWebSocket.reset());

describe('AlertsPage list', () => {
  it('shows the open alerts with severity in words, time in the building zone, value in the user unit and the markers', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const h = await show(['viewer']);
    expect(Object.fromEntries(gets(h)[0]?.query ?? [])).toEqual({ state: 'open', limit: '50' });
    const r42 = row(42);
    expect(within(r42).getByText('Major')).toBeInTheDocument();
    expect(r42).toHaveTextContent(formatDateTime(ALERT_42.raised_ms, 'America/New_York'));
    expect(r42).toHaveTextContent(/EST/);
    expect(within(r42).getByRole('link', { name: 'AHU-1 discharge air too warm' })).toHaveAttribute('href', '/alerts/42/');
    expect(r42).toHaveTextContent('AHU-1 discharge air 17.2 °C above 16.0 °C for 5 min');
    await waitFor(() => expect(r42).toHaveTextContent('63.0 °F')); // 17.2 °C, once the point's unit is known
    expect(r42).toHaveTextContent('nobody');
    const r41 = row(41);
    expect(within(r41).getByText('Critical')).toBeInTheDocument();
    expect(within(r41).getByText('Acknowledged')).toBeInTheDocument();
    expect(within(r41).getByText('Condition cleared')).toBeInTheDocument();
    expect(within(r41).getByText(/^Shelved until/)).toBeInTheDocument();
    expect(r41).toHaveTextContent('512.3 kW');
    expect(r41).toHaveTextContent('ann');
    // newest first, as the server sent them
    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.getAttribute('data-testid'))).toEqual(['alert-42', 'alert-41']);
  });

  it('sends the filters as query parameters and keeps them in the address', async () => {
    const h = await show(['operator']);
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Building'), 'hpo');
    await waitFor(() => expect(gets(h)).toHaveLength(2));
    await user.selectOptions(screen.getByLabelText('State'), 'all');
    await user.selectOptions(screen.getByLabelText('Severity'), 'major');
    await user.click(screen.getByRole('checkbox', { name: 'Assigned to me' }));
    await waitFor(() => expect(gets(h)).toHaveLength(5));
    expect(Object.fromEntries(gets(h)[4]?.query ?? [])).toEqual({ building: 'hpo', state: 'all', severity: 'major', assignee: 'vic', limit: '50' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Alerts — Harbor Point Office' })).toBeInTheDocument();
    // the detail link keeps the filters
    expect(within(row(42)).getByRole('link', { name: 'AHU-1 discharge air too warm' }))
      .toHaveAttribute('href', '/alerts/42/?building=hpo&state=all&severity=major&mine=1');
  });

  it('reads the filters from the address', async () => {
    const h = await show(['viewer'], { path: '/alerts/?building=lab&severity=critical' });
    expect(Object.fromEntries(gets(h)[0]?.query ?? [])).toEqual({ building: 'lab', state: 'open', severity: 'critical', limit: '50' });
    expect(screen.getByLabelText('Severity')).toHaveValue('critical');
  });

  it('loads more with the cursor', async () => {
    const older: Alert = { ...ALERT_41, id: 7, raised_ms: ALERT_41.raised_ms - 86_400_000, rule_name: 'Old one' };
    const h = await show(['viewer'], {
      extra: (c) => (c.path === '/api/v1/alerts' && c.method === 'GET'
        ? json(200, c.query.get('cursor') === 'c2' ? { items: [older], next_cursor: null } : { items: ALERTS, next_cursor: 'c2' })
        : undefined),
    });
    expect(screen.getByText('Showing 2 alerts; more to load.')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findByTestId('alert-7')).toBeInTheDocument();
    expect(gets(h)[1]?.query.get('cursor')).toBe('c2');
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('updates the list from WebSocket events: new at the top and announced, changed in place, resolved gone', async () => {
    const h = await show(['viewer']);
    h.conn.start();
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    act(() => ws.receive({ type: 'ready', user: 'vic', expires_in: 900 }));
    expect(ws.ofType('subscribe').flatMap((m) => m.channels as string[])).toContain('alerts');

    const fresh: Alert = { ...ALERT_42, id: 43, severity: 'critical', rule_name: 'Chiller trip', message: 'Chiller 1 tripped',
      raised_ms: ALERT_42.raised_ms + 60_000, count: 1 };
    act(() => ws.receive({ type: 'event', channel: 'alerts', data: { event: 'raised', alert: fresh } }));
    expect(row(43)).toBeInTheDocument();
    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    expect(rows[0]).toHaveAttribute('data-testid', 'alert-43');
    expect(screen.getByText('New critical alert: Chiller 1 tripped')).toHaveAttribute('aria-live', 'polite');

    act(() => ws.receive({ type: 'event', channel: 'alerts', data: { event: 'acknowledged',
      alert: { ...ALERT_42, state: 'acknowledged', acknowledged_by: 'ann', count: 4 } } }));
    expect(within(row(42)).getByText('Acknowledged')).toBeInTheDocument();
    expect(within(row(42)).getByTitle('raised 4 times')).toHaveTextContent('4');

    act(() => ws.receive({ type: 'event', channel: 'alerts', data: { event: 'resolved',
      alert: { ...ALERT_41, state: 'resolved', resolved_by: 'ann' } } }));
    expect(screen.queryByTestId('alert-41')).not.toBeInTheDocument();
    expect(screen.getAllByTestId(/^alert-/)).toHaveLength(2);
  });

  it('does not add an event that does not match the filter', async () => {
    const h = await show(['viewer'], { path: '/alerts/?severity=major' });
    h.conn.start();
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    act(() => ws.receive({ type: 'ready', user: 'vic', expires_in: 900 }));
    act(() => ws.receive({ type: 'event', channel: 'alerts', data: { event: 'raised',
      alert: { ...ALERT_42, id: 44, severity: 'minor', raised_ms: ALERT_42.raised_ms + 1 } } }));
    expect(screen.queryByTestId('alert-44')).not.toBeInTheDocument();
    expect(screen.queryByText(/New minor alert/)).not.toBeInTheDocument();
  });
});

describe('AlertsPage detail and actions', () => {
  it('opens the detail from its row without reading the list again, and closes it', async () => {
    const h = await show(['viewer'], { path: '/alerts/?severity=major' });
    const user = userEvent.setup();
    await user.click(within(row(42)).getByRole('link', { name: 'AHU-1 discharge air too warm' }));
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    expect(within(row(42)).getByRole('link', { name: 'AHU-1 discharge air too warm' })).toHaveAttribute('aria-current', 'true');
    expect(gets(h)).toHaveLength(1);
    await user.click(within(panel).getByRole('link', { name: 'Close' }));
    expect(screen.queryByRole('region', { name: 'AHU-1 discharge air too warm' })).not.toBeInTheDocument();
    expect(screen.getByLabelText('Severity')).toHaveValue('major');
    expect(gets(h)).toHaveLength(1);
  });

  it('shows the history oldest first and the chart link; a viewer gets no action', async () => {
    await show(['viewer'], { path: '/alerts/42/' });
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    const items = within(within(panel).getByRole('list', { name: 'History, oldest first' })).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent(/Raised · sbems/);
    expect(items[1]).toHaveTextContent(/Raised again · sbems/);
    expect(items[1]).toHaveTextContent('value 17.2 °C');
    expect(within(panel).getByRole('link', { name: /Chart of/ })).toHaveAttribute('href', '/equipment/ahu-1/');
    expect(within(panel).getByRole('heading', { name: 'AHU-1 discharge air too warm' })).toHaveFocus();
    for (const name of ['Acknowledge', 'Assign to me', 'Resolve', 'Shelve', 'Add note']) {
      expect(within(panel).queryByRole('button', { name })).not.toBeInTheDocument();
    }
    expect(within(panel).queryByLabelText('Add a note')).not.toBeInTheDocument();
  });

  it('acknowledges after confirmation, sends the note and replaces the row with the answer', async () => {
    const h = await show(['operator'], {
      path: '/alerts/42/',
      extra: (c) => (c.method === 'POST' && c.path === '/api/v1/alerts/42/acknowledge'
        ? json(200, detail({ ...ALERT_42, state: 'acknowledged', acknowledged: '2026-11-27T20:30:00Z', acknowledged_by: 'vic' }))
        : undefined),
    });
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    await user.click(within(panel).getByRole('button', { name: 'Acknowledge' }));
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge this alert?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    expect(posts(h)).toHaveLength(0); // nothing before the confirmation
    await user.type(within(dialog).getByLabelText('Note (optional)'), 'on my way');
    await user.click(within(dialog).getByRole('button', { name: 'Acknowledge' }));

    expect(await screen.findByText('Acknowledged by vic.')).toBeInTheDocument();
    expect(posts(h)).toHaveLength(1);
    expect(posts(h)[0]?.body).toEqual({ note: 'on my way' });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(within(row(42)).getByText('Acknowledged')).toBeInTheDocument();
    expect(within(panel).queryByRole('button', { name: 'Acknowledge' })).not.toBeInTheDocument();
  });

  it('explains a 409 in words and shows the alert as it now is', async () => {
    let resolvedNow = false;
    await show(['operator'], {
      path: '/alerts/42/',
      extra: (c) => {
        if (c.method === 'POST' && c.path === '/api/v1/alerts/42/acknowledge') return apiError(409, 'conflict', 'alert is resolved');
        if (c.method === 'GET' && c.path === '/api/v1/alerts/42' && resolvedNow) {
          return json(200, detail({ ...ALERT_42, state: 'resolved', resolved: '2026-11-27T20:20:00Z', resolved_by: 'bob' }));
        }
        return undefined;
      },
    });
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    await user.click(within(panel).getByRole('button', { name: 'Acknowledge' }));
    resolvedNow = true;
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Acknowledge' }));
    expect(await screen.findByText('Someone resolved it meanwhile (bob). The alert now shows its current state.')).toBeInTheDocument();
    // the open view drops it; the panel shows it resolved, without the actions that no longer apply
    expect(screen.queryByTestId('alert-42')).not.toBeInTheDocument();
    expect(within(panel).getByText(/ by bob$/)).toBeInTheDocument();
    expect(within(panel).getAllByText('Resolved')).toHaveLength(2); // the state badge and the fact
    expect(within(panel).queryByRole('button', { name: 'Resolve' })).not.toBeInTheDocument();
  });

  it('shelves for the chosen period', async () => {
    const h = await show(['operator'], {
      path: '/alerts/42/',
      extra: (c) => (c.method === 'POST' && c.path === '/api/v1/alerts/42/shelve'
        ? json(200, detail({ ...ALERT_42, shelved_until: '2099-11-28T00:00:00Z' }))
        : undefined),
    });
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    await user.selectOptions(within(panel).getByLabelText('Shelve for'), '4 h');
    await user.click(within(panel).getByRole('button', { name: 'Shelve' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Shelve this alert for 4 h?' })).getByRole('button', { name: 'Shelve' }));
    expect(await screen.findByText(`Shelved until ${formatDateTime(Date.parse('2099-11-28T00:00:00Z'), 'America/New_York')}.`)).toBeInTheDocument();
    expect(posts(h)[0]?.body).toEqual({ duration_s: 14_400 });
    expect(within(panel).getByRole('button', { name: 'Unshelve' })).toBeInTheDocument();
  });

  it('lets a manager assign to someone, with the server refusal on the field', async () => {
    const h = await show(['manager'], {
      path: '/alerts/42/',
      extra: (c) => (c.method === 'POST' && c.path === '/api/v1/alerts/42/assign'
        ? apiError(400, 'invalid', 'invalid', [{ field: 'assignee', message: 'zed may not see building hpo' }])
        : undefined),
    });
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    await user.type(within(panel).getByLabelText('Assign to'), 'zed');
    await user.click(within(panel).getByRole('button', { name: 'Assign' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Assign this alert to zed?' })).getByRole('button', { name: 'Assign to zed' }));
    expect(await within(panel).findByText('zed may not see building hpo')).toBeInTheDocument();
    expect(within(panel).getByLabelText('Assign to')).toHaveAttribute('aria-invalid', 'true');
    expect(posts(h)[0]?.body).toEqual({ assignee: 'zed' });
  });

  it('offers an operator only "Assign to me", and adds a note without a dialog', async () => {
    const h = await show(['operator'], {
      path: '/alerts/42/',
      extra: (c) => (c.method === 'POST' && c.path === '/api/v1/alerts/42/notes'
        ? json(200, detail(ALERT_42, { events: [...detail(ALERT_42).events, { t: '', ts: ALERT_42.raised_ms + 900_000, kind: 'note', actor: 'vic', detail: 'fan belt?' }] }))
        : undefined),
    });
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    expect(within(panel).getByRole('button', { name: 'Assign to me' })).toBeInTheDocument();
    expect(within(panel).queryByLabelText('Assign to')).not.toBeInTheDocument();
    await user.type(within(panel).getByLabelText('Add a note'), 'fan belt?');
    await user.click(within(panel).getByRole('button', { name: 'Add note' }));
    expect(await within(panel).findByText('Note added.')).toBeInTheDocument();
    expect(posts(h)[0]?.body).toEqual({ text: 'fan belt?' });
    expect(within(panel).getAllByRole('listitem').at(-1)).toHaveTextContent(/Note · vic.*fan belt\?/);
  });

  it('lets an admin pick the assignee from the accounts', async () => {
    const h = await show(['admin'], {
      path: '/alerts/42/',
      extra: (c) => {
        if (c.path === '/api/v1/users') return json(200, page([ADMIN_USER, VIEWER_USER, { ...VIEWER_USER, id: 8, username: 'old', disabled: true }]));
        if (c.method === 'POST' && c.path === '/api/v1/alerts/42/assign') return json(200, detail({ ...ALERT_42, assignee: 'val' }));
        return undefined;
      },
    });
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'AHU-1 discharge air too warm' });
    const pick = await within(panel).findByRole('combobox', { name: 'Assign to' });
    expect(within(pick).getAllByRole('option').map((o) => o.textContent)).toEqual(['Choose a user', 'Ada Admin (ada)', 'val']);
    await user.selectOptions(pick, 'val');
    await user.click(within(panel).getByRole('button', { name: 'Assign' }));
    await user.type(within(screen.getByRole('dialog', { name: 'Assign this alert to val?' })).getByLabelText('Note (optional)'), 'yours');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Assign to val' }));
    expect(await within(panel).findByText('Assigned to val.')).toBeInTheDocument();
    expect(posts(h)[0]?.body).toEqual({ assignee: 'val', note: 'yours' });
    expect(row(42)).toHaveTextContent(/val$/);
  });
});
