/**
 * "Run now" (managers): make a report for its last complete period, or the
 * period holding a chosen local day, and deliver it at once.  It sends
 * e-mail and calls the webhook, so a dialog says to whom first; then pending
 * until sbems answers, then the files made (or why not) in words.  A run
 * works whether or not the report is switched on (svc_report.c).
 */
import { useId, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError, describeError } from '../api/errors';
import { FREQUENCY_TEXT, deliveryWords, runReport, sizeWords } from '../api/reports';
import type { Report, RunFile } from '../api/reports';
import { dayKey } from '../lib/enduse';
import { ConfirmDialog } from './ConfirmDialog';

const DAY = /^\d{4}-\d\d-\d\d$/;

function resultWords(r: Report, files: RunFile[]): string {
  const list = files.map((f) => `${f.name} (${sizeWords(f.bytes)})`).join(', ');
  const to = deliveryWords(r);
  const made = files.length === 1 ? `Made 1 file: ${list}.` : `Made ${files.length} files: ${list}.`;
  return `${made} ${to ? `Handed to delivery: ${to}.` : 'No e-mail or webhook is set, so it is only kept here.'}`;
}

/** Why a run was refused: the server's own words for a 400 ("that period has not ended yet"). */
function failWords(e: unknown): string {
  if (e instanceof ApiError && e.status === 400 && e.message) return `Not run: ${e.message}.`;
  return `Not run: ${describeError(e)}`;
}

export function ReportRun({ report, tz, onRan }: { report: Report; tz: string; onRan: () => void }) {
  const client = useClient();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [day, setDay] = useState('');
  const [busy, setBusy] = useState(false);
  const [dayErr, setDayErr] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const to = deliveryWords(report);

  async function run() {
    const d = day.trim();
    if (d && !DAY.test(d)) {
      setDayErr('A date like 2026-11-16, or empty for the last complete period.');
      return;
    }
    setDayErr(null);
    setBusy(true);
    try {
      const files = await runReport(client, report.id, d || undefined);
      setResult({ ok: true, text: resultWords(report, files) });
      onRan();
    } catch (e) {
      setResult({ ok: false, text: failWords(e) });
    } finally {
      setBusy(false);
      setOpen(false);
    }
  }

  return (
    <>
      <button type="button" className="btn-primary" aria-label={`Run now: ${report.name}`}
              onClick={() => { setResult(null); setDay(''); setDayErr(null); setOpen(true); }}>
        Run now
      </button>
      <p role="status" aria-live="polite" className="order-last basis-full text-sm">{result?.ok ? result.text : ''}</p>
      {result && !result.ok && <p role="alert" className="order-last basis-full text-sm font-medium text-red-800 dark:text-red-300">{result.text}</p>}
      {open && (
        <ConfirmDialog title={`Run “${report.name}” now?`} confirmLabel="Run and send" busy={busy}
                       onCancel={() => setOpen(false)} onConfirm={() => void run()}>
          <p className="[overflow-wrap:anywhere]">
            sbems makes the {FREQUENCY_TEXT[report.frequency]?.toLowerCase() ?? report.frequency} report for the last
            complete period, or for the period holding the day below, keeps it for download
            {to ? <> and sends it now to {to}{report.email && report.email.length > 1 ? ` (${report.email.join(', ')})` : ''}.</> : '. No e-mail or webhook is set, so nothing is sent.'}
          </p>
          <div className="mt-3">
            <label htmlFor={`${id}-day`} className="label">Period holding this day (optional)</label>
            <input id={`${id}-day`} type="date" className="input" value={day} max={dayKey(Date.now(), tz)} disabled={busy}
                   onChange={(e) => setDay(e.target.value)} aria-describedby={`${id}-day-h${dayErr ? ` ${id}-day-e` : ''}`}
                   {...(dayErr ? { 'aria-invalid': true } : {})} />
            <p id={`${id}-day-h`} className="muted mt-1 text-xs">A local day in {tz}; empty for the last complete period.</p>
            {dayErr && <p id={`${id}-day-e`} className="mt-1 text-xs font-medium text-red-800 dark:text-red-300">{dayErr}</p>}
          </div>
          {busy && <p role="status" className="mt-2 font-medium">Making the report… (this can take a few seconds)</p>}
        </ConfirmDialog>
      )}
    </>
  );
}
