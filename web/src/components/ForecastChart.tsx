/**
 * A chart of computed series over time with an optional band (Recharts Area
 * from lo to hi behind the lines): a forecast with its interval, forecast
 * against actual, a zone temperature against its comfort band, an adjusted
 * baseline against actual.  Times in the building's zone; a text summary for
 * screen readers; the shown rows exportable as CSV.
 */
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDateTime, formatTick } from '../lib/time';
import { formatNumber } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { ChartCsv } from './ForecastExport';

export interface BandRow {
  t: number;
  /** the band's ends; null: no band at this time */
  lo: number | null;
  hi: number | null;
  /** the lines' values by series key */
  v: Record<string, number | null>;
}

export interface BandSeries {
  key: string;
  name: string;
  /** a colour readable on both themes */
  color: string;
  /** dashed (a second line must differ by more than its colour) */
  dashed?: boolean;
}

export interface ForecastChartProps {
  title: string;
  rows: readonly BandRow[];
  series: readonly BandSeries[];
  /** the band's name ("90 % interval", "Comfort band"); no band without */
  band?: string;
  unit: string;
  tz: string;
  from: number;
  to: number;
  digits?: number;
  height?: number;
  /** CSV file name; no export without */
  csv?: string;
}

function finite(vals: readonly (number | null | undefined)[]): number[] {
  return vals.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** What the chart shows, in words: each line's first, lowest and highest value, and the band's span. */
export function bandSummary(rows: readonly BandRow[], series: readonly BandSeries[], band: string | undefined, unit: string, digits: number): string {
  const f = (v: number) => `${formatNumber(v, digits)} ${unit}`.trim();
  const parts = series.map((s) => {
    const vals = finite(rows.map((r) => r.v[s.key]));
    if (vals.length === 0) return `${s.name}: no data`;
    return `${s.name}: first ${f(vals[0] as number)}, lowest ${f(Math.min(...vals))}, highest ${f(Math.max(...vals))}`;
  });
  if (band) {
    const lo = finite(rows.map((r) => r.lo));
    const hi = finite(rows.map((r) => r.hi));
    if (lo.length && hi.length) parts.push(`${band}: from ${f(Math.min(...lo))} to ${f(Math.max(...hi))}`);
  }
  return parts.join('. ');
}

export function ForecastChart({ title, rows, series, band, unit, tz, from, to, digits = 1, height = 240, csv }: ForecastChartProps) {
  const { dark } = usePrefs();
  const grid = dark ? '#334155' : '#cbd5e1';
  const text = dark ? '#cbd5e1' : '#334155';
  const bandFill = dark ? '#2dd4bf' : '#0d9488';
  const data = rows.map((r) => ({ t: r.t, band: r.lo !== null && r.hi !== null ? [r.lo, r.hi] : null, ...r.v }));
  const fmt = (v: unknown) => (Array.isArray(v)
    ? `${formatNumber(Number(v[0]), digits)} – ${formatNumber(Number(v[1]), digits)} ${unit}`
    : typeof v === 'number' ? `${formatNumber(v, digits)} ${unit}` : String(v));
  const header = ['time (UTC)', ...series.map((s) => `${s.name} (${unit})`), ...(band ? [`${band} low (${unit})`, `${band} high (${unit})`] : [])];
  const csvRows = rows.map((r) => [new Date(r.t).toISOString(), ...series.map((s) => r.v[s.key]), ...(band ? [r.lo, r.hi] : [])]);
  return (
    <figure className="card" aria-label={title}>
      <figcaption className="mb-2 flex flex-wrap items-center justify-between gap-2 text-sm font-semibold">
        <span>
          {title} <span className="muted font-normal">({unit})</span>
        </span>
        {csv && <ChartCsv title={title} filename={csv} header={header} rows={csvRows} />}
      </figcaption>
      <p className="sr-only">{bandSummary(rows, series, band, unit, digits)}</p>
      {/* clipped: a hidden Recharts tooltip left at its last place must not widen the page */}
      <div style={{ height }} className="overflow-hidden" aria-hidden="true">
        {rows.length === 0 ? (
          <p className="muted flex h-full items-center justify-center text-sm">No data in this period.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={grid} strokeDasharray="3 3" />
              <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} allowDataOverflow
                     tickFormatter={(v: number) => formatTick(v, tz, to - from)} stroke={text} fontSize={12} minTickGap={24} />
              <YAxis stroke={text} fontSize={12} width={52} domain={['auto', 'auto']} tickFormatter={(v: number) => formatNumber(v, digits)} />
              <Tooltip labelFormatter={(v) => formatDateTime(Number(v), tz)} formatter={fmt}
                       contentStyle={{ background: dark ? '#0f172a' : '#ffffff', borderColor: grid, color: text }} />
              <Legend />
              {band && (
                <Area type="monotone" dataKey="band" name={band} stroke="none" fill={bandFill} fillOpacity={0.2}
                      isAnimationActive={false} connectNulls={false} />
              )}
              {series.map((s) => (
                <Line key={s.key} type="monotone" dataKey={s.key} name={s.name} stroke={s.color} dot={false} strokeWidth={2}
                      strokeDasharray={s.dashed ? '5 4' : undefined} isAnimationActive={false} connectNulls={false} />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}
