/**
 * The audit log (manager and up), newest first, 50 records a page with the
 * API's cursor ("Load more" appends the next page).  Managers are shown the
 * model and command records; sbems drops account and sign-in records
 * (user.*, auth.*) from their pages after the query, so a page can hold
 * fewer than 50 records, or none, and still have a next one.  Route /audit/.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { hasRole } from '../api/client';
import { listAudit } from '../api/admin';
import type { AuditFilter, AuditRecord } from '../api/admin';
import { useAuth, useClient } from '../auth/AuthContext';
import { AdminAuditEntry } from '../components/AdminAuditEntry';
import { AdminAuditFilters } from '../components/AdminAuditFilters';
import { AdminError } from '../components/AdminError';
import { AdminGate } from '../components/AdminGate';
import { browserZone } from '../components/AdminTime';
import { Loading, PageTitle } from '../components/ui';
import { zoneAbbreviation } from '../lib/time';

interface Pages {
  items: AuditRecord[];
  next: string | null;
  loading: boolean;
  error: unknown;
}

function Audit() {
  const client = useClient();
  const { user } = useAuth();
  const tz = browserZone();
  const [filter, setFilter] = useState<AuditFilter>({});
  const [p, setP] = useState<Pages>({ items: [], next: null, loading: true, error: null });
  // Answers for an older filter (or after leaving) are dropped.
  const gen = useRef(0);

  const load = useCallback(async (f: AuditFilter, cursor: string | null) => {
    const g = cursor ? gen.current : ++gen.current;
    setP((s) => ({ ...(cursor ? s : { items: [], next: null }), loading: true, error: null }));
    try {
      const page = await listAudit(client, f, cursor);
      if (g !== gen.current) return;
      setP((s) => ({ items: cursor ? [...s.items, ...page.items] : page.items, next: page.next_cursor, loading: false, error: null }));
    } catch (e) {
      if (g !== gen.current) return;
      setP((s) => ({ ...s, loading: false, error: e }));
    }
  }, [client]);

  useEffect(() => {
    void load(filter, null);
    return () => {
      gen.current++;
    };
  }, [filter, load]);

  const tzName = `${tz}, ${zoneAbbreviation(Date.now(), tz)}`;
  const admin = hasRole(user?.roles, 'admin');
  return (
    <>
      <PageTitle sub={`Newest first. Times in your browser's zone, ${tzName}.${admin ? '' : ' Account and sign-in records are shown to administrators only.'}`}>
        Audit log
      </PageTitle>
      <AdminAuditFilters value={filter} tzName={tzName} onApply={setFilter} />
      {p.error !== null && <div className="mt-4"><AdminError error={p.error} /></div>}
      {!p.loading && p.items.length === 0 && p.error === null && (
        <p className="card mt-4 text-sm">{p.next ? 'No records on this page that you may see; load more to look further back.' : 'No records match.'}</p>
      )}
      <ol className="mt-4 grid gap-3" aria-label="Audit records">
        {p.items.map((r) => (
          <AdminAuditEntry key={r.id} r={r} tz={tz}
                           onActor={(id) => setFilter((f) => ({ ...f, actor_id: id }))}
                           onTarget={(t) => setFilter((f) => ({ ...f, target: t }))} />
        ))}
      </ol>
      {p.loading && <Loading label="Loading records…" />}
      {!p.loading && p.next && (
        <button type="button" className="btn-secondary mt-4" onClick={() => void load(filter, p.next)}>Load more</button>
      )}
      {!p.loading && !p.next && p.items.length > 0 && <p className="muted mt-4 text-sm">The oldest record is shown.</p>}
    </>
  );
}

export default function AuditPage() {
  return (
    <AdminGate least="manager" title="Audit log">
      <Audit />
    </AdminGate>
  );
}
