/**
 * "Add recommended rules": the server's rule templates as a checklist
 * (read when opened), applied to the building in one request; the answer
 * says which rules were created and which were skipped and why.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { ApplyResult } from '../api/alerts';
import { applyTemplates, listTemplates } from '../api/alerts';
import { describeError } from '../api/errors';
import { useClient } from '../auth/AuthContext';
import { useAsync } from '../lib/useAsync';
import { ErrorBox, Loading } from './ui';

const APPLIES: Record<string, string> = { zone: 'each zone', equipment: 'each piece of equipment', point: 'matching points' };

const SKIP_REASON: Record<string, string> = { exists: 'already there' };

export function resultWords(r: ApplyResult): string {
  const made = r.created.length === 0 ? 'No rule created.'
    : `Created ${r.created.length} rule${r.created.length === 1 ? '' : 's'}: ${r.created.join(', ')}.`;
  const skipped = r.skipped.length === 0 ? ''
    : ` Skipped ${r.skipped.length}: ${r.skipped.map((s) => `${s.id} (${SKIP_REASON[s.reason] ?? s.reason})`).join(', ')}.`;
  return made + skipped;
}

function Checklist({ building, onApplied, onClose }: { building: string; onApplied: () => void; onClose: () => void }) {
  const id = useId();
  const client = useClient();
  const list = useAsync((s) => listTemplates(client, s), [client]);
  const [chosen, setChosen] = useState<Set<string>>(() => new Set());
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  function toggle(t: string, on: boolean) {
    setChosen((s) => {
      const n = new Set(s);
      if (on) n.add(t);
      else n.delete(t);
      return n;
    });
  }

  async function apply() {
    // in the server's order, whatever order they were ticked in
    const ids = (list.data ?? []).map((t) => t.id).filter((t) => chosen.has(t));
    if (ids.length === 0) {
      setMsg({ ok: false, text: 'Tick at least one template.' });
      return;
    }
    setBusy(true);
    setMsg(null);
    try {
      const r = await applyTemplates(client, building, ids);
      setMsg({ ok: true, text: resultWords(r) });
      setChosen(new Set());
      onApplied();
    } catch (e) {
      setMsg({ ok: false, text: describeError(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby={`${id}-h`} className="card mb-4">
      <h2 id={`${id}-h`} ref={heading} tabIndex={-1} className="text-lg font-semibold">Recommended rules</h2>
      <p className="muted text-sm">Each template adds rules for what it applies to in this building; rules that already exist are skipped.</p>
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : !list.data ? <Loading label="Loading templates…" /> : (
        <fieldset className="mt-2">
          <legend className="sr-only">Templates to add</legend>
          {list.data.map((t) => (
            <label key={t.id} className="flex min-h-[44px] items-start gap-2 py-1 text-sm">
              <input type="checkbox" className="mt-0.5 h-5 w-5" checked={chosen.has(t.id)} onChange={(e) => toggle(t.id, e.target.checked)} />
              <span>
                <span className="font-medium">{t.name}</span>
                {t.applies_to && <span className="muted"> — for {APPLIES[t.applies_to] ?? t.applies_to}</span>}
                {t.description && <span className="muted block">{t.description}</span>}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      <div className="mt-3 flex flex-wrap gap-2">
        <button type="button" className="btn-primary" disabled={busy || !list.data} onClick={() => void apply()}>
          {busy ? 'Adding…' : chosen.size === 0 ? 'Add the chosen templates' : `Add ${chosen.size} template${chosen.size === 1 ? '' : 's'}`}
        </button>
        <button type="button" className="btn-secondary" onClick={onClose} disabled={busy}>Close</button>
      </div>
      <p role="status" aria-live="polite" className={`mt-2 text-sm ${msg && !msg.ok ? 'font-medium text-red-800 dark:text-red-300' : ''}`}>{msg?.text ?? ''}</p>
    </section>
  );
}

export function AlertTemplates({ building, onApplied }: { building: string; onApplied: () => void }) {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const closed = useRef(false);
  useEffect(() => {
    // back to the button that opened the checklist
    if (!open && closed.current) opener.current?.focus();
  }, [open]);
  if (!open) {
    return <button ref={opener} type="button" className="btn-secondary" onClick={() => setOpen(true)}>Add recommended rules</button>;
  }
  return <Checklist building={building} onApplied={onApplied} onClose={() => { closed.current = true; setOpen(false); }} />;
}
