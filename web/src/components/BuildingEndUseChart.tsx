/** Energy per local day, stacked by end use: EnergyStackChart with day labels. */
import { dayLabel } from '../lib/enduse';
import type { EndUseRow } from '../lib/enduse';
import { EnergyStackChart } from './EnergyStackChart';
import type { ExportSpec } from './ExportMenu';

export interface EndUseChartProps {
  title: string;
  days: readonly string[];
  stacked: readonly EndUseRow[];
  totalByDay: readonly (number | null)[];
  exportSpec: ExportSpec;
  from: number;
  to: number;
}

export function BuildingEndUseChart({ title, days, stacked, totalByDay, exportSpec, from, to }: EndUseChartProps) {
  return (
    <EnergyStackChart title={title} labels={days.map((d) => dayLabel(d))} stacked={stacked} totals={totalByDay}
                      summaryLabel="Daily totals" exportSpec={exportSpec} from={from} to={to} height={260} yWidth={56} />
  );
}
