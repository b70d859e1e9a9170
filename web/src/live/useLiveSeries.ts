/**
 * A point's history over the last `rangeMs` (GET .../history), continued by
 * its live readings from the store, as chart rows {t, [key]: value}.
 */
import { useEffect, useState } from 'react';
import type { Resolution } from '../api/types';
import { useClient } from '../auth/AuthContext';
import type { ChartRow } from '../components/TimeSeriesChart';
import { appendLive, historyPairs } from '../lib/series';
import { useAsync } from '../lib/useAsync';
import { useLive } from './LiveContext';

export function resolutionFor(rangeMs: number): Resolution {
  if (rangeMs <= 24 * 3_600_000) return '1m';
  if (rangeMs <= 7 * 86_400_000) return '15m';
  return '1h';
}

export function useLiveSeries(point: { slug: string; id: number | null | undefined } | undefined, key: string, rangeMs: number) {
  const client = useClient();
  const { store } = useLive();
  const slug = point?.slug;
  const id = point?.id;
  const hist = useAsync(async (signal) => {
    if (!slug) return [] as ChartRow[];
    const to = Date.now();
    const h = await client.history(slug, { from: to - rangeMs, to, resolution: resolutionFor(rangeMs) }, signal);
    return historyPairs(h).map(([t, v]) => ({ t, [key]: v }) as ChartRow);
  }, [slug, rangeMs, key]);
  const [rows, setRows] = useState<ChartRow[]>([]);
  useEffect(() => setRows(hist.data ?? []), [hist.data]);
  useEffect(() => {
    if (typeof id !== 'number') return undefined;
    return store.subscribePoint(id, () => {
      const r = store.get(id);
      if (r) setRows((rs) => appendLive(rs, { t: r.t, [key]: r.v } as ChartRow, Date.now() - rangeMs));
    });
  }, [store, id, key, rangeMs]);
  return { rows, loading: hist.loading, error: hist.error, reload: hist.reload };
}
