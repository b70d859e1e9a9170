/**
 * One unit's fault detection settings: whether it is watched (and why not),
 * and its parameters.  Managers edit them: Save sends only the values that
 * differ from their defaults (PUT, which replaces the unit's overrides), and
 * "Reset to defaults" drops them all (DELETE, after a confirmation).  Other
 * roles see the values read-only.  The server's refusal (a 400 naming the
 * parameter) is shown under the form, in its words.
 */
import { useId, useState } from 'react';
import type { FddParam, FddUnit } from '../api/fdd';
import { fieldProblem, overridesOf, plain, putUnit, refusal, resetUnit, withDefaults } from '../api/fdd';
import { useClient } from '../auth/AuthContext';
import { equipmentTypeName } from '../lib/model';
import { ConfirmDialog } from './ConfirmDialog';
import { Badge } from './ui';

type Result = { state: 'idle' } | { state: 'pending'; what: string } | { state: 'done'; text: string } | { state: 'failed'; text: string };

const withUnit = (v: number, unit: string) => `${plain(v)}${unit ? ` ${unit}` : ''}`;

function textOf(u: FddUnit): Record<string, string> {
  return Object.fromEntries(u.params.map((p) => [p.name, String(p.value)]));
}

function changedCount(u: FddUnit): number {
  return u.params.filter((p) => p.value !== p.default).length;
}

/** "Changed from the default (2 K)" beside a value that is not the default. */
function ChangedMark({ p, value }: { p: FddParam; value: number | null }) {
  if (value === null || value === p.default) return <span className="muted">default</span>;
  return <span className="font-semibold">Changed from the default ({withUnit(p.default, p.unit)})</span>;
}

