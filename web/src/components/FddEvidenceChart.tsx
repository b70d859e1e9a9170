/**
 * The points behind a finding over the finding's own window (chart.from ..
 * chart.to): one history request per point, mounted only when the finding's
 * details are open.  One chart per display unit, so a valve command in %
 * never shares an axis with a temperature.
 *
 * A point's unit comes from the finding's evidence when the evidence names
 * the point; otherwise from the equipment's point list, read only when some
 * point needs it.
 */
import { useMemo } from 'react';
import type { Finding } from '../api/fdd';
import { uiUnit } from '../api/fdd';
import type { History, Resolution } from '../api/types';
import { useClient } from '../auth/AuthContext';
import { resolutionFor } from '../live/useLiveSeries';
import { canonicalUnit } from '../lib/model';
import { usePrefs } from '../lib/prefs';
import { historyPairs } from '../lib/series';
import { digitsFor, displayUnit, toDisplay } from '../lib/units';
import type { UnitPrefs } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { mergeFilled } from './EquipTrend';
import { TimeSeriesChart } from './TimeSeriesChart';
import { ErrorBox, Loading } from './ui';

const COLORS = ['#dc2626', '#2563eb', '#0d9488', '#7c3aed', '#b45309', '#475569'];
const RES_MS: Partial<Record<Resolution, number>> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000 };

interface ChartPoint {
  slug: string;
  name: string;
  /** the unit its readings are stored in ('' unknown or unitless) */
  unit: string;
  history: History;
}

/** The unit a reading is shown in; K (a difference) and unknown units are left alone. */
function shownUnit(unit: string, units: UnitPrefs): string {
  return unit === 'K' ? 'K' : displayUnit(unit, units);
}

function shownValue(v: number | null, unit: string, units: UnitPrefs): number | null {
  if (typeof v !== 'number' || !unit || unit === 'K') return v;
  try {
    return toDisplay(v, unit, units).value;
  } catch {
    return v;
  }
}

function useEvidenceHistory(f: Finding) {
  const client = useClient();
  const from = Date.parse(f.chart.from);
  const to = Date.parse(f.chart.to);
  const res = resolutionFor(to - from);
  const key = f.chart.points.join('\n');
  const data = useAsync(async (signal): Promise<ChartPoint[]> => {
    if (!Number.isFinite(from) || !Number.isFinite(to)) return [];
    const known = new Map(f.evidence.filter((e) => e.point).map((e) => [e.point as string, { name: e.label, unit: uiUnit(e.unit) }]));
    const missing = f.chart.points.some((p) => !known.has(p));
    const [histories, listed] = await Promise.all([
      Promise.all(f.chart.points.map((p) => client.history(p, { from, to, resolution: res }, signal))),
      missing ? client.points({ equipment: f.equipment }, signal).catch(() => []) : Promise.resolve([]),
    ]);
    return f.chart.points.map((slug, i) => {
      const l = listed.find((p) => p.id === slug);
      const k = known.get(slug);
      return {
        slug,
        name: k?.name ?? l?.name ?? slug,
        unit: k?.unit ?? (l ? canonicalUnit(l) : ''),
        history: histories[i] as History,
      };
    });
  }, [f.id, key, from, to]);
  return { ...data, from, to, res };
}

export function FddEvidenceChart({ finding, tz }: { finding: Finding; tz: string }) {
  const { units } = usePrefs();
  const { data, error, loading, reload, from, to, res } = useEvidenceHistory(finding);
  const resMs = RES_MS[res] ?? 60_000;
  const groups = useMemo(() => {
    const g = new Map<string, { unit: string; points: (ChartPoint & { color: string })[] }>();
    (data ?? []).forEach((p, i) => {
      const unit = shownUnit(p.unit, units);
      const key = unit || `none:${p.slug}`;
      const cur = g.get(key) ?? { unit, points: [] };
      cur.points.push({ ...p, color: COLORS[i % COLORS.length] as string });
      g.set(key, cur);
    });
    return [...g.values()];
  }, [data, units]);

  if (!Number.isFinite(from) || !Number.isFinite(to) || finding.chart.points.length === 0) {
    return <p className="muted text-sm">No chart for this finding.</p>;
  }
  if (error) return <ErrorBox error={error} onRetry={reload} />;
  if (loading && !data) return <Loading label="Loading the evidence chart…" />;
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      {groups.map((g) => {
        const rows = mergeFilled(g.points.map((p, i) => ({
          key: `p${i}`,
          pairs: historyPairs(p.history).map(([t, v]): [number, number | null] => [t, shownValue(v, p.unit, units)]),
          fillMs: 3 * resMs,
        })));
        return (
          <TimeSeriesChart key={g.points.map((p) => p.slug).join(',')} title={g.points.map((p) => p.name).join(', ')}
                           data={rows} unit={g.unit || 'state'} tz={tz} from={from} to={to} height={200}
                           digits={digitsFor(g.unit)}
                           series={g.points.map((p, i) => ({ key: `p${i}`, name: p.name, color: p.color }))}
                           exportSpec={{ points: g.points.map((p) => p.slug), resolution: res }} />
        );
      })}
    </div>
  );
}
