/**
 * A tariff as JSON (docs/internals/analytics-tariff.md), for managers: the
 * documented example as the template of a new one, the stored document for
 * an existing one.  sbems validates it whole and refuses with a message that
 * starts with the path of the field at fault ("energy[0].price_per_kwh: 5000
 * out of -1000..1000"), shown as it comes.  PUT /tariffs/{id}: 201 created,
 * 200 replaced, with the stored canonical form.
 */
import { useId, useState } from 'react';
import { useClient } from '../auth/AuthContext';
import { putTariff, serverWords } from '../api/analytics';
import type { Tariff } from '../api/analytics';
import { ConfirmDialog } from './ConfirmDialog';

/** The document to send, or why not: JSON, an object, with a slug id. */
export function parseTariff(text: string): { doc: Record<string, unknown>; id: string } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `This is not valid JSON: ${e instanceof Error ? e.message : String(e)}.` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'A tariff is one JSON object { ... }.' };
  const id = (doc as { id?: unknown }).id;
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9_.-]*$/.test(id)) {
    return { error: 'id: give the tariff an id of lower-case letters, digits, \u2018-\u2019, \u2018_\u2019 or \u2018.\u2019 (it names it in the address).' };
  }
  return { doc: doc as Record<string, unknown>, id };
}

export function TariffEditor({ initial, existing, onSaved, onCancel }: {
  initial: string;
  /** ids already stored: saving one of them replaces it */
  existing: readonly string[];
  onSaved: (t: Tariff, created: boolean) => void;
  onCancel: () => void;
}) {
  const client = useClient();
  const id = useId();
  const [text, setText] = useState(initial);
  const [pending, setPending] = useState<{ doc: Record<string, unknown>; id: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save() {
    if (!pending) return;
    setBusy(true);
    try {
      const r = await putTariff(client, pending.id, pending.doc);
      onSaved(r.body, r.status === 201);
    } catch (e) {
      setError(`The server refused it: ${serverWords(e)}`);
    } finally {
      setBusy(false);
      setPending(null);
    }
  }

  return (
    <form className="card space-y-2" aria-label="Tariff editor" noValidate onSubmit={(e) => {
      e.preventDefault();
      const p = parseTariff(text);
      if ('error' in p) {
        setError(p.error);
        return;
      }
      setError(null);
      setPending(p);
    }}>
      <label htmlFor={`${id}-json`} className="label">Tariff JSON</label>
      <textarea id={`${id}-json`} className="input font-mono text-sm" rows={20} spellCheck={false} value={text}
                onChange={(e) => setText(e.target.value)} aria-describedby={`${id}-hint`} />
      <p id={`${id}-hint`} className="muted text-xs">
        Hours are local, [start, end) in whole hours; every hour of every day kind must be priced exactly once. The format is in
        docs/internals/analytics-tariff.md.
      </p>
      {error && <p role="alert" className="text-sm text-red-700 dark:text-red-300">{error}</p>}
      <div className="flex flex-wrap gap-2">
        <button type="submit" className="btn-primary" disabled={busy}>Save tariff</button>
        <button type="button" className="btn-secondary" onClick={onCancel} disabled={busy}>Cancel</button>
      </div>
      {pending && (
        <ConfirmDialog title={`Save tariff ${pending.id}?`} confirmLabel={busy ? 'Saving…' : 'Save'} busy={busy}
                       onConfirm={() => void save()} onCancel={() => setPending(null)}>
          {existing.includes(pending.id)
            ? <p>This replaces tariff {pending.id}: the bills and cost savings of every building using it change.</p>
            : <p>This creates tariff {pending.id}.</p>}
        </ConfirmDialog>
      )}
    </form>
  );
}