function ParamsView({ u, caption }: { u: FddUnit; caption: string }) {
  return (
    <table className="w-full text-sm">
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr className="text-left">
          <th scope="col" className="py-1 pr-3">Parameter</th>
          <th scope="col" className="py-1 pr-3">Value</th>
          <th scope="col" className="py-1">Default</th>
        </tr>
      </thead>
      <tbody>
        {u.params.map((p) => (
          <tr key={p.name} className="border-t border-slate-200 align-top dark:border-slate-700">
            <th scope="row" className="py-2 pr-3 text-left font-medium">{p.name}<span className="muted block text-xs font-normal">{p.doc}</span></th>
            <td className="py-2 pr-3 tabular-nums">{withUnit(p.value, p.unit)} <span className="block text-xs"><ChangedMark p={p} value={p.value} /></span></td>
            <td className="py-2 tabular-nums">{withUnit(p.default, p.unit)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ParamField({ p, text, problem, onChange }: { p: FddParam; text: string; problem: string | null; onChange: (s: string) => void }) {
  const id = useId();
  const v = text.trim() === '' ? null : Number(text);
  return (
    <div>
      <label htmlFor={id} className="label">{p.name}{p.unit ? ` (${p.unit})` : ''}</label>
      <input id={id} type="number" step="any" inputMode="decimal" className="input max-w-[12rem]" value={text}
             aria-invalid={problem ? true : undefined} aria-describedby={`${id}-d${problem ? ` ${id}-e` : ''}`}
             onChange={(e) => onChange(e.target.value)} />
      <p id={`${id}-d`} className="muted mt-1 text-xs">
        {p.doc}. Default {withUnit(p.default, p.unit)}; allowed {plain(p.lo)} to {withUnit(p.hi, p.unit)}.
      </p>
      <p className="mt-0.5 text-xs"><ChangedMark p={p} value={v !== null && Number.isFinite(v) ? v : null} /></p>
      {problem && <p id={`${id}-e`} className="mt-0.5 text-xs font-semibold text-red-700 dark:text-red-300">{problem}</p>}
    </div>
  );
}

function ParamsForm({ u, onChanged }: { u: FddUnit; onChanged: (u: FddUnit) => void }) {
  const client = useClient();
  const [text, setText] = useState(() => textOf(u));
  const [checked, setChecked] = useState(false);
  const [result, setResult] = useState<Result>({ state: 'idle' });
  const [confirming, setConfirming] = useState(false);
  const problems = Object.fromEntries(u.params.map((p) => [p.name, fieldProblem(p, text[p.name] ?? '')]));
  const pending = result.state === 'pending';

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setChecked(true);
    if (Object.values(problems).some(Boolean)) {
      setResult({ state: 'failed', text: 'Not saved: please correct the values marked above.' });
      return;
    }
    setResult({ state: 'pending', what: 'Saving…' });
    try {
      const saved = await putUnit(client, u.equipment, overridesOf(u.params, text));
      setText(textOf(saved));
      setChecked(false);
      onChanged(saved);
      setResult({ state: 'done', text: `Saved: ${changedCount(saved) ? `${changedCount(saved)} changed from the defaults` : 'all defaults'}.` });
    } catch (err) {
      setResult({ state: 'failed', text: `Not saved: ${refusal(err)}` });
    }
  }

  async function reset() {
    setResult({ state: 'pending', what: 'Resetting…' });
    try {
      await resetUnit(client, u.equipment);
      const d = withDefaults(u);
      setText(textOf(d));
      setChecked(false);
      onChanged(d);
      setResult({ state: 'done', text: 'Back to the defaults.' });
    } catch (err) {
      setResult({ state: 'failed', text: `Not reset: ${refusal(err)}` });
    } finally {
      setConfirming(false);
    }
  }

  const overridden = u.params.filter((p) => u.overrides[p.name] !== undefined);
  return (
    <form noValidate onSubmit={(e) => void save(e)} aria-label={`Parameters of ${u.name}`}>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {u.params.map((p) => (
          <ParamField key={p.name} p={p} text={text[p.name] ?? ''} problem={checked ? problems[p.name] ?? null : null}
                      onChange={(s) => setText((t) => ({ ...t, [p.name]: s }))} />
        ))}
      </div>
      <p className="muted mt-3 text-xs">An empty field, or a default typed out, is not saved: the default applies.</p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <button type="submit" className="btn-primary" disabled={pending}>Save<span className="sr-only"> {u.name}</span></button>
        <button type="button" className="btn-secondary" disabled={pending || overridden.length === 0} onClick={() => setConfirming(true)}>
          Reset to defaults<span className="sr-only"> ({u.name})</span>
        </button>
        {overridden.length === 0 && <span className="muted text-xs">All parameters are at their defaults.</span>}
      </div>
      <p role={result.state === 'failed' ? 'alert' : 'status'}
         className={`mt-2 text-sm ${result.state === 'failed' ? 'font-semibold text-red-700 dark:text-red-300' : ''}`}>
        {result.state === 'pending' ? result.what : result.state === 'idle' ? '' : result.text}
      </p>
      {confirming && (
        <ConfirmDialog title={`Reset ${u.name} to the defaults?`} confirmLabel="Reset to defaults" busy={pending}
                       onConfirm={() => void reset()} onCancel={() => setConfirming(false)}>
          <p>Fault detection on {u.name} goes back to the default of each parameter:</p>
          <ul className="ml-4 mt-2 list-disc">
            {overridden.map((p) => (
              <li key={p.name}>{p.name}: {withUnit(u.overrides[p.name] as number, p.unit)} → {withUnit(p.default, p.unit)}</li>
            ))}
          </ul>
        </ConfirmDialog>
      )}
    </form>
  );
}

export function FddUnitCard({ unit: u, canEdit, onChanged }: { unit: FddUnit; canEdit: boolean; onChanged: (u: FddUnit) => void }) {
  const n = changedCount(u);
  return (
    <li className="card" data-testid={`unit-${u.equipment}`}>
      <h2 className="text-lg font-semibold">{u.name}</h2>
      <p className="muted text-sm">{equipmentTypeName(u.kind)} · {u.equipment}</p>
      <p className="mt-2 flex flex-wrap items-center gap-2 text-sm">
        {u.watched ? <Badge tone="good">Watched</Badge> : <Badge tone="neutral">Not watched</Badge>}
        {!u.watched && <span>{u.reason || 'No reason given.'}</span>}
      </p>
      <details className="mt-3">
        <summary className="cursor-pointer py-2 text-sm font-medium">
          Parameters ({u.params.length}; {n ? `${n} changed from the defaults` : 'all defaults'})
        </summary>
        <div className="mt-2">
          {u.params.length === 0 ? <p className="muted text-sm">This unit has no parameters.</p>
            : canEdit ? <ParamsForm u={u} onChanged={onChanged} />
              : <ParamsView u={u} caption={`Parameters of ${u.name}`} />}
        </div>
      </details>
    </li>
  );
}
