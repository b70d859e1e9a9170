/**
 * The building's holidays (GET/PUT /buildings/{b}/holidays): forecasts and
 * tariffs treat them as holidays.  Everyone in scope reads them; managers
 * edit the list (date and name rows), sent whole after a confirmation; the
 * server's refusal is shown as it says it.
 */
import { useId, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { putHolidays, serverWords } from '../api/analytics';
import type { Holiday } from '../api/analytics';
import { dayLabel } from '../lib/enduse';
import { ConfirmDialog } from './ConfirmDialog';
import { ScrollRegion } from './ui';

/** Why a holiday list cannot be saved, or null; the list is sent sorted by date. */
export function checkHolidays(list: readonly Holiday[]): string | null {
  const seen = new Set<string>();
  for (const [i, d] of list.entries()) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d.date)) return `Holiday ${i + 1}: give its day.`;
    if (!d.name.trim()) return `Holiday ${i + 1}: give it a name.`;
    if (seen.has(d.date)) return `Holiday ${i + 1}: ${d.date} is listed twice.`;
    seen.add(d.date);
  }
  return null;
}

function Row({ d, n, onChange, onRemove }: { d: Holiday; n: number; onChange: (d: Holiday) => void; onRemove: () => void }) {
  const id = useId();
  return (
    <fieldset className="flex flex-wrap items-end gap-2">
      <legend className="sr-only">Holiday {n}</legend>
      <div>
        <label htmlFor={`${id}-d`} className="label">Day</label>
        <input id={`${id}-d`} type="date" className="input" value={d.date} onChange={(e) => onChange({ ...d, date: e.target.value })} />
      </div>
      <div>
        <label htmlFor={`${id}-n`} className="label">Name</label>
        <input id={`${id}-n`} className="input w-56" value={d.name} onChange={(e) => onChange({ ...d, name: e.target.value })} />
      </div>
      <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={onRemove} aria-label={`Remove holiday ${n}`}>Remove</button>
    </fieldset>
  );
}

function Editor({ building, initial, onSaved, onCancel }: { building: string; initial: Holiday[]; onSaved: (d: Holiday[]) => void; onCancel: () => void }) {
  const client = useClient();
  const [list, setList] = useState<Holiday[]>(initial);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const clean = list.map((d) => ({ date: d.date, name: d.name.trim() })).sort((a, b) => a.date.localeCompare(b.date));

  async function save() {
    setBusy(true);
    try {
      onSaved(await putHolidays(client, building, clean));
    } catch (e) {
      setError(`Not saved: ${serverWords(e)}`);
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  }

  return (
    <form className="space-y-2" aria-label="Edit holidays" noValidate onSubmit={(e) => {
      e.preventDefault();
      const why = checkHolidays(clean);
      setError(why);
      if (!why) setConfirm(true);
    }}>
      {list.map((d, i) => (
        // index keys: a new row has no date until typed
        <Row key={i} d={d} n={i + 1} onChange={(x) => setList(list.map((y, j) => (j === i ? x : y)))} onRemove={() => setList(list.filter((_, j) => j !== i))} />
      ))}
      <div className="flex flex-wrap gap-2 pt-2">
        <button type="button" className="btn-secondary" onClick={() => setList([...list, { date: '', name: '' }])}>Add a holiday</button>
        <button type="submit" className="btn-primary" disabled={busy}>Save holidays</button>
        <button type="button" className="btn-secondary" onClick={onCancel} disabled={busy}>Cancel</button>
      </div>
      {error && <p role="alert" className="text-sm text-red-700 dark:text-red-300">{error}</p>}
      {confirm && (
        <ConfirmDialog title="Save the holidays?" confirmLabel={busy ? 'Saving…' : 'Save'} busy={busy}
                       onConfirm={() => void save()} onCancel={() => setConfirm(false)}>
          <p>The building&rsquo;s holidays become these {clean.length} days; its forecasts and bills treat them as holidays.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}

export function TariffHolidays({ building, list, canEdit, onSaved }: { building: string; list: Holiday[]; canEdit: boolean; onSaved: (d: Holiday[]) => void }) {
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  return (
    <div className="card space-y-2">
      {editing ? (
        <Editor building={building} initial={list} onCancel={() => setEditing(false)}
                onSaved={(d) => { setEditing(false); setDone(`Holidays saved (${d.length}).`); onSaved(d); }} />
      ) : list.length === 0 ? (
        <p className="muted text-sm">No holiday recorded for this building.</p>
      ) : (
        <ScrollRegion label="Holidays" className="overflow-x-auto">
          <table className="w-full text-sm">
            <caption className="sr-only">Holidays of the building</caption>
            <thead>
              <tr className="text-left">
                <th scope="col" className="py-1 pr-3">Day</th>
                <th scope="col" className="py-1">Name</th>
              </tr>
            </thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.date} className="border-t border-slate-200 dark:border-slate-700">
                  <th scope="row" className="py-1 pr-3 text-left font-normal">{dayLabel(d.date)}, {d.date.slice(0, 4)}</th>
                  <td className="py-1">{d.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {!editing && canEdit && (
        <button type="button" className="btn-secondary" onClick={() => { setDone(null); setEditing(true); }}>Edit holidays</button>
      )}
      <p role="status" className="text-sm">{done}</p>
    </div>
  );
}
