/**
 * Times in the building's time zone.  sbems sends instants (ms or RFC 3339
 * UTC); a building's `timezone` is an IANA name (America/New_York), and every
 * time shown for that building is its local wall-clock time, whatever the
 * viewer's own zone, with the zone's abbreviation where it could mislead.
 * Intl.DateTimeFormat does the zone arithmetic (DST included).
 */

const fmtCache = new Map<string, Intl.DateTimeFormat>();

function fmt(locale: string | undefined, tz: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${tz}|${JSON.stringify(opts)}`;
  let f = fmtCache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: tz });
    fmtCache.set(key, f);
  }
  return f;
}

/** Whether the runtime knows this IANA zone. */
export function isValidTimeZone(tz: string | null | undefined): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The zone to use: the building's, or UTC when it is missing or unknown here. */
export function safeZone(tz: string | null | undefined): string {
  return isValidTimeZone(tz) ? (tz as string) : 'UTC';
}

/** "14:05" (or "2:05 PM"), local to tz. */
export function formatTime(ms: number, tz: string, locale?: string): string {
  return fmt(locale, safeZone(tz), { hour: '2-digit', minute: '2-digit' }).format(ms);
}

/** "Nov 27, 14:05:09 EST": a reading's time, local to tz, with the zone's name. */
export function formatDateTime(ms: number, tz: string, locale?: string): string {
  return fmt(locale, safeZone(tz), {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  }).format(ms);
}

/** A chart's axis label: time of day for spans up to two days, else the date. */
export function formatTick(ms: number, tz: string, spanMs: number, locale?: string): string {
  const o: Intl.DateTimeFormatOptions =
    spanMs <= 2 * 86_400_000 ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric' };
  return fmt(locale, safeZone(tz), o).format(ms);
}

/** The zone's short name at that instant ("EST", "EDT", "GMT+1"). */
export function zoneAbbreviation(ms: number, tz: string, locale?: string): string {
  const parts = fmt(locale, safeZone(tz), { timeZoneName: 'short' }).formatToParts(ms);
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? tz;
}

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  /** 0 = Monday ... 6 = Sunday (as sbems's schedules) */
  weekday: number;
  /** minutes since local midnight */
  minute: number;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The wall-clock calendar fields of an instant in tz. */
export function zonedParts(ms: number, tz: string): ZonedParts {
  const f = fmt('en-US', safeZone(tz), {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    weekday: 'short',
    hour: 'numeric',
    minute: 'numeric',
    hourCycle: 'h23',
  });
  const parts = f.formatToParts(ms);
  const val = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const hour = Number(val('hour')) % 24;
  return {
    year: Number(val('year')),
    month: Number(val('month')),
    day: Number(val('day')),
    weekday: WEEKDAYS.indexOf(val('weekday')),
    minute: hour * 60 + Number(val('minute')),
  };
}

/** "3 min ago", "2 h ago": the age of a reading, for titles and screen readers. */
export function formatAge(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/**
 * The instant at which the wall clock in tz reads y-mo-d h:mi (month 1-12).
 * In a DST gap (a time that does not exist) it gives the instant an hour
 * later on the clock; in an overlap, the earlier of the two.
 */
export function zonedToUtc(y: number, mo: number, d: number, h: number, mi: number, tz: string): number {
  const want = Date.UTC(y, mo - 1, d, h, mi);
  let t = want;
  // two corrections settle any zone (the offset at the guess, then at the answer)
  for (let i = 0; i < 3; i++) {
    const p = zonedParts(t, tz);
    const shown = Date.UTC(p.year, p.month - 1, p.day, Math.floor(p.minute / 60), p.minute % 60);
    const next = t + (want - shown);
    if (next === t) break;
    t = next;
  }
  // overlap: prefer the earlier instant that also reads the same
  const earlier = t - 3_600_000;
  const pe = zonedParts(earlier, tz);
  if (Date.UTC(pe.year, pe.month - 1, pe.day, Math.floor(pe.minute / 60), pe.minute % 60) === want) return earlier;
  return t;
}

/** Local midnight (in tz) of the day containing ms, as an instant. */
export function startOfZonedDay(ms: number, tz: string): number {
  const p = zonedParts(ms, tz);
  return zonedToUtc(p.year, p.month, p.day, 0, 0, tz);
}
