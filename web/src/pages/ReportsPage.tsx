/**
 * Scheduled reports of one building (/buildings/:building/reports/): each
 * definition in words with its kept files to download; managers also
 * create, edit, run now and delete.  A new webhook's secret (in the answer
 * to POST, or to a PUT that set a new URL) is shown once, with how a
 * receiver checks a call; it is gone when dismissed or the page is left.
 *
 * Requests on load: the building (name, time zone) and its reports
 * (GET /reports?building=), then each report's files (one request each).
 */
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import { listReports, withoutSecret } from '../api/reports';
import type { Report, SavedReport } from '../api/reports';
import { useAuth, useClient } from '../auth/AuthContext';
import { ReportCard } from '../components/ReportCard';
import { ReportForm } from '../components/ReportForm';
import { ReportSecret } from '../components/ReportSecret';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

/** What the form edits: nothing, a new report, or one of the list. */
type Editing = { kind: 'none' } | { kind: 'new' } | { kind: 'edit'; report: Report };

const byName = (a: Report, b: Report) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);

export default function ReportsPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const canManage = hasRole(user?.roles, 'manager');
  const data = useAsync(async (signal) => {
    const [building, reports] = await Promise.all([client.building(bid, signal), listReports(client, bid, signal)]);
    return { building, reports };
  }, [client, bid]);
  const [items, setItems] = useState<Report[] | null>(null);
  const [editing, setEditing] = useState<Editing>({ kind: 'none' });
  const [secret, setSecret] = useState<{ name: string; target: string; secret: string } | null>(null);
  const [done, setDone] = useState('');
  const listHead = useRef<HTMLHeadingElement>(null);
  const [focusList, setFocusList] = useState(0);
  useEffect(() => setItems(data.data ? [...data.data.reports].sort(byName) : null), [data.data]);
  // after a card is gone, the form is closed or the secret hidden: somewhere sensible to go on from
  useEffect(() => {
    if (focusList) listHead.current?.focus();
  }, [focusList]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !items) return <Loading label="Loading the building's reports…" />;
  const b = data.data.building;
  const tz = safeZone(b.timezone);

  function saved(r: SavedReport, created: boolean) {
    const plain = withoutSecret(r);
    setItems((xs) => [...(xs ?? []).filter((x) => x.id !== r.id), plain].sort(byName));
    setEditing({ kind: 'none' });
    if (r.webhook_secret && r.webhook) setSecret({ name: r.name, target: r.webhook, secret: r.webhook_secret });
    else setFocusList((n) => n + 1);
    setDone(`${created ? 'Created' : 'Saved'} the report “${r.name}”.`);
  }

  function gone(r: Report, message: string) {
    setItems((xs) => (xs ?? []).filter((x) => x.id !== r.id));
    if (editing.kind === 'edit' && editing.report.id === r.id) setEditing({ kind: 'none' });
    setDone(message);
    setFocusList((n) => n + 1);
  }

  const open = (e: Editing) => {
    setDone('');
    setSecret(null);
    setEditing(e);
  };

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(bid)}/`} className="link">{b.name}</Link> / Reports
      </nav>
      <PageTitle sub={`${b.name} · periods in local days, ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Scheduled reports</PageTitle>
      <p className="mb-4 max-w-3xl text-sm">
        After each day, week or month ends, sbems makes the building&rsquo;s report (energy per meter and day, peak demand,
        cost, savings, comfort, alerts) at 06:00 local time, keeps the newest files here for download, e-mails them and
        sends the JSON to a webhook.
      </p>

      {secret && (
        <ReportSecret name={secret.name} target={secret.target} secret={secret.secret}
                      onDone={() => { setSecret(null); setFocusList((n) => n + 1); }} />
      )}

      {canManage && editing.kind !== 'none' && (
        <ReportForm key={editing.kind === 'edit' ? `edit-${editing.report.id}` : 'new'} building={bid} tz={tz}
                    initial={editing.kind === 'edit' ? editing.report : null} onSaved={saved}
                    onCancel={() => { setEditing({ kind: 'none' }); setFocusList((n) => n + 1); }} />
      )}

      <section aria-labelledby="reports-h" className="mb-6">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h2 id="reports-h" ref={listHead} tabIndex={-1} className="text-lg font-semibold">Report definitions</h2>
          {canManage && editing.kind === 'none' && (
            <button type="button" className="btn-primary" onClick={() => open({ kind: 'new' })}>New report</button>
          )}
        </div>
        <p role="status" aria-live="polite" className="mb-2 text-sm">{done}</p>
        {items.length === 0
          ? (
            <p className="card text-sm">
              No report is scheduled for {b.name} yet.{canManage ? ' Add one with “New report”.' : ' Managers can schedule them.'}
            </p>
          )
          : (
            <div className="grid gap-4">
              {items.map((r) => (
                <ReportCard key={r.id} report={r} tz={tz} canManage={canManage} onGone={gone}
                            onEdit={(x) => open({ kind: 'edit', report: x })} />
              ))}
            </div>
          )}
      </section>
    </>
  );
}
