/**
 * Times on the administration pages: devices, accounts and the audit log
 * belong to no single building, so they are shown in the browser's own
 * zone, with the zone's name beside each time and the zone in the page's
 * subtitle.
 */
import { safeZone } from '../lib/time';

/** The browser's IANA zone (UTC when the runtime does not say). */
export function browserZone(): string {
  return safeZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
}

const cache = new Map<string, Intl.DateTimeFormat>();

/** "Nov 27, 2026, 14:05:09 CET": with the year, as audit records may be old. */
export function formatFull(ms: number, tz: string): string {
  let f = cache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
      timeZone: safeZone(tz), timeZoneName: 'short',
    });
    cache.set(tz, f);
  }
  return f.format(ms);
}

/** An RFC 3339 time from sbems in tz, or a word when there is none. */
export function LocalTime({ iso, tz, none = 'never' }: { iso: string | null | undefined; tz: string; none?: string }) {
  const ms = iso ? Date.parse(iso) : NaN;
  if (!iso || Number.isNaN(ms)) return <span className="muted">{none}</span>;
  return <time dateTime={iso}>{formatFull(ms, tz)}</time>;
}
