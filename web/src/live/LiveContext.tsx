/**
 * React access to the live store and the WebSocket: one of each per signed-in
 * page, created by LiveProvider.
 */
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ReactNode } from 'react';
import type { ConnInfo, LiveConnection } from './socket';
import type { LiveStore, Reading } from './store';

export interface Live {
  store: LiveStore;
  conn: LiveConnection;
}

const LiveContext = createContext<Live | null>(null);

export function LiveProvider({ live, children }: { live: Live; children: ReactNode }) {
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  const l = useContext(LiveContext);
  if (!l) throw new Error('useLive outside LiveProvider');
  return l;
}

/** The connection's state, re-rendering on change. */
export function useConnection(): ConnInfo {
  const { conn } = useLive();
  return useSyncExternalStore(conn.subscribeState, conn.getSnapshot, conn.getSnapshot);
}

/** Keep these channels subscribed while the component is mounted. */
export function useChannels(channels: readonly string[]): void {
  const { conn } = useLive();
  const key = [...new Set(channels)].sort().join('\n');
  useEffect(() => {
    if (!key) return undefined;
    const releases = key.split('\n').map((ch) => conn.subscribe(ch));
    return () => releases.forEach((r) => r());
  }, [conn, key]);
}

/** The newest reading of a point (by point_id), re-rendering when it changes. */
export function useReading(id: number | null | undefined): Reading | undefined {
  const { store } = useLive();
  return useSyncExternalStore(
    (fn) => (typeof id === 'number' ? store.subscribePoint(id, fn) : () => undefined),
    () => (typeof id === 'number' ? store.get(id) : undefined),
    () => undefined,
  );
}

/** A clock that ticks every intervalMs, so staleness by age shows without new data. */
export function useNow(intervalMs = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(h);
  }, [intervalMs]);
  return now;
}

/** Re-render when any of these points changes (for grids and sums); returns a change counter. */
export function usePointsVersion(ids: readonly number[]): number {
  const { store } = useLive();
  const [version, setVersion] = useState(0);
  const key = ids.join(',');
  useEffect(() => {
    if (!key) return undefined;
    const watched = new Set(key.split(',').map(Number));
    return store.subscribeBatch((changed) => {
      for (const id of changed) {
        if (watched.has(id)) {
          setVersion((v) => v + 1);
          return;
        }
      }
    });
  }, [store, key]);
  return version;
}
