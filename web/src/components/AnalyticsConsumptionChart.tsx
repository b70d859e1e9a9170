/** Energy per day, week or month stacked by end use: EnergyStackChart with period labels. */
import { periodLabel } from '../lib/analytics';
import type { Granularity } from '../lib/analytics';
import type { EndUseRow } from '../lib/enduse';
import { EnergyStackChart } from './EnergyStackChart';
import type { ExportSpec } from './ExportMenu';

export interface ConsumptionChartProps {
  title: string;
  periods: readonly string[];
  granularity: Granularity;
  stacked: readonly EndUseRow[];
  totals: readonly (number | null)[];
  exportSpec: ExportSpec;
  from: number;
  to: number;
}

export function AnalyticsConsumptionChart({ title, periods, granularity, stacked, totals, exportSpec, from, to }: ConsumptionChartProps) {
  return (
    <EnergyStackChart title={title} labels={periods.map((p) => periodLabel(p, granularity))} stacked={stacked}
                      totals={totals} summaryLabel="Totals" exportSpec={exportSpec} from={from} to={to}
                      height={280} yWidth={64} />
  );
}
