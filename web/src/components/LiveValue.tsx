/**
 * A point's newest value in the user's units, marked stale (by words, not
 * colour alone) when the source flagged it or it is older than three poll
 * intervals; the title gives its time in the building's zone.
 */
import { useLive, useNow, useReading } from '../live/LiveContext';
import { formatAge, formatDateTime } from '../lib/time';
import { formatMeasure } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { QUALITY_FAULT } from '../live/store';

export interface LiveValueProps {
  pointId: number | null | undefined;
  /** the unit readings arrive in (canonicalUnit) */
  unit: string;
  tz: string;
  className?: string;
  digits?: number;
}

export function LiveValue({ pointId, unit, tz, className = '', digits }: LiveValueProps) {
  const r = useReading(pointId);
  const { store } = useLive();
  const { units } = usePrefs();
  const now = useNow(5000);
  if (!r || typeof pointId !== 'number') {
    return <span className={`muted ${className}`} title="no reading yet">—</span>;
  }
  const stale = store.stale(pointId, now);
  const fault = (r.q & QUALITY_FAULT) !== 0;
  const when = `${formatDateTime(r.t, tz)} (${formatAge(r.t, now)})`;
  return (
    <span className={`tabular-nums ${stale ? 'italic text-slate-600 dark:text-slate-400' : ''} ${className}`}
          title={stale ? `stale: last reading ${when}` : `reading of ${when}`} data-stale={stale || undefined}>
      {formatMeasure(r.v, unit, units, undefined, digits)}
      {stale && <span className="ml-1 align-middle text-xs font-semibold not-italic">stale</span>}
      {fault && <span className="ml-1 align-middle text-xs font-semibold">fault</span>}
    </span>
  );
}
