/**
 * Energy per period stacked by end use (Recharts), in the user's energy
 * unit, with the same data offered as an export.  Charts are pictures to a
 * screen reader: the figure carries each period's total in words, and the
 * table beside it carries the split.  The building dashboard (per day) and
 * the analytics page (per day, week or month) draw with it.
 */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EndUseRow } from '../lib/enduse';
import { usePrefs } from '../lib/prefs';
import { displayUnit, energyDigits, formatMeasure, formatNumber, toDisplay } from '../lib/units';
import { ExportMenu } from './ExportMenu';
import type { ExportSpec } from './ExportMenu';

// Distinguishable on white and on slate-900, and named in the legend too.
const COLOURS = ['#0d9488', '#d97706', '#2563eb', '#c026d3', '#65a30d', '#dc2626', '#7c3aed', '#0891b2'];
const OTHER_COLOUR = '#64748b';

export interface EnergyStackChartProps {
  title: string;
  /** one label per period, in order (row i of each end use's byDay) */
  labels: readonly string[];
  stacked: readonly EndUseRow[];
  /** kWh per period, for the words a screen reader gets */
  totals: readonly (number | null)[];
  /** "Daily totals", "Totals" */
  summaryLabel: string;
  exportSpec: ExportSpec;
  from: number;
  to: number;
  height: number;
  yWidth: number;
}

export function EnergyStackChart({ title, labels, stacked, totals, summaryLabel, exportSpec, from, to, height, yWidth }: EnergyStackChartProps) {
  const { units, dark } = usePrefs();
  const unit = displayUnit('kWh', units);
  const digits = energyDigits(units);
  const conv = (v: number | null | undefined) => (v === null || v === undefined ? null : toDisplay(v, 'kWh', units).value);
  const data = labels.map((label, i) => {
    const row: Record<string, string | number | null> = { label };
    stacked.forEach((r, j) => {
      row[`s${j}`] = conv(r.byDay[i]);
    });
    return row;
  });
  const grid = dark ? '#334155' : '#cbd5e1';
  const text = dark ? '#cbd5e1' : '#334155';
  const summary = labels.map((l, i) => `${l}: ${formatMeasure(totals[i] ?? null, 'kWh', units, undefined, digits)}`).join('; ');
  const anyData = stacked.some((r) => r.knownDays > 0);
  let colour = 0;
  return (
    <figure className="card min-w-0" aria-label={title}>
      <figcaption className="mb-2 flex flex-wrap items-center justify-between gap-2 text-sm font-semibold">
        <span>
          {title} <span className="muted font-normal">({unit})</span>
        </span>
        <ExportMenu spec={exportSpec} from={from} to={to} title={title} />
      </figcaption>
      <p className="sr-only">{summaryLabel}: {summary}.</p>
      <div style={{ height }} className="overflow-hidden" aria-hidden="true">
        {!anyData ? (
          <p className="muted flex h-full items-center justify-center text-sm">No energy data in this period.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={grid} strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="label" stroke={text} fontSize={12} />
              <YAxis stroke={text} fontSize={12} width={yWidth} tickFormatter={(v: number) => formatNumber(v, digits)} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? `${formatNumber(v, digits)} ${unit}` : String(v))}
                       contentStyle={{ background: dark ? '#0f172a' : '#ffffff', borderColor: grid, color: text }} />
              <Legend formatter={(v) => <span style={{ color: text }}>{String(v)}</span>} />
              {stacked.map((r, j) => (
                <Bar key={r.key} dataKey={`s${j}`} name={r.name} stackId="e" isAnimationActive={false}
                     fill={r.kind === 'other' ? OTHER_COLOUR : (COLOURS[colour++ % COLOURS.length] as string)} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}
