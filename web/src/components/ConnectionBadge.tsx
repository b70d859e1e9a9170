/**
 * The WebSocket's state, always visible in the header.  Only the state word
 * is a live region; the retry countdown is not, so a screen reader hears
 * "Offline" once rather than every second.
 */
import { useConnection, useLive, useNow } from '../live/LiveContext';

const WORDS = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' } as const;
const DOTS = {
  live: 'bg-emerald-500',
  connecting: 'bg-amber-400 motion-safe:animate-pulse',
  offline: 'bg-red-500',
} as const;

export function ConnectionBadge() {
  const info = useConnection();
  const { conn } = useLive();
  const now = useNow(1000);
  const wait = info.state === 'offline' && info.retryAt ? Math.max(0, Math.ceil((info.retryAt - now) / 1000)) : null;

  return (
    <div className="flex items-center gap-2 text-sm" title={info.lastError ? `last problem: ${info.lastError}` : undefined}>
      <span aria-hidden="true" className={`inline-block h-2.5 w-2.5 rounded-full ${DOTS[info.state]}`} />
      <span role="status" aria-live="polite" data-state={info.state}>
        <span className="sr-only">Live updates: </span>
        {WORDS[info.state]}
      </span>
      {wait !== null && !info.ended && <span className="muted">retry in {wait} s</span>}
      {info.state === 'offline' && !info.ended && (
        <button type="button" className="link text-sm" onClick={() => conn.reconnectNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
