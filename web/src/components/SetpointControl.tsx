/**
 * Commanding a setpoint: enter a value (in the user's units) and an optional
 * override duration, confirm in a dialog that restates the command, watch it
 * pending, then read the API's verdict (docs/api.md, "Data"):
 *   200 ok         the device reads the value back (dry_run: only logged)
 *   202            written, but the device holds something else: `holder`
 *   409            refused (not writable, or the device's reason)
 *   504            the device did not answer
 *   503/429/...    sbems could not send it now
 * Only rendered for roles that may command (operator and up); the server
 * checks again.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError, describeError } from '../api/errors';
import type { Command, CommandResult } from '../api/types';
import { formatDateTime } from '../lib/time';
import { displayUnit, formatMeasure, formatNumber, fromDisplay, isTemperatureUnit, toDisplay } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { ConfirmDialog } from './ConfirmDialog';

export interface CommandablePoint {
  slug: string;
  name: string;
  /** the point's declared unit: what commands, read-backs and min/max are in (its readings are in canonicalUnit) */
  unit: string;
  min?: number | null;
  max?: number | null;
}

export const DURATIONS: { label: string; seconds: number | null }[] = [
  { label: 'Until released', seconds: null },
  { label: '15 minutes', seconds: 900 },
  { label: '30 minutes', seconds: 1800 },
  { label: '1 hour', seconds: 3600 },
  { label: '2 hours', seconds: 7200 },
  { label: '4 hours', seconds: 14_400 },
  { label: '8 hours', seconds: 28_800 },
  { label: '24 hours', seconds: 86_400 },
];

type Phase =
  | { kind: 'idle' }
  | { kind: 'editing' }
  | { kind: 'confirm'; cmd: Command; text: string }
  | { kind: 'pending'; cmd: Command; text: string }
  | { kind: 'done'; status: number; result: CommandResult | undefined; cmd: Command; text: string }
  | { kind: 'failed'; error: unknown; text: string };

function durationText(s: number | undefined): string {
  if (!s) return 'until released';
  return `for ${DURATIONS.find((d) => d.seconds === s)?.label.toLowerCase() ?? `${s} s`}, then sbems releases it`;
}

