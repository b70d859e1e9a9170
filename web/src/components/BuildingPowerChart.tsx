/**
 * The building's power over the last hours: 1-minute means of the main
 * meters (one history request per meter per period change), then their live
 * readings, in the user's power unit (kW, MW or kBtu/h).
 */
import { useEffect, useMemo, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import type { Point } from '../api/types';
import { useLive, useNow } from '../live/LiveContext';
import { sumKnown } from '../lib/model';
import { usePrefs } from '../lib/prefs';
import { appendLive, sumHistories } from '../lib/series';
import { digitsFor, displayUnit, toDisplay } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { TimeSeriesChart } from './TimeSeriesChart';
import type { ChartRow } from './TimeSeriesChart';
import { ErrorBox, Loading } from './ui';

export const RANGES = [
  { label: '1 h', ms: 3_600_000 },
  { label: '6 h', ms: 6 * 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
];

export function rangeLabel(ms: number): string {
  return RANGES.find((r) => r.ms === ms)?.label ?? '';
}

/** Period buttons (aria-pressed) shared by the power and outdoor temperature charts. */
export function RangePicker({ value, onChange, label }: { value: number; onChange: (ms: number) => void; label: string }) {
  return (
    <div role="group" aria-label={label} className="flex gap-2">
      {RANGES.map((r) => (
        <button key={r.ms} type="button" aria-pressed={value === r.ms} onClick={() => onChange(r.ms)}
                className={value === r.ms ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}>
          {r.label}
        </button>
      ))}
    </div>
  );
}

export function BuildingPowerChart({ building, meters, tz, range }: { building: string; meters: Point[]; tz: string; range: number }) {
  const client = useClient();
  const { store } = useLive();
  const { units } = usePrefs();
  const ids = meters.map((m) => m.point_id).filter((x): x is number => typeof x === 'number');
  const idKey = ids.join(',');
  const slugKey = meters.map((m) => m.id).join(',');
  const hist = useAsync(async (signal) => {
    const to = Date.now();
    const from = to - range;
    const list = await Promise.all(slugKey.split(',').filter(Boolean).map((slug) => client.history(slug, { from, to, resolution: '1m' }, signal)));
    return sumHistories(list, 'kw');
  }, [building, range, slugKey]);
  // rows stay in kW (the store's unit); the display unit is applied when drawing
  const [rows, setRows] = useState<ChartRow[]>([]);
  useEffect(() => setRows(hist.data ?? []), [hist.data]);
  useEffect(() => {
    if (!idKey) return undefined;
    const watchedIds = idKey.split(',').map(Number);
    const watched = new Set(watchedIds);
    return store.subscribeBatch((changed) => {
      if (![...changed].some((id) => watched.has(id))) return;
      const latest = watchedIds.map((id) => store.get(id));
      const kw = sumKnown(latest.map((r) => r?.v));
      const t = Math.max(...latest.map((r) => r?.t ?? 0));
      if (kw === null || !t) return;
      setRows((rs) => appendLive(rs, { t, kw } as ChartRow, Date.now() - range));
    });
  }, [store, idKey, range]);
  const now = useNow(30_000);
  const unit = displayUnit('kW', units);
  const shown = useMemo(
    () => (unit === 'kW' ? rows : rows.map((r) => ({ ...r, kw: typeof r.kw === 'number' ? toDisplay(r.kw, 'kW', units).value : null }))),
    [rows, unit, units],
  );

  if (meters.length === 0) return <p className="muted card text-sm">No main meter with a power point in this building.</p>;
  if (hist.error) return <ErrorBox error={hist.error} onRetry={hist.reload} />;
  if (hist.loading && rows.length === 0) return <Loading label="Loading power history…" />;
  return (
    <TimeSeriesChart title={`Building power, last ${rangeLabel(range)} (1-minute means, then live)`}
                     data={shown} series={[{ key: 'kw', name: 'Building power', color: '#0d9488' }]}
                     unit={unit} digits={digitsFor(unit)} tz={tz} from={now - range} to={now}
                     exportSpec={{ points: meters.map((m) => m.id) }} />
  );
}
