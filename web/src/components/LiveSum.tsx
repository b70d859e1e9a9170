/**
 * The sum of several points' newest values (main meters -> building power),
 * marked stale when any of them is; before the first live value, the
 * server's figure (fallback) is shown.
 */
import { useLive, useNow, usePointsVersion } from '../live/LiveContext';
import { sumKnown } from '../lib/model';
import { usePrefs } from '../lib/prefs';
import { formatMeasure } from '../lib/units';

export function LiveSum({ ids, unit, fallback, digits }: { ids: number[]; unit: string; fallback?: number | null; digits?: number }) {
  const { store } = useLive();
  const { units } = usePrefs();
  usePointsVersion(ids);
  const now = useNow(5000);
  const sum = sumKnown(ids.map((id) => store.get(id)?.v));
  if (sum === null) return <>{formatMeasure(fallback, unit, units, undefined, digits)}</>;
  const stale = ids.some((id) => store.stale(id, now));
  return (
    <span className={stale ? 'italic' : ''} data-stale={stale || undefined}>
      {formatMeasure(sum, unit, units, undefined, digits)}
      {stale && <span className="ml-1 text-xs font-semibold not-italic">stale</span>}
    </span>
  );
}
