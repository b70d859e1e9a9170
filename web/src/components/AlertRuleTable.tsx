/**
 * A building's alert rules as a table: name, type, what it watches (a link
 * to its page), severity, the condition in words in the user's units, and
 * whether it is enabled.  Managers get the enabled switch (PATCH at once,
 * pending while it runs, the previous state back with the reason when it
 * fails), Edit and Delete (confirmed); others read only.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { AlertRule } from '../api/alerts';
import { RULE_TYPE_TEXT, conditionWords } from '../api/alerts';
import { describeError } from '../api/errors';
import type { UnitPrefs } from '../lib/units';
import { SeverityBadge } from './AlertBadges';
import { ConfirmDialog } from './ConfirmDialog';
import { ScrollRegion } from './ui';

export interface AlertRuleTableProps {
  rules: readonly AlertRule[];
  pref: UnitPrefs;
  unitOf: (r: AlertRule) => string;
  watched: (r: AlertRule) => { to: string | null; label: string } | null;
  canEdit: boolean;
  onToggle: (r: AlertRule, enabled: boolean) => Promise<void>;
  onEdit: (r: AlertRule) => void;
  onDelete: (r: AlertRule) => Promise<void>;
}

function EnabledSwitch({ r, onToggle }: { r: AlertRule; onToggle: AlertRuleTableProps['onToggle'] }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  async function change(enabled: boolean) {
    setBusy(true);
    setErr(null);
    try {
      await onToggle(r, enabled);
    } catch (e) {
      setErr(`Not changed: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div>
      <label className="flex min-h-[44px] items-center gap-2">
        <input type="checkbox" className="h-5 w-5" checked={r.enabled} disabled={busy}
               aria-label={`${r.name} enabled`} onChange={(e) => void change(e.target.checked)} />
        <span>{busy ? 'Saving…' : r.enabled ? 'Enabled' : 'Disabled'}</span>
      </label>
      {err && <p role="alert" className="text-xs font-medium text-red-800 dark:text-red-300">{err}</p>}
    </div>
  );
}

export function AlertRuleTable({ rules, pref, unitOf, watched, canEdit, onToggle, onEdit, onDelete }: AlertRuleTableProps) {
  const [doomed, setDoomed] = useState<AlertRule | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const th = 'px-2 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400';

  async function remove(r: AlertRule) {
    setBusy(true);
    setErr(null);
    try {
      await onDelete(r);
      setDoomed(null);
    } catch (e) {
      setDoomed(null);
      setErr(`“${r.name}” was not deleted: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      {err && <p role="alert" className="mb-2 text-sm font-medium text-red-800 dark:text-red-300">{err}</p>}
      <ScrollRegion label="Alert rules, scrolls sideways" className="card overflow-x-auto p-0">
        <table className="w-full min-w-[48rem] text-sm">
          <caption className="sr-only">Alert rules</caption>
          <thead className="border-b border-slate-200 dark:border-slate-700">
            <tr>
              <th scope="col" className={th}>Rule</th>
              <th scope="col" className={th}>Watches</th>
              <th scope="col" className={th}>Severity</th>
              <th scope="col" className={th}>Condition</th>
              <th scope="col" className={th}>Enabled</th>
              {canEdit && <th scope="col" className={th}><span className="sr-only">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => {
              const w = watched(r);
              return (
                <tr key={r.id} id={`rule-${r.id}`} data-testid={`rule-${r.id}`} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                  <th scope="row" className="px-2 py-2 text-left font-normal">
                    <span className="font-semibold">{r.name}</span>
                    <p className="muted text-xs">{RULE_TYPE_TEXT[r.type] ?? r.type} · {r.id}</p>
                  </th>
                  <td className="px-2 py-2">
                    {w ? (w.to ? <Link to={w.to} className="link">{w.label}</Link> : w.label) : <span className="muted">—</span>}
                  </td>
                  <td className="px-2 py-2"><SeverityBadge severity={r.severity} /></td>
                  <td className="px-2 py-2">{conditionWords(r, unitOf(r), pref)}</td>
                  <td className="px-2 py-2">
                    {canEdit ? <EnabledSwitch r={r} onToggle={onToggle} /> : r.enabled ? 'Enabled' : 'Disabled'}
                  </td>
                  {canEdit && (
                    <td className="whitespace-nowrap px-2 py-2">
                      <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-label={`Edit ${r.name}`} onClick={() => onEdit(r)}>Edit</button>{' '}
                      <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-label={`Delete ${r.name}`} onClick={() => setDoomed(r)}>Delete</button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
      {doomed && (
        <ConfirmDialog title={`Delete the rule “${doomed.name}”?`} confirmLabel="Delete rule" danger busy={busy}
                       onCancel={() => setDoomed(null)} onConfirm={() => void remove(doomed)}>
          <p>sbems stops checking this condition. This cannot be undone; to pause a rule, disable it instead.</p>
          {busy && <p role="status" className="mt-2 font-medium">Deleting…</p>}
        </ConfirmDialog>
      )}
    </>
  );
}
