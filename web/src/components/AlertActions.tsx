/**
 * What an operator (and up) may do with an alert: acknowledge, assign,
 * shelve, unshelve, resolve (each confirmed in a dialog, with an optional
 * note), and add a note.  While a request runs the dialog says so; the
 * server's answer (the updated alert) goes to onChanged, which replaces
 * the row and the panel.  A 409 means someone changed the alert first: the
 * alert is read again and what happened is said in words.  Viewers get
 * none of this (the caller does not render it).
 */
import { useEffect, useId, useRef, useState } from 'react';
import { hasRole } from '../api/client';
import { listUsers } from '../api/admin';
import type { AlertAction, AlertDetail } from '../api/alerts';
import { NOTE_MAX, SHELVE_CHOICES, alertAction, getAlert, isShelved } from '../api/alerts';
import { ApiError, describeError } from '../api/errors';
import { useAuth, useClient } from '../auth/AuthContext';
import { formatDateTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { ConfirmDialog } from './ConfirmDialog';
import { FieldMsg } from './AdminUserFields';

type Kind = AlertAction['kind'];

interface Ask {
  title: string;
  confirm: string;
  body: string;
  /** the action, given the dialog's note */
  make: (note: string) => AlertAction;
  done: (a: AlertDetail) => string;
  withNote: boolean;
}

/** Why a 409 happened, read from the alert as it is now. */
export function conflictText(kind: Kind, before: AlertDetail, now: AlertDetail, nowMs: number = Date.now()): string {
  if (before.state === 'resolved') return 'It is resolved, and sbems takes no more changes to it.';
  if (now.state === 'resolved') {
    return now.resolved_by === 'sbems'
      ? 'sbems resolved it meanwhile (its condition cleared).'
      : `Someone resolved it meanwhile${now.resolved_by ? ` (${now.resolved_by})` : ''}.`;
  }
  if (kind === 'acknowledge' && now.state === 'acknowledged') {
    return `Someone acknowledged it meanwhile${now.acknowledged_by ? ` (${now.acknowledged_by})` : ''}.`;
  }
  if (kind === 'shelve' && isShelved(now, nowMs)) return 'Someone shelved it meanwhile.';
  if (kind === 'unshelve' && !isShelved(now, nowMs)) return 'It is not shelved any more.';
  return 'Its state no longer allows this; someone changed it meanwhile.';
}

const btn2 = 'btn-secondary min-h-[36px] px-3 py-1';

export function AlertActions({ alert, tz, onChanged }: { alert: AlertDetail; tz: string; onChanged: (a: AlertDetail) => void }) {
  const id = useId();
  const client = useClient();
  const { user } = useAuth();
  const me = user?.username ?? '';
  const manager = hasRole(user?.roles, 'manager');
  const admin = hasRole(user?.roles, 'admin');
  const open = alert.state !== 'resolved';
  const shelved = isShelved(alert, Date.now());

  const [ask, setAsk] = useState<Ask | null>(null);
  const [dialogNote, setDialogNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [shelveS, setShelveS] = useState(SHELVE_CHOICES[0]?.s ?? 3600);
  const [assignee, setAssignee] = useState('');
  const [assigneeErr, setAssigneeErr] = useState<string>();
  const [noteText, setNoteText] = useState('');
  const [noteErr, setNoteErr] = useState<string>();
  const users = useAsync((s) => (admin && open ? listUsers(client, s) : Promise.resolve([])), [client, admin, open]);
  const status = useRef<HTMLParagraphElement>(null);
  // The button that opened the dialog may be gone (Acknowledge after acknowledging): keep focus near.
  useEffect(() => {
    if (result && (!document.activeElement || document.activeElement === document.body)) status.current?.focus();
  }, [result]);

  async function run(action: AlertAction, done: (a: AlertDetail) => string) {
    setBusy(true);
    setResult(null);
    setAssigneeErr(undefined);
    setNoteErr(undefined);
    try {
      const a = await alertAction(client, alert.id, action);
      onChanged(a);
      setResult({ ok: true, text: done(a) });
      if (action.kind === 'note') setNoteText('');
      if (action.kind === 'assign') setAssignee('');
    } catch (e) {
      let text = describeError(e);
      if (e instanceof ApiError && e.status === 409) {
        try {
          const now = await getAlert(client, alert.id);
          onChanged(now);
          text = `${conflictText(action.kind, alert, now)} The alert now shows its current state.`;
        } catch {
          text = 'Someone changed it meanwhile; reload to see its current state.';
        }
      } else if (e instanceof ApiError && e.status === 400) {
        const a = e.fieldMessage('assignee');
        const t = e.fieldMessage('text');
        if (a) setAssigneeErr(a);
        if (t) setNoteErr(t);
      }
      setResult({ ok: false, text });
    } finally {
      setBusy(false);
      setAsk(null);
    }
  }

  function confirm(a: Ask) {
    setDialogNote('');
    setResult(null);
    setAsk(a);
  }

  const until = (a: AlertDetail) => (a.shelved_until ? formatDateTime(Date.parse(a.shelved_until), tz) : 'the time chosen');
  const assignTo = (who: string) => confirm({
    title: who === me ? 'Assign this alert to you?' : `Assign this alert to ${who}?`,
    confirm: who === me ? 'Assign to me' : `Assign to ${who}`,
    body: `${alert.rule_name}. ${who === me ? 'You' : who} will be named as the one handling it.`,
    make: (note) => ({ kind: 'assign', assignee: who, note }),
    done: (a) => `Assigned to ${a.assignee ?? who}.`,
    withNote: true,
  });

  function submitAssign() {
    const who = assignee.trim();
    if (!who) {
      setAssigneeErr('Choose who handles it.');
      return;
    }
    setAssigneeErr(undefined);
    assignTo(who);
  }

  function submitNote() {
    const t = noteText.trim();
    if (!t) {
      setNoteErr('Write a note first.');
      return;
    }
    if (t.length > NOTE_MAX) {
      setNoteErr(`At most ${NOTE_MAX} characters.`);
      return;
    }
    void run({ kind: 'note', text: t }, () => 'Note added.');
  }

  const choice = SHELVE_CHOICES.find((c) => c.s === shelveS);
  return (
    <section aria-labelledby={`${id}-h`} className="mt-4 border-t border-slate-200 pt-3 dark:border-slate-700">
      <h3 id={`${id}-h`} className="font-semibold">Actions</h3>
      {open && (
        <div className="mt-2 flex flex-wrap gap-2">
          {alert.state === 'active' && (
            <button type="button" className="btn-primary" disabled={busy} onClick={() => confirm({
              title: 'Acknowledge this alert?',
              confirm: 'Acknowledge',
              body: `${alert.rule_name}. Others will see that someone is on it; the alert stays open until it is resolved.`,
              make: (note) => ({ kind: 'acknowledge', note }),
              done: (a) => `Acknowledged by ${a.acknowledged_by ?? me}.`,
              withNote: true,
            })}>Acknowledge</button>
          )}
          {alert.assignee !== me && (
            <button type="button" className="btn-secondary" disabled={busy} onClick={() => assignTo(me)}>Assign to me</button>
          )}
          {shelved && (
            <button type="button" className="btn-secondary" disabled={busy} onClick={() => confirm({
              title: 'Unshelve this alert?',
              confirm: 'Unshelve',
              body: `${alert.rule_name} is shelved until ${until(alert)}; it comes back at once.`,
              make: () => ({ kind: 'unshelve' }),
              done: () => 'Unshelved.',
              withNote: false,
            })}>Unshelve</button>
          )}
          <button type="button" className="btn-secondary" disabled={busy} onClick={() => confirm({
            title: 'Resolve this alert?',
            confirm: 'Resolve',
            body: `${alert.rule_name}. It leaves the open alerts; if the condition returns, sbems raises it again.`,
            make: (note) => ({ kind: 'resolve', note }),
            done: (a) => `Resolved by ${a.resolved_by ?? me}.`,
            withNote: true,
          })}>Resolve</button>
        </div>
      )}

      {open && !shelved && (
        <div className="mt-3 flex flex-wrap items-end gap-2">
          <div>
            <label className="label" htmlFor={`${id}-shelve`}>Shelve for</label>
            <select id={`${id}-shelve`} className="input" value={shelveS} onChange={(e) => setShelveS(Number(e.target.value))}>
              {SHELVE_CHOICES.map((c) => <option key={c.s} value={c.s}>{c.label}</option>)}
            </select>
          </div>
          <button type="button" className="btn-secondary" disabled={busy} onClick={() => confirm({
            title: `Shelve this alert for ${choice?.label ?? `${shelveS} s`}?`,
            confirm: 'Shelve',
            body: `${alert.rule_name}. It stays open but is set aside until ${formatDateTime(Date.now() + shelveS * 1000, tz)}.`,
            make: (note) => ({ kind: 'shelve', duration_s: shelveS, note }),
            done: (a) => `Shelved until ${until(a)}.`,
            withNote: true,
          })}>Shelve</button>
        </div>
      )}

      {open && manager && (
        <div className="mt-3 flex flex-wrap items-end gap-2">
          <div className="min-w-[12rem] flex-1">
            <label className="label" htmlFor={`${id}-who`}>Assign to</label>
            {admin && users.data && users.data.length > 0 ? (
              <select id={`${id}-who`} className="input" value={assignee} onChange={(e) => setAssignee(e.target.value)}
                      aria-invalid={assigneeErr ? true : undefined} aria-describedby={assigneeErr ? `${id}-who-e` : undefined}>
                <option value="">Choose a user</option>
                {users.data.filter((u) => !u.disabled).map((u) => (
                  <option key={u.id} value={u.username}>{u.display_name ? `${u.display_name} (${u.username})` : u.username}</option>
                ))}
              </select>
            ) : (
              <input id={`${id}-who`} className="input" value={assignee} autoComplete="off" placeholder="username"
                     onChange={(e) => setAssignee(e.target.value)}
                     aria-invalid={assigneeErr ? true : undefined} aria-describedby={assigneeErr ? `${id}-who-e` : undefined} />
            )}
          </div>
          <button type="button" className={btn2} disabled={busy} onClick={submitAssign}>Assign</button>
        </div>
      )}
      {open && <FieldMsg id={`${id}-who-e`} msg={assigneeErr} />}

      <div className="mt-3">
        <label className="label" htmlFor={`${id}-note`}>Add a note</label>
        <textarea id={`${id}-note`} className="input" rows={2} maxLength={NOTE_MAX} value={noteText}
                  onChange={(e) => setNoteText(e.target.value)}
                  aria-invalid={noteErr ? true : undefined} aria-describedby={noteErr ? `${id}-note-e` : undefined} />
        <FieldMsg id={`${id}-note-e`} msg={noteErr} />
        <button type="button" className={`${btn2} mt-2`} disabled={busy} onClick={submitNote}>Add note</button>
      </div>

      <p ref={status} tabIndex={-1} role="status" aria-live="polite" className={`mt-3 text-sm ${result && !result.ok ? 'font-medium text-red-800 dark:text-red-300' : ''}`}>
        {busy && !ask ? 'Sending…' : result?.text ?? ''}
      </p>

      {ask && (
        <ConfirmDialog title={ask.title} confirmLabel={ask.confirm} busy={busy}
                       onCancel={() => setAsk(null)} onConfirm={() => void run(ask.make(dialogNote), ask.done)}>
          <p>{ask.body}</p>
          {ask.withNote && (
            <div className="mt-3">
              <label className="label" htmlFor={`${id}-dnote`}>Note (optional)</label>
              <textarea id={`${id}-dnote`} className="input" rows={2} maxLength={NOTE_MAX} value={dialogNote}
                        onChange={(e) => setDialogNote(e.target.value)} />
            </div>
          )}
          {busy && <p role="status" className="mt-2 font-medium">Sending…</p>}
        </ConfirmDialog>
      )}
    </section>
  );
}
