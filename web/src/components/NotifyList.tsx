/**
 * The signed-in user's alert notifications as a table, each in words
 * (channel, where it goes, building, least severity, when it is told: on
 * raise or at an escalation level, quiet hours), with
 * Delete behind a confirmation: pending while it runs, then the result in
 * words.  A notification already gone (404) leaves the list too.
 */
import { useState } from 'react';
import { ApiError, describeError } from '../api/errors';
import type { Subscription } from '../api/notify';
import { CHANNEL_TEXT, buildingWords, levelWords, quietWords, severityWords, subscriptionName, targetWords } from '../api/notify';
import { ConfirmDialog } from './ConfirmDialog';
import { ScrollRegion } from './ui';

export interface NotifyListProps {
  items: readonly Subscription[];
  nameOf: (building: string) => string | undefined;
  onDelete: (s: Subscription) => Promise<void>;
  /** gone from the server already: drop it from the list */
  onGone: (s: Subscription) => void;
  onDone: (message: string) => void;
  /** alerts.escalate_after in seconds (0: off; null: unknown), to word the levels */
  escalateAfterS?: number | null;
}

const th = 'px-2 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400';

export function NotifyList({ items, nameOf, onDelete, onGone, onDone, escalateAfterS = null }: NotifyListProps) {
  const [doomed, setDoomed] = useState<Subscription | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);

  async function remove(s: Subscription) {
    setBusy(true);
    setErr(null);
    try {
      await onDelete(s);
      onDone(`Deleted ${subscriptionName(s)}.`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        onGone(s);
        onDone(`${capital(subscriptionName(s))} was already gone.`);
      } else {
        setErr(`${capital(subscriptionName(s))} was not deleted: ${describeError(e)}`);
      }
    } finally {
      setBusy(false);
      setDoomed(null);
    }
  }

  return (
    <>
      {err && <p role="alert" className="mb-2 text-sm font-medium text-red-800 dark:text-red-300">{err}</p>}
      <ScrollRegion label="Your notifications, scrolls sideways" className="card overflow-x-auto p-0">
        <table className="w-full min-w-[52rem] text-sm">
          <caption className="sr-only">Your alert notifications</caption>
          <thead className="border-b border-slate-200 dark:border-slate-700">
            <tr>
              <th scope="col" className={th}>Channel</th>
              <th scope="col" className={th}>Sends to</th>
              <th scope="col" className={th}>Building</th>
              <th scope="col" className={th}>Severity</th>
              <th scope="col" className={th}>When</th>
              <th scope="col" className={th}>Quiet hours</th>
              <th scope="col" className={th}><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-testid={`sub-${s.id}`} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                <th scope="row" className="px-2 py-2 text-left font-semibold">
                  {CHANNEL_TEXT[s.channel] ?? s.channel}
                  {s.channel === 'webhook' && s.has_secret && <p className="muted text-xs font-normal">signed (HMAC)</p>}
                  {!s.enabled && <p className="muted text-xs font-normal">switched off</p>}
                </th>
                <td className="px-2 py-2 [overflow-wrap:anywhere]">{targetWords(s)}</td>
                <td className="px-2 py-2">{buildingWords(s.building, nameOf)}</td>
                <td className="px-2 py-2">{severityWords(s.min_severity)}</td>
                <td className="px-2 py-2">
                  {(s.level ?? 0) > 0 && <span className="font-medium">Level {s.level}: </span>}
                  {levelWords(s.level, escalateAfterS)}
                </td>
                <td className="px-2 py-2">{quietWords(s)}</td>
                <td className="whitespace-nowrap px-2 py-2">
                  <button type="button" className="btn-secondary min-h-[36px] px-3 py-1"
                          aria-label={`Delete ${subscriptionName(s)}`} onClick={() => { setErr(null); setDoomed(s); }}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      {doomed && (
        <ConfirmDialog title="Delete this notification?" confirmLabel="Delete notification" danger busy={busy}
                       onCancel={() => setDoomed(null)} onConfirm={() => void remove(doomed)}>
          <p className="[overflow-wrap:anywhere]">
            {doomed.channel === 'mqtt'
              ? 'sbems stops publishing your alerts to its MQTT topic.'
              : `sbems stops sending alerts to ${doomed.target}${doomed.channel === 'webhook' ? ', and the secret of this webhook is dropped' : ''}.`}
            {' '}This cannot be undone; add it again to get it back{doomed.channel === 'webhook' ? ' (with a new secret)' : ''}.
          </p>
          {busy && <p role="status" className="mt-2 font-medium">Deleting…</p>}
        </ConfirmDialog>
      )}
    </>
  );
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
