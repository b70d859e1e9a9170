/** Render a component inside the app's providers, with sbems played by a fetch handler. */
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { ApiClient } from '../api/client';
import { ROUTER_FUTURE } from '../routerFuture';
import { ClientProvider } from '../auth/AuthContext';
import { PrefsProvider } from '../lib/prefs';
import { LiveProvider } from '../live/LiveContext';
import { LiveConnection } from '../live/socket';
import { LiveStore } from '../live/store';
import { FakeWebSocket } from './FakeWebSocket';
import { mockFetch } from './fetchMock';
import type { Call } from './fetchMock';

export interface Harness {
  client: ApiClient;
  store: LiveStore;
  conn: LiveConnection;
  calls: Call[];
}

export function makeHarness(handler: (c: Call) => Response | Promise<Response>): Harness {
  const m = mockFetch(handler);
  const client = new ApiClient({ fetch: m.fetch, locks: null, channel: null });
  const store = new LiveStore();
  const conn = new LiveConnection({
    url: 'ws://sbems.test/api/v1/ws',
    getToken: (force) => client.accessToken(force),
    store,
    WebSocketImpl: FakeWebSocket,
    eventTarget: null,
  });
  return { client, store, conn, calls: m.calls };
}

export function renderWith(h: Harness, ui: ReactElement, opts: { path?: string; route?: string } = {}) {
  return render(
    <ClientProvider client={h.client}>
      <PrefsProvider>
        <LiveProvider live={{ store: h.store, conn: h.conn }}>
          <MemoryRouter initialEntries={[opts.path ?? '/']} future={ROUTER_FUTURE}>
            <Routes>
              <Route path={opts.route ?? '*'} element={ui} />
            </Routes>
          </MemoryRouter>
        </LiveProvider>
      </PrefsProvider>
    </ClientProvider>,
  );
}
