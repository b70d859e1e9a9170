/**
 * A line chart over time (Recharts), with times in the building's zone.
 * Charts are pictures to a screen reader, so the figure carries a text
 * summary (latest, lowest, highest) of each series.
 */
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDateTime, formatTick } from '../lib/time';
import { formatNumber } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { ExportMenu } from './ExportMenu';
import type { ExportSpec } from './ExportMenu';

export interface SeriesDef {
  key: string;
  name: string;
  /** a colour readable on both themes */
  color: string;
}

export type ChartRow = { t: number } & Record<string, number | null>;

export interface TimeSeriesChartProps {
  title: string;
  data: readonly ChartRow[];
  series: readonly SeriesDef[];
  unit: string;
  tz: string;
  from: number;
  to: number;
  digits?: number;
  height?: number;
  /** the chart's data as sbems can export it (points, resolution); no menu without */
  exportSpec?: ExportSpec;
}

function summary(data: readonly ChartRow[], s: SeriesDef, unit: string, digits: number): string {
  const vals = data.map((r) => r[s.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (vals.length === 0) return `${s.name}: no data`;
  const f = (v: number) => `${formatNumber(v, digits)} ${unit}`.trim();
  return `${s.name}: latest ${f(vals[vals.length - 1] as number)}, lowest ${f(Math.min(...vals))}, highest ${f(Math.max(...vals))}`;
}

export function TimeSeriesChart({ title, data, series, unit, tz, from, to, digits = 1, height = 240, exportSpec }: TimeSeriesChartProps) {
  const { dark } = usePrefs();
  const span = to - from;
  const grid = dark ? '#334155' : '#cbd5e1';
  const text = dark ? '#cbd5e1' : '#334155';
  const text2 = series.map((s) => summary(data, s, unit, digits)).join('. ');
  return (
    <figure className="card" aria-label={title}>
      <figcaption className="mb-2 flex flex-wrap items-center justify-between gap-2 text-sm font-semibold">
        <span>
          {title} <span className="muted font-normal">({unit})</span>
        </span>
        {exportSpec && <ExportMenu spec={exportSpec} from={from} to={to} title={title} />}
      </figcaption>
      <p className="sr-only">{text2}</p>
      {/* clipped: a hidden Recharts tooltip left at its last place must not widen the page */}
      <div style={{ height }} className="overflow-hidden" aria-hidden="true">
        {data.length === 0 ? (
          <p className="muted flex h-full items-center justify-center text-sm">No data in this period.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data as ChartRow[]} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={grid} strokeDasharray="3 3" />
              <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} allowDataOverflow
                     tickFormatter={(v: number) => formatTick(v, tz, span)} stroke={text} fontSize={12} minTickGap={24} />
              <YAxis stroke={text} fontSize={12} width={48} domain={['auto', 'auto']}
                     tickFormatter={(v: number) => formatNumber(v, digits)} />
              <Tooltip
                labelFormatter={(v) => formatDateTime(Number(v), tz)}
                formatter={(v) => (typeof v === 'number' ? `${formatNumber(v, digits)} ${unit}` : String(v))}
                contentStyle={{ background: dark ? '#0f172a' : '#ffffff', borderColor: grid, color: text }}
              />
              {series.length > 1 && <Legend />}
              {series.map((s) => (
                <Line key={s.key} type="monotone" dataKey={s.key} name={s.name} stroke={s.color} dot={false}
                      strokeWidth={2} isAnimationActive={false} connectNulls={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}
