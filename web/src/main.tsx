import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { ApiClient } from './api/client';
import { App } from './App';
import { ROUTER_FUTURE } from './routerFuture';
import { ClientProvider } from './auth/AuthContext';
import { PrefsProvider } from './lib/prefs';
import { LiveProvider } from './live/LiveContext';
import { LiveConnection, defaultWsUrl } from './live/socket';
import { LiveStore } from './live/store';
import './index.css';

const client = new ApiClient();
const store = new LiveStore();
const conn = new LiveConnection({ url: defaultWsUrl(), getToken: (force) => client.accessToken(force), store });
void client.restore();

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <ClientProvider client={client}>
      <PrefsProvider>
        <LiveProvider live={{ store, conn }}>
          <BrowserRouter future={ROUTER_FUTURE}>
            <App />
          </BrowserRouter>
        </LiveProvider>
      </PrefsProvider>
    </ClientProvider>
  </StrictMode>,
);
