/**
 * Delete a report definition (managers), behind a confirmation: pending
 * while it runs, then the result in words.  A report already gone (404)
 * leaves the list too.  The kept files are not listed any more once the
 * definition is gone (GET /reports/{id}/files answers 404).
 */
import { useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError, describeError } from '../api/errors';
import { deleteReport } from '../api/reports';
import type { Report } from '../api/reports';
import { ConfirmDialog } from './ConfirmDialog';

export function ReportDelete({ report, onGone }: { report: Report; onGone: (r: Report, message: string) => void }) {
  const client = useClient();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);

  async function remove() {
    setBusy(true);
    setErr(null);
    try {
      await deleteReport(client, report.id);
      onGone(report, `Deleted the report “${report.name}”.`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) onGone(report, `The report “${report.name}” was already gone.`);
      else setErr(`The report “${report.name}” was not deleted: ${describeError(e)}`);
    } finally {
      setBusy(false);
      setOpen(false);
    }
  }

  return (
    <>
      <button type="button" className="btn-secondary" aria-label={`Delete ${report.name}`} onClick={() => { setErr(null); setOpen(true); }}>
        Delete
      </button>
      {err && <p role="alert" className="order-last basis-full text-sm font-medium text-red-800 dark:text-red-300">{err}</p>}
      {open && (
        <ConfirmDialog title={`Delete “${report.name}”?`} confirmLabel="Delete report" danger busy={busy}
                       onCancel={() => setOpen(false)} onConfirm={() => void remove()}>
          <p className="[overflow-wrap:anywhere]">
            sbems stops making and sending this report{report.webhook ? ', its webhook secret is dropped' : ''}, and its kept
            files are no longer listed for download. This cannot be undone; schedule it again to get it back.
          </p>
          {busy && <p role="status" className="mt-2 font-medium">Deleting…</p>}
        </ConfirmDialog>
      )}
    </>
  );
}
