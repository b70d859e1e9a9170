/**
 * The building's energy conservation measures (GET/PUT
 * /buildings/{b}/measures): savings are split per measure from its start
 * day.  Everyone in scope reads them; managers edit the whole list, which is
 * sent whole after a confirmation, and the server's refusal is shown as it
 * says it (it names the entry at fault).
 */
import { useId, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { putMeasures, serverWords } from '../api/analytics';
import type { Measure } from '../api/analytics';
import { dayLabel } from '../lib/enduse';
import { checkMeasures } from '../lib/savings';
import { ConfirmDialog } from './ConfirmDialog';
import { ScrollRegion } from './ui';

/** The list as the server takes it: trimmed, without an empty description. */
export function cleanMeasures(list: readonly Measure[]): Measure[] {
  return list.map((m) => {
    const d = m.description?.trim();
    return { id: m.id.trim(), name: m.name.trim(), start: m.start, ...(d ? { description: d } : {}) };
  });
}

function MeasureFields({ m, n, onChange, onRemove }: { m: Measure; n: number; onChange: (m: Measure) => void; onRemove: () => void }) {
  const id = useId();
  const field = (k: keyof Measure, label: string, type = 'text', cls = 'w-40') => (
    <div>
      <label htmlFor={`${id}-${k}`} className="label">{label}</label>
      <input id={`${id}-${k}`} type={type} className={`input ${cls}`} value={m[k] ?? ''} onChange={(e) => onChange({ ...m, [k]: e.target.value })} />
    </div>
  );
  return (
    <fieldset className="flex flex-wrap items-end gap-2 border-t border-slate-200 pt-2 dark:border-slate-700">
      <legend className="sr-only">Measure {n}</legend>
      {field('id', 'Id', 'text', 'w-32')}
      {field('name', 'Name')}
      {field('start', 'Start day', 'date')}
      {field('description', 'Description (optional)', 'text', 'w-56')}
      <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={onRemove} aria-label={`Remove measure ${n}`}>Remove</button>
    </fieldset>
  );
}

function Editor({ building, initial, onSaved, onCancel }: { building: string; initial: Measure[]; onSaved: (m: Measure[]) => void; onCancel: () => void }) {
  const client = useClient();
  const [list, setList] = useState<Measure[]>(initial);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const clean = cleanMeasures(list);

  async function save() {
    setBusy(true);
    try {
      onSaved(await putMeasures(client, building, clean));
    } catch (e) {
      setError(`Not saved: ${serverWords(e)}`);
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  }

  return (
    <form className="space-y-2" aria-label="Edit measures" noValidate onSubmit={(e) => {
      e.preventDefault();
      const why = checkMeasures(clean);
      setError(why);
      if (!why) setConfirm(true);
    }}>
      {list.map((m, i) => (
        // index keys: a new row has no id until typed, and ids may be edited
        <MeasureFields key={i} m={m} n={i + 1} onChange={(x) => setList(list.map((y, j) => (j === i ? x : y)))}
                       onRemove={() => setList(list.filter((_, j) => j !== i))} />
      ))}
      <div className="flex flex-wrap gap-2 pt-2">
        <button type="button" className="btn-secondary" onClick={() => setList([...list, { id: '', name: '', start: '' }])}>Add a measure</button>
        <button type="submit" className="btn-primary" disabled={busy}>Save measures</button>
        <button type="button" className="btn-secondary" onClick={onCancel} disabled={busy}>Cancel</button>
      </div>
      {error && <p role="alert" className="text-sm text-red-700 dark:text-red-300">{error}</p>}
      {confirm && (
        <ConfirmDialog title="Save the measures?" confirmLabel={busy ? 'Saving…' : 'Save'} busy={busy}
                       onConfirm={() => void save()} onCancel={() => setConfirm(false)}>
          <p>The building&rsquo;s list becomes these {clean.length} measures; savings per measure are computed from their start days.</p>
          <ul className="mt-2 list-disc pl-5">{clean.map((m) => <li key={m.id}>{m.name} ({m.id}) from {m.start}</li>)}</ul>
        </ConfirmDialog>
      )}
    </form>
  );
}

export function SavingsMeasures({ building, list, canEdit, onSaved }: { building: string; list: Measure[]; canEdit: boolean; onSaved: (m: Measure[]) => void }) {
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`} className="mb-6">
      <h2 id={`${id}-h`} className="mb-2 text-lg font-semibold">Measures</h2>
      <div className="card space-y-2">
        {editing ? (
          <Editor building={building} initial={list} onCancel={() => setEditing(false)}
                  onSaved={(m) => { setEditing(false); setDone(`Measures saved (${m.length}).`); onSaved(m); }} />
        ) : list.length === 0 ? (
          <p className="muted text-sm">No measure recorded: savings are computed for the whole reporting period only.</p>
        ) : (
          <ScrollRegion label="Measures" className="overflow-x-auto">
            <table className="w-full min-w-[32rem] text-sm">
              <caption className="sr-only">Energy conservation measures</caption>
              <thead>
                <tr className="text-left">
                  <th scope="col" className="py-1 pr-3">Measure</th>
                  <th scope="col" className="py-1 pr-3">Id</th>
                  <th scope="col" className="py-1 pr-3">Start</th>
                  <th scope="col" className="py-1">Description</th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.id} className="border-t border-slate-200 dark:border-slate-700">
                    <th scope="row" className="py-1 pr-3 text-left font-medium">{m.name}</th>
                    <td className="py-1 pr-3">{m.id}</td>
                    <td className="py-1 pr-3">{dayLabel(m.start)}, {m.start.slice(0, 4)}</td>
                    <td className="py-1">{m.description ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        {!editing && canEdit && (
          <button type="button" className="btn-secondary" onClick={() => { setDone(null); setEditing(true); }}>Edit measures</button>
        )}
        <p role="status" className="text-sm">{done}</p>
      </div>
    </section>
  );
}
