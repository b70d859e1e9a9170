/**
 * "Export" for a chart: the same points and period as the chart, as CSV,
 * XLSX or JSON, from GET /api/v1/export (sbems builds the file; the browser
 * only saves it).  The download goes through ApiClient.download so the
 * access token is sent as a header, never in the URL (URLs end up in logs).
 */
import { useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { describeError } from '../api/errors';

export type ExportFormat = 'csv' | 'xlsx' | 'json';

export interface ExportSpec {
  /** point slugs or ids, at most 100 (the API's limit) */
  points: readonly string[];
  /** raw | 1m | 15m | 1h | 1d | 1mo (default 1m) */
  resolution?: string;
  /** period; the chart's when not given */
  from?: number;
  to?: number;
}

const FORMATS: { f: ExportFormat; label: string }[] = [
  { f: 'csv', label: 'CSV' },
  { f: 'xlsx', label: 'Excel' },
  { f: 'json', label: 'JSON' },
];

/** Saves a Blob under a name, the way a link with `download` does. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // the click has started the download; revoke once the event loop turns
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function ExportMenu({ spec, from, to, title }: { spec: ExportSpec; from: number; to: number; title: string }) {
  const client = useClient();
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function run(f: ExportFormat) {
    setBusy(f);
    setError(null);
    setDone(null);
    try {
      const r = await client.download('/api/v1/export', {
        points: spec.points.join(','),
        from: Math.floor(spec.from ?? from),
        to: Math.ceil(spec.to ?? to),
        resolution: spec.resolution ?? '1m',
        format: f,
      });
      const name = r.filename ?? `sbems-export.${f}`;
      saveBlob(r.blob, name);
      setDone(`Saved ${name}`);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  }

  if (spec.points.length === 0) return null;
  return (
    <div className="flex flex-wrap items-center gap-1 text-xs" role="group" aria-label={`Export ${title}`}>
      <span className="muted">Export</span>
      {FORMATS.map(({ f, label }) => (
        <button key={f} type="button" className="btn-secondary min-h-[32px] px-2 py-0.5" disabled={busy !== null}
                onClick={() => void run(f)} aria-label={`Export ${title} as ${label}`}>
          {busy === f ? `${label}…` : label}
        </button>
      ))}
      <span role="status" aria-live="polite" className="muted">{done}</span>
      {error && <span role="alert" className="text-red-700 dark:text-red-300">{error}</span>}
    </div>
  );
}
