/**
 * On / Off / Release for a two-state command (a fan's start/stop, a
 * chiller's enable), with the same flow as SetpointControl: a dialog that
 * restates the command, "Command pending" until sbems answers, then the
 * verdict in words (POST /points/{p}/write, docs/api.md):
 *   200 ok         the device reads the value back (dry_run: only logged)
 *   202            written, but the device holds something else: `holder`
 *   409            refused, with the device's reason
 *   504            the device did not answer
 * An optional override duration and reason go with On and Off.  Rendered
 * only for roles that may command; the server checks again.
 */
import { useId, useState } from 'react';
import type { EqPoint } from '../api/equipment';
import { stateText, stateWords } from '../api/equipment';
import { ApiError, describeError } from '../api/errors';
import type { Command, CommandResult } from '../api/types';
import { useClient } from '../auth/AuthContext';
import { formatDateTime } from '../lib/time';
import { ConfirmDialog } from './ConfirmDialog';
import { DURATIONS } from './SetpointControl';

type Phase =
  | { kind: 'idle' }
  | { kind: 'confirm'; cmd: Command; text: string }
  | { kind: 'pending'; cmd: Command; text: string }
  | { kind: 'done'; status: number; result: CommandResult | undefined; cmd: Command; text: string }
  | { kind: 'failed'; error: unknown; text: string };

function durationText(s: number | undefined): string {
  if (!s) return 'until released';
  return `for ${DURATIONS.find((d) => d.seconds === s)?.label.toLowerCase() ?? `${s} s`}, then sbems releases it`;
}

export function EquipCommandControl({ point, tz, onCommandDone }: { point: EqPoint; tz: string; onCommandDone?: () => void }) {
  const client = useClient();
  const id = useId();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [duration, setDuration] = useState('');
  const [reason, setReason] = useState('');
  const [off, on] = stateWords(point);
  const word = (v: number | null | undefined) => (typeof v === 'number' ? `${stateText(point, v)} (${v})` : 'nothing');

  function ask(value: 0 | 1) {
    const cmd: Command = { value };
    if (duration) cmd.duration_s = Number(duration);
    if (reason.trim()) cmd.reason = reason.trim();
    setPhase({ kind: 'confirm', cmd, text: `Turn ${point.name} ${value ? 'on' : 'off'} (${value ? on : off}, value ${value}), ${durationText(cmd.duration_s)}.` });
  }

  function askRelease() {
    setPhase({ kind: 'confirm', cmd: { value: null }, text: `Release sbems's command on ${point.name}? The device goes back to the next command holding it, or its default.` });
  }

  async function send(cmd: Command, text: string) {
    setPhase({ kind: 'pending', cmd, text });
    try {
      const r = await client.write(point.id, cmd);
      setPhase({ kind: 'done', status: r.status, result: r.result, cmd, text });
    } catch (error) {
      setPhase({ kind: 'failed', error, text });
    } finally {
      onCommandDone?.();
    }
  }

  const back = () => setPhase({ kind: 'idle' });

  return (
    <div className="space-y-3" data-testid={`command-${point.id}`}>
      {phase.kind === 'idle' && (
        <>
          <div className="flex flex-wrap gap-2">
            <button type="button" className="btn-primary" onClick={() => ask(1)} aria-label={`Turn on ${point.name}`}>Turn on</button>
            <button type="button" className="btn-primary" onClick={() => ask(0)} aria-label={`Turn off ${point.name}`}>Turn off</button>
            <button type="button" className="btn-secondary" onClick={askRelease} aria-label={`Release ${point.name}`}>Release</button>
          </div>
          <details>
            <summary className="cursor-pointer text-sm font-medium">Override duration and reason</summary>
            <div className="mt-2 grid gap-3 sm:grid-cols-2">
              <div>
                <label htmlFor={`${id}-d`} className="label">Override duration</label>
                <select id={`${id}-d`} className="input" value={duration} onChange={(e) => setDuration(e.target.value)}>
                  {DURATIONS.map((d) => <option key={d.label} value={d.seconds ?? ''}>{d.label}</option>)}
                </select>
              </div>
              <div>
                <label htmlFor={`${id}-r`} className="label">Reason (optional)</label>
                <input id={`${id}-r`} className="input" type="text" maxLength={160} value={reason} onChange={(e) => setReason(e.target.value)} />
              </div>
            </div>
          </details>
        </>
      )}

      {phase.kind === 'confirm' && (
        <ConfirmDialog title={phase.cmd.value === null ? 'Release the command?' : 'Send this command?'}
                       confirmLabel={phase.cmd.value === null ? 'Release' : 'Send command'}
                       onCancel={back} onConfirm={() => void send(phase.cmd, phase.text)}>
          <p>{phase.text}</p>
          <p className="muted mt-2">The equipment acts on it at once.</p>
        </ConfirmDialog>
      )}

      {phase.kind === 'pending' && (
        <div role="status" className="rounded-md border border-slate-300 p-3 text-sm dark:border-slate-600">
          <p className="font-semibold">Command pending…</p>
          <p>{phase.text}</p>
          <p className="muted">Waiting for the device to take it and read it back.</p>
        </div>
      )}

      {phase.kind === 'done' && (
        <div role="status" className={`rounded-md border p-3 text-sm ${phase.status === 200
          ? 'border-emerald-400 bg-emerald-50 text-emerald-950 dark:border-emerald-700 dark:bg-emerald-950 dark:text-emerald-50'
          : 'border-amber-400 bg-amber-50 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-50'}`}>
          <p className="font-semibold">
            {phase.status === 202 ? 'Written, but not confirmed: the device holds something else.'
              : phase.result?.result === 'dry_run' ? 'Dry run: sbems logged the command but did not write it.'
                : phase.cmd.value === null ? 'Released.'
                  : `Confirmed: the device reads back ${word(phase.result?.readback ?? phase.result?.value)}.`}
          </p>
          {phase.status === 202 && (
            <p>Held by: {phase.result?.holder ?? 'unknown'}; it reads {word(phase.result?.readback)}.</p>
          )}
          <p className="mt-1">{phase.text}</p>
          {phase.result?.expires && <p>sbems releases it at {formatDateTime(Date.parse(phase.result.expires), tz)}.</p>}
          {phase.result?.priority !== undefined && <p className="muted">Written at priority {phase.result.priority}.</p>}
          <button type="button" className="btn-secondary mt-2" onClick={back}>OK</button>
        </div>
      )}

      {phase.kind === 'failed' && (
        <div role="alert" className="rounded-md border border-red-400 bg-red-50 p-3 text-sm text-red-950 dark:border-red-700 dark:bg-red-950 dark:text-red-50">
          <p className="font-semibold">
            {phase.error instanceof ApiError && phase.error.status === 409 ? 'Refused.'
              : phase.error instanceof ApiError && phase.error.status === 504 ? 'No answer from the device.'
                : 'The command was not carried out.'}
          </p>
          <p>{describeError(phase.error)}</p>
          <p className="muted mt-1">{phase.text}</p>
          <button type="button" className="btn-secondary mt-2" onClick={back}>OK</button>
        </div>
      )}
    </div>
  );
}