export function SetpointControl({ point, tz, onCommandDone }: { point: CommandablePoint; tz: string; onCommandDone?: () => void }) {
  const client = useClient();
  const { units } = usePrefs();
  const id = useId();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [value, setValue] = useState('');
  const [duration, setDuration] = useState<string>('');
  const [reason, setReason] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);

  const temp = isTemperatureUnit(point.unit);
  const shownUnit = displayUnit(point.unit, units);
  const lo = typeof point.min === 'number' ? toDisplay(point.min, point.unit, units).value : null;
  const hi = typeof point.max === 'number' ? toDisplay(point.max, point.unit, units).value : null;
  const range = lo !== null && hi !== null
    ? `Allowed: ${formatNumber(lo, 1)} to ${formatNumber(hi, 1)} ${shownUnit}`
    : lo !== null ? `At least ${formatNumber(lo, 1)} ${shownUnit}` : hi !== null ? `At most ${formatNumber(hi, 1)} ${shownUnit}` : null;

  function review(e: FormEvent) {
    e.preventDefault();
    const shown = Number(value.replace(',', '.'));
    if (value.trim() === '' || !Number.isFinite(shown)) {
      setFieldError('Enter a number.');
      return;
    }
    if ((lo !== null && shown < lo - 1e-9) || (hi !== null && shown > hi + 1e-9)) {
      setFieldError(`${range ?? 'Out of range'}.`);
      return;
    }
    setFieldError(null);
    const device = Math.round(fromDisplay(shown, point.unit, units) * 100) / 100;
    const cmd: Command = { value: device };
    if (duration) cmd.duration_s = Number(duration);
    if (reason.trim()) cmd.reason = reason.trim();
    const conv = temp && shownUnit !== point.unit ? ` (${formatNumber(device, 2)} ${point.unit} at the device)` : '';
    const text = `Set ${point.name} to ${formatNumber(shown, 1)} ${shownUnit}${conv}, ${durationText(cmd.duration_s)}.`;
    setPhase({ kind: 'confirm', cmd, text });
  }

  function askRelease() {
    setPhase({ kind: 'confirm', cmd: { value: null }, text: `Release sbems's command on ${point.name}? The device goes back to the next command holding it, or its default.` });
  }

  async function send(cmd: Command, text: string) {
    setPhase({ kind: 'pending', cmd, text });
    try {
      const r = await client.write(point.slug, cmd);
      setPhase({ kind: 'done', status: r.status, result: r.result, cmd, text });
    } catch (error) {
      setPhase({ kind: 'failed', error, text });
    } finally {
      onCommandDone?.();
    }
  }

  const fmtDevice = (v: number | null | undefined) => formatMeasure(v, point.unit, units);

  return (
    <div className="space-y-3" data-testid={`setpoint-${point.slug}`}>
      {phase.kind === 'idle' && (
        <div className="flex flex-wrap gap-2">
          <button type="button" className="btn-primary" onClick={() => setPhase({ kind: 'editing' })}>
            Change {point.name}
          </button>
          <button type="button" className="btn-secondary" onClick={askRelease}>
            Release
          </button>
        </div>
      )}

      {phase.kind === 'editing' && (
        <form onSubmit={review} className="space-y-3" aria-label={`Change ${point.name}`} noValidate>
          <div>
            <label htmlFor={`${id}-v`} className="label">
              New value{shownUnit ? ` (${shownUnit})` : ''}
            </label>
            <input id={`${id}-v`} className="input" type="text" inputMode="decimal" autoComplete="off" required
                   value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={fieldError ? true : undefined}
                   aria-describedby={`${id}-h ${fieldError ? `${id}-e` : ''}`.trim()} />
            {range && <p id={`${id}-h`} className="muted mt-1 text-xs">{range}</p>}
            {fieldError && <p id={`${id}-e`} className="mt-1 text-sm text-red-800 dark:text-red-300">{fieldError}</p>}
          </div>
          <div>
            <label htmlFor={`${id}-d`} className="label">
              Override duration
            </label>
            <select id={`${id}-d`} className="input" value={duration} onChange={(e) => setDuration(e.target.value)}>
              {DURATIONS.map((d) => (
                <option key={d.label} value={d.seconds ?? ''}>
                  {d.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor={`${id}-r`} className="label">
              Reason (optional)
            </label>
            <input id={`${id}-r`} className="input" type="text" maxLength={160} value={reason}
                   onChange={(e) => setReason(e.target.value)} />
          </div>
          <div className="flex flex-wrap gap-2">
            <button type="submit" className="btn-primary">
              Review command
            </button>
            <button type="button" className="btn-secondary" onClick={() => setPhase({ kind: 'idle' })}>
              Cancel
            </button>
          </div>
        </form>
      )}

      {phase.kind === 'confirm' && (
        <ConfirmDialog title={phase.cmd.value === null ? 'Release the command?' : 'Send this command?'}
                       confirmLabel={phase.cmd.value === null ? 'Release' : 'Send command'}
                       onCancel={() => setPhase({ kind: phase.cmd.value === null ? 'idle' : 'editing' })}
                       onConfirm={() => void send(phase.cmd, phase.text)}>
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
          {phase.status === 200 && phase.result?.result === 'dry_run' && (
            <p className="font-semibold">Dry run: sbems logged the command but did not write it.</p>
          )}
          {phase.status === 200 && phase.result?.result !== 'dry_run' && (
            <p className="font-semibold">
              {phase.cmd.value === null ? 'Released.' : `Confirmed: the device reads back ${fmtDevice(phase.result?.readback ?? phase.result?.value)}.`}
            </p>
          )}
          {phase.status === 202 && (
            <>
              <p className="font-semibold">Written, but not confirmed: the device holds something else.</p>
              <p>
                Held by: {phase.result?.holder ?? 'unknown'}
                {phase.result?.readback !== undefined && phase.result?.readback !== null && `; it reads ${fmtDevice(phase.result.readback)}`}.
              </p>
            </>
          )}
          <p className="mt-1">{phase.text}</p>
          {phase.result?.expires && <p>sbems releases it at {formatDateTime(Date.parse(phase.result.expires), tz)}.</p>}
          {phase.result?.priority !== undefined && <p className="muted">Written at priority {phase.result.priority}.</p>}
          <button type="button" className="btn-secondary mt-2" onClick={() => setPhase({ kind: 'idle' })}>
            OK
          </button>
        </div>
      )}

      {phase.kind === 'failed' && (
        <div role="alert" className="rounded-md border border-red-400 bg-red-50 p-3 text-sm text-red-950 dark:border-red-700 dark:bg-red-950 dark:text-red-50">
          <p className="font-semibold">
            {phase.error instanceof ApiError && phase.error.status === 409
              ? 'Refused.'
              : phase.error instanceof ApiError && phase.error.status === 504
                ? 'No answer from the device.'
                : 'The command was not carried out.'}
          </p>
          <p>{describeError(phase.error)}</p>
          <p className="muted mt-1">{phase.text}</p>
          <button type="button" className="btn-secondary mt-2" onClick={() => setPhase({ kind: 'idle' })}>
            OK
          </button>
        </div>
      )}
    </div>
  );
}
