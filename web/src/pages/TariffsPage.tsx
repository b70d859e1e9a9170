/**
 * Tariffs (/tariffs/): every tariff sbems knows, in words; managers create,
 * replace (JSON editor) and delete them.  A tariff still assigned to a
 * building cannot be deleted: the server answers 409 and names the building.
 * Requests on load: one (GET /tariffs).
 */
import { useEffect, useRef, useState } from 'react';
import { hasRole } from '../api/client';
import { deleteTariff, serverWords, tariffs } from '../api/analytics';
import type { Tariff } from '../api/analytics';
import { useAuth, useClient } from '../auth/AuthContext';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { TariffEditor } from '../components/TariffEditor';
import { TariffSummary } from '../components/TariffSummary';
import { TARIFF_TEMPLATE } from '../components/TariffWords';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useAsync } from '../lib/useAsync';

type Editing = { text: string } | null;

export default function TariffsPage() {
  const client = useClient();
  const { user } = useAuth();
  const canEdit = hasRole(user?.roles, 'manager');
  const data = useAsync((signal) => tariffs(client, signal), []);
  const [list, setList] = useState<Tariff[] | null>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Tariff | null>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ text: string; bad: boolean } | null>(null);
  const top = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (editing) top.current?.scrollIntoView?.({ block: 'start' });
  }, [editing]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the tariffs…" />;
  const items = list ?? data.data;

  async function remove(t: Tariff) {
    setBusy(true);
    try {
      await deleteTariff(client, t.id);
      setList(items.filter((x) => x.id !== t.id));
      setStatus({ text: `Tariff ${t.id} deleted.`, bad: false });
    } catch (e) {
      setStatus({ text: `Tariff ${t.id} not deleted: ${serverWords(e)}.`, bad: true });
    } finally {
      setBusy(false);
      setDeleting(null);
    }
  }

  return (
    <>
      <PageTitle sub="Utility rates that price the buildings' bills and cost savings">Tariffs</PageTitle>
      <div ref={top}>
        {canEdit && !editing && (
          <button type="button" className="btn-primary mb-4" onClick={() => { setStatus(null); setEditing({ text: TARIFF_TEMPLATE }); }}>
            New tariff
          </button>
        )}
        {editing && (
          <div className="mb-4">
            <TariffEditor initial={editing.text} existing={items.map((t) => t.id)} onCancel={() => setEditing(null)}
                          onSaved={(t, created) => {
                            setList([...items.filter((x) => x.id !== t.id), t].sort((a, b) => a.id.localeCompare(b.id)));
                            setEditing(null);
                            setStatus({ text: `Tariff ${t.id} ${created ? 'created' : 'replaced'}.`, bad: false });
                          }} />
          </div>
        )}
        <p role="status" className={`mb-2 text-sm ${status?.bad ? 'text-red-700 dark:text-red-300' : ''}`}>{status?.text}</p>
      </div>
      {items.length === 0 ? (
        <p className="muted">No tariff yet{canEdit ? ': "New tariff" starts from a documented example.' : '.'}</p>
      ) : (
        <ul className="space-y-4">
          {items.map((t) => (
            <li key={t.id}>
              <section aria-labelledby={`tariff-${t.id}`} className="card space-y-2">
                <div className="flex flex-wrap items-baseline justify-between gap-2">
                  <h2 id={`tariff-${t.id}`} className="text-lg font-semibold">{t.name}</h2>
                  <span className="muted text-sm">{t.id} · {t.currency}</span>
                </div>
                <TariffSummary t={t} />
                {canEdit && (
                  <div className="flex flex-wrap gap-2">
                    <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-label={`Edit tariff ${t.name}`}
                            onClick={() => { setStatus(null); setEditing({ text: JSON.stringify(t, null, 2) }); }}>
                      Edit
                    </button>
                    <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-label={`Delete tariff ${t.name}`}
                            onClick={() => { setStatus(null); setDeleting(t); }}>
                      Delete
                    </button>
                  </div>
                )}
              </section>
            </li>
          ))}
        </ul>
      )}
      {deleting && (
        <ConfirmDialog title={`Delete tariff ${deleting.id}?`} confirmLabel={busy ? 'Deleting…' : 'Delete'} danger busy={busy}
                       onConfirm={() => void remove(deleting)} onCancel={() => setDeleting(null)}>
          <p>{deleting.name} will be gone. sbems refuses while a building uses it.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
