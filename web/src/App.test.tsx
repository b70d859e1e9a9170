import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { MemoryRouter } from 'react-router-dom';
import { App } from './App';
import { ClientProvider } from './auth/AuthContext';
import { PrefsProvider } from './lib/prefs';
import { LiveProvider } from './live/LiveContext';
import { ROUTER_FUTURE } from './routerFuture';
import { FakeWebSocket } from './test/FakeWebSocket';
import { apiError, empty, json, tokens } from './test/fetchMock';
import type { Call } from './test/fetchMock';
import { BUILDING, EQUIPMENT, OVERVIEW, POINTS, page } from './test/fixtures';
import { makeHarness } from './test/render';

function sbems() {
  let changed = false;
  return (c: Call): Response => {
    switch (c.path) {
      case '/api/v1/auth/refresh':
        return apiError(400, 'invalid', 'refresh_token is required (body or cookie)');
      case '/api/v1/auth/login':
        return (c.body as { password: string }).password === 'temporary-pw'
          ? json(200, tokens({ token: 'tmp', must_change_password: !changed }))
          : apiError(401, 'invalid_credentials', 'wrong user name or password');
      case '/api/v1/auth/password':
        changed = true;
        return json(200, tokens({ token: 'real' }));
      case '/api/v1/auth/logout':
        return empty(204);
      case '/api/v1/sites':
        return json(200, page([{ id: 'harbor-point', name: 'Harbor Point' }]));
      case '/api/v1/buildings':
        return json(200, page([BUILDING]));
      case '/api/v1/equipment':
        return json(200, page(EQUIPMENT.filter((e) => e.type === c.query.get('type'))));
      case '/api/v1/points':
        return json(200, page(POINTS.filter((p) => p.kind === c.query.get('kind'))));
      case '/api/v1/buildings/hpo/overview':
        return json(200, OVERVIEW);
      default:
        return apiError(404, 'not_found');
    }
  };
}

describe('App', () => {
  it('signs in, forces the password change, then shows the portfolio with live power', async () => {
    FakeWebSocket.reset();
    const h = makeHarness(sbems());
    const user = userEvent.setup();
    render(
      <ClientProvider client={h.client}>
        <PrefsProvider>
          <LiveProvider live={{ store: h.store, conn: h.conn }}>
            <MemoryRouter future={ROUTER_FUTURE}>
              <App />
            </MemoryRouter>
          </LiveProvider>
        </PrefsProvider>
      </ClientProvider>,
    );
    await act(() => h.client.restore()); // no cookie: the sign-in page, without a notice

    await user.type(screen.getByLabelText('User name'), 'vic');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong user name or password.');

    await user.type(screen.getByLabelText('Password'), 'temporary-pw');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Choose a new password' })).toBeInTheDocument();
    expect(FakeWebSocket.instances).toHaveLength(0); // no live data before the password is changed

    await user.type(screen.getByLabelText('Current password'), 'temporary-pw');
    await user.type(screen.getByLabelText('New password'), 'short');
    await user.type(screen.getByLabelText('New password again'), 'short');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(screen.getByRole('alert')).toHaveTextContent('at least 10 characters');
    expect(h.calls.some((c) => c.path === '/api/v1/auth/password')).toBe(false);

    await user.clear(screen.getByLabelText('New password'));
    await user.clear(screen.getByLabelText('New password again'));
    await user.type(screen.getByLabelText('New password'), 'a long passphrase of mine');
    await user.type(screen.getByLabelText('New password again'), 'a long passphrase of mine');
    await user.click(screen.getByRole('button', { name: 'Change password' }));

    expect(await screen.findByRole('heading', { name: 'Portfolio' })).toBeInTheDocument();
    expect(await screen.findByRole('link', { name: 'Harbor Point Office' })).toHaveAttribute('href', '/buildings/hpo/');
    expect(await screen.findByText('alerts: not yet available')).toBeInTheDocument();
    expect(screen.getByText('2,150 kWh')).toBeInTheDocument();
    expect(screen.getByText('86 %')).toBeInTheDocument();
    expect(screen.getByText('312.4 kW')).toBeInTheDocument(); // the overview's figure until live data

    // the socket: connecting, then live; the main meter is subscribed after ready
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    expect(screen.getByText('Connecting…')).toBeInTheDocument();
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    expect(ws.messages()[0]).toEqual({ type: 'auth', token: 'real' });
    act(() => ws.receive({ type: 'ready', user: 'vic', expires_in: 900 }));
    expect(screen.getByText('Live')).toBeInTheDocument();
    expect(ws.ofType('subscribe').flatMap((m) => m.channels as string[])).toEqual(['point:mtr-main.power']);
    act(() => ws.receive({ type: 'readings', data: [[1, Date.now(), 298.25, 0]] }));
    expect(screen.getByText('298.3 kW')).toBeInTheDocument();

    act(() => ws.serverClose(1006));
    expect(screen.getByText('Offline')).toBeInTheDocument();
    expect(screen.getByText(/retry in \d+ s/)).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByText('You are signed out.')).toBeInTheDocument();
  });
});
