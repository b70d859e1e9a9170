/**
 * The building's tariff (GET/PUT /buildings/{b}/tariff): the one that prices
 * its bills and cost savings, in words; managers choose another (or none)
 * and confirm.
 */
import { useId, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { serverWords, setBuildingTariff } from '../api/analytics';
import type { Tariff } from '../api/analytics';
import { ConfirmDialog } from './ConfirmDialog';
import { TariffSummary } from './TariffSummary';

export function TariffAssign({ building, current, tariffs, canEdit, onAssigned }: {
  building: string;
  current: string | null;
  tariffs: readonly Tariff[];
  canEdit: boolean;
  onAssigned: (id: string | null) => void;
}) {
  const client = useClient();
  const id = useId();
  const [choice, setChoice] = useState(current ?? '');
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ text: string; bad: boolean } | null>(null);
  const t = tariffs.find((x) => x.id === current);
  const next = tariffs.find((x) => x.id === choice);

  async function assign() {
    setBusy(true);
    try {
      const got = await setBuildingTariff(client, building, choice || null);
      onAssigned(got);
      setStatus({ text: got ? `Tariff ${got} assigned.` : 'The building has no tariff now.', bad: false });
    } catch (e) {
      setStatus({ text: `Not assigned: ${serverWords(e)}`, bad: true });
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  }

  return (
    <div className="card space-y-3">
      {current === null ? <p className="text-sm">No tariff is assigned: there are no bills or cost savings.</p>
        : !t ? <p className="text-sm">The assigned tariff {current} no longer exists.</p>
          : (
            <>
              <p className="text-sm"><span className="font-semibold">{t.name}</span> <span className="muted">({t.id}, {t.currency})</span></p>
              <TariffSummary t={t} />
            </>
          )}
      {canEdit && (
        <form className="flex flex-wrap items-end gap-2" aria-label="Assign a tariff" onSubmit={(e) => { e.preventDefault(); setStatus(null); setConfirm(true); }}>
          <div>
            <label htmlFor={`${id}-t`} className="label">Tariff of this building</label>
            <select id={`${id}-t`} className="input" value={choice} onChange={(e) => setChoice(e.target.value)}>
              <option value="">None</option>
              {tariffs.map((x) => <option key={x.id} value={x.id}>{x.name} ({x.id})</option>)}
            </select>
          </div>
          <button type="submit" className="btn-secondary" disabled={busy || choice === (current ?? '')}>Assign</button>
        </form>
      )}
      <p role="status" className={`text-sm ${status?.bad ? 'text-red-700 dark:text-red-300' : ''}`}>{status?.text}</p>
      {confirm && (
        <ConfirmDialog title={choice ? `Assign tariff ${choice}?` : 'Remove the tariff?'} confirmLabel={busy ? 'Saving…' : choice ? 'Assign' : 'Remove'}
                       busy={busy} onConfirm={() => void assign()} onCancel={() => setConfirm(false)}>
          <p>{next ? `${next.name} will price this building's bills and cost savings.` : 'The building will have no bills or cost savings until a tariff is assigned.'}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
