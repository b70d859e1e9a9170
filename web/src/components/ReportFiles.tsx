/**
 * A report's kept files (GET /reports/{id}/files, newest first as sbems
 * lists them): period as local days in the building's zone, format, size,
 * when made, and a download through ApiClient.download (the token goes in a
 * header, never in a URL).  Everyone who sees the report may download.
 */
import { useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { describeError } from '../api/errors';
import { FORMAT_TEXT, downloadReportFile, listReportFiles, periodWords, sizeWords } from '../api/reports';
import type { Report, ReportFile } from '../api/reports';
import { formatDateTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { saveBlob } from './ExportMenu';
import { ErrorBox, Loading, ScrollRegion } from './ui';

const th = 'px-2 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400';

/** version: bumped after a run so the new files are fetched. */
export function ReportFiles({ report, tz, version }: { report: Report; tz: string; version: number }) {
  const client = useClient();
  const files = useAsync((s) => listReportFiles(client, report.id, s), [client, report.id, version]);
  const [busy, setBusy] = useState<number | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  async function download(f: ReportFile) {
    setBusy(f.id);
    setMsg(null);
    try {
      const r = await downloadReportFile(client, f);
      saveBlob(r.blob, r.name);
      setMsg({ ok: true, text: `Saved ${r.name}.` });
    } catch (e) {
      setMsg({ ok: false, text: `${f.name} was not downloaded: ${describeError(e)}` });
    } finally {
      setBusy(null);
    }
  }

  const list = files.data;
  return (
    <div className="mt-4">
      <h4 className="text-sm font-semibold">Kept files</h4>
      {files.error !== undefined && !list && <ErrorBox error={files.error} onRetry={files.reload} />}
      {files.error === undefined && !list && <Loading label="Loading the kept files…" />}
      {list && list.length === 0 && (
        <p className="muted mt-1 text-sm">No file yet: the first is made after the first period ends (or with Run now).</p>
      )}
      {list && list.length > 0 && (
        <ScrollRegion label={`Kept files of ${report.name}, scrolls sideways`} className="mt-1 overflow-x-auto">
          <table className="w-full min-w-[36rem] text-sm">
            <caption className="sr-only">Kept files of {report.name}; periods in local days ({tz})</caption>
            <thead className="border-b border-slate-200 dark:border-slate-700">
              <tr>
                <th scope="col" className={th}>Period</th>
                <th scope="col" className={th}>Format</th>
                <th scope="col" className={th}>Size</th>
                <th scope="col" className={th}>Made</th>
                <th scope="col" className={th}><span className="sr-only">Download</span></th>
              </tr>
            </thead>
            <tbody>
              {list.map((f) => (
                <tr key={f.id} data-testid={`file-${f.id}`} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                  <th scope="row" className="px-2 py-1 text-left font-medium tabular-nums">{periodWords(f, tz)}</th>
                  <td className="px-2 py-1">{FORMAT_TEXT[f.format] ?? f.format}</td>
                  <td className="px-2 py-1 tabular-nums">{sizeWords(f.bytes)}</td>
                  <td className="px-2 py-1 tabular-nums">{formatDateTime(Date.parse(f.created), tz)}</td>
                  <td className="px-2 py-1">
                    <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" disabled={busy !== null}
                            aria-label={`${busy === f.id ? 'Downloading' : 'Download'} ${f.name}`} onClick={() => void download(f)}>
                      {busy === f.id ? 'Downloading…' : 'Download'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <p role="status" aria-live="polite" className="mt-1 text-sm">{msg?.ok ? msg.text : ''}</p>
      {msg && !msg.ok && <p role="alert" className="text-sm font-medium text-red-800 dark:text-red-300">{msg.text}</p>}
    </div>
  );
}
