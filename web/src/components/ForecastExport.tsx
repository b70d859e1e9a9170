/**
 * "Export" for a chart of computed values (forecasts, predictions, savings):
 * sbems's export endpoint serves stored points only, so the rows the chart
 * shows are written as CSV here (RFC 4180, times in UTC ISO 8601, values in
 * the units of the header) and saved the way ExportMenu saves its files.
 */
import { useState } from 'react';
import { saveBlob } from './ExportMenu';

export type CsvCell = string | number | null | undefined;

/** RFC 4180: quote fields holding a comma, quote or line break; CRLF between records. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const cell = (v: CsvCell) => {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function ChartCsv({ title, filename, header, rows }: { title: string; filename: string; header: readonly string[]; rows: readonly (readonly CsvCell[])[] }) {
  const [done, setDone] = useState<string | null>(null);
  if (rows.length === 0) return null;
  return (
    <div className="flex flex-wrap items-center gap-1 text-xs" role="group" aria-label={`Export ${title}`}>
      <span className="muted">Export</span>
      <button type="button" className="btn-secondary min-h-[32px] px-2 py-0.5" aria-label={`Export ${title} as CSV`}
              onClick={() => {
                saveBlob(new Blob([toCsv(header, rows)], { type: 'text/csv' }), filename);
                setDone(`Saved ${filename}`);
              }}>
        CSV
      </button>
      <span role="status" aria-live="polite" className="muted">{done}</span>
    </div>
  );
}
