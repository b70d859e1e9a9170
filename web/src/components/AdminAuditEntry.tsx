/** One audit record: when, who, what, on what, the result; before/after on request. */
import type { AuditRecord } from '../api/admin';
import { LocalTime } from './AdminTime';
import { Badge } from './ui';
import type { Tone } from './ui';

/** Results the server writes: ok, denied, locked (sign-ins); ok, not_confirmed, rejected, error, dry_run (commands). */
const RESULTS: Record<string, { text: string; tone: Tone }> = {
  ok: { text: 'OK', tone: 'good' },
  denied: { text: 'Denied', tone: 'bad' },
  locked: { text: 'Locked out', tone: 'bad' },
  rejected: { text: 'Rejected by the device', tone: 'bad' },
  error: { text: 'Error', tone: 'bad' },
  not_confirmed: { text: 'Not confirmed', tone: 'warn' },
  dry_run: { text: 'Dry run', tone: 'neutral' },
};

export function actorText(r: AuditRecord): string {
  if (r.actor) return r.actor_id ? `${r.actor} (#${r.actor_id})` : r.actor;
  return r.actor_id ? `user #${r.actor_id}` : 'sbems';
}

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <div className="min-w-0">
      <p className="text-xs font-semibold uppercase">{label}</p>
      <pre className="mt-1 max-h-96 overflow-y-auto whitespace-pre-wrap rounded bg-slate-100 p-2 text-xs text-slate-900 [overflow-wrap:anywhere] dark:bg-slate-800 dark:text-slate-100">
        {value === undefined || value === null ? '(none)' : JSON.stringify(value, null, 2)}
      </pre>
    </div>
  );
}

export function AdminAuditEntry({ r, tz, onActor, onTarget }: { r: AuditRecord; tz: string; onActor: (id: number) => void; onTarget: (t: string) => void }) {
  const res = RESULTS[r.result] ?? { text: r.result, tone: 'neutral' as Tone };
  const hasJson = r.before !== undefined || r.after !== undefined;
  return (
    <li className="card min-w-0 text-sm">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <span className="font-medium"><LocalTime iso={r.time} tz={tz} none="(no time)" /></span>
        <code className="font-semibold [overflow-wrap:anywhere]">{r.action}</code>
        <Badge tone={res.tone}>{res.text}</Badge>
      </div>
      <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5">
        <dt className="muted">By</dt>
        <dd className="min-w-0 [overflow-wrap:anywhere]">{actorText(r)}{r.ip ? ` from ${r.ip}` : ''}</dd>
        <dt className="muted">On</dt>
        <dd className="min-w-0 [overflow-wrap:anywhere]">{r.target ?? '—'}</dd>
        {r.detail && (
          <>
            <dt className="muted">Note</dt>
            <dd className="min-w-0 [overflow-wrap:anywhere]">{r.detail}</dd>
          </>
        )}
      </dl>
      <div className="mt-1 flex flex-wrap gap-2">
        {r.actor_id > 0 && (
          <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => onActor(r.actor_id)}>Only this user</button>
        )}
        {r.target && (
          <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => onTarget(r.target as string)}>Only this object</button>
        )}
      </div>
      {hasJson && (
        <details className="mt-2 min-w-0">
          <summary className="cursor-pointer font-medium">Before and after</summary>
          <div className="mt-2 grid min-w-0 gap-2 md:grid-cols-2">
            <Json label="Before" value={r.before} />
            <Json label="After" value={r.after} />
          </div>
        </details>
      )}
    </li>
  );
}
