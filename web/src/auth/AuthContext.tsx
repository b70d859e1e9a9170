/** The API client and its session state for React. */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ReactNode } from 'react';
import type { ApiClient, AuthSnapshot } from '../api/client';

const ClientContext = createContext<ApiClient | null>(null);

export function ClientProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): ApiClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useClient outside ClientProvider');
  return c;
}

export function useAuth(): AuthSnapshot {
  const c = useClient();
  return useSyncExternalStore(c.subscribe, c.getSnapshot, c.getSnapshot);
}
