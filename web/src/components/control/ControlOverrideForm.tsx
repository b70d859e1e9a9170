/**
 * Start a tenant's after-hours override: the zone gets its occupied band
 * for some hours, at tenant priority (above the optimizer, setback and
 * schedule).  The API takes the duration and a reason only; the setpoints
 * are the zone's occupied band.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { OverrideResult } from '../../api/control';
import { OVERRIDE_HOURS, REASON_MAX_BYTES, checkNumber, refusal, startOverride, utf8Bytes } from '../../api/control';
import { timeText } from '../../api/fdd';
import { useClient } from '../../auth/AuthContext';

export interface ControlOverrideFormProps {
  zones: readonly { id: string; name: string }[];
  tz: string;
  onStarted: (r: OverrideResult) => void;
}

export function ControlOverrideForm({ zones, tz, onStarted }: ControlOverrideFormProps) {
  const client = useClient();
  const id = useId();
  const [zone, setZone] = useState(zones[0]?.id ?? '');
  const [hours, setHours] = useState('2');
  const [reason, setReason] = useState('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const h = checkNumber(hours, OVERRIDE_HOURS.lo, OVERRIDE_HOURS.hi, 'hours');
  const hoursErr = 'error' in h ? h.error : null;
  const reasonErr = utf8Bytes(reason) > REASON_MAX_BYTES ? `At most ${REASON_MAX_BYTES} bytes (${utf8Bytes(reason)} now).` : null;
  const zoneErr = zone ? null : 'Choose a zone.';
  const ends = 'value' in h ? timeText(new Date(Date.now() + h.value * 3_600_000).toISOString(), tz) : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    setDone(null);
    if (!('value' in h) || reasonErr || zoneErr) return;
    setBusy(true);
    setError(null);
    startOverride(client, zone, h.value, reason.trim())
      .then((r) => {
        const name = zones.find((z) => z.id === r.zone)?.name ?? r.zone;
        setDone(`Override started in ${name} until ${timeText(r.until, tz)}.`);
        setReason('');
        setTried(false);
        onStarted(r);
      })
      .catch((err: unknown) => setError(`Not started: ${refusal(err)}`))
      .finally(() => setBusy(false));
  };

  const input = 'input mt-1';
  return (
    <form onSubmit={submit} noValidate aria-label="Start an override" className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_8rem_minmax(0,2fr)_auto] sm:items-start">
      <div className="text-sm">
        <label className="label mb-0" htmlFor={`${id}-zone`}>Zone</label>
        <select id={`${id}-zone`} className={input} value={zone} onChange={(e) => setZone(e.target.value)}>
          {zones.map((z) => <option key={z.id} value={z.id}>{z.name}</option>)}
        </select>
        {tried && zoneErr && <span className="block text-xs text-red-800 dark:text-red-300">{zoneErr}</span>}
      </div>
      <div className="text-sm">
        <label className="label mb-0" htmlFor={`${id}-hours`}>Hours</label>
        <input id={`${id}-hours`} type="number" inputMode="decimal" step={0.25} min={OVERRIDE_HOURS.lo} max={OVERRIDE_HOURS.hi}
               className={input} value={hours} onChange={(e) => setHours(e.target.value)}
               aria-invalid={tried && !!hoursErr} aria-describedby={`${id}-hours-help`} />
        <span id={`${id}-hours-help`} className={`block text-xs ${tried && hoursErr ? 'text-red-800 dark:text-red-300' : 'muted'}`}>
          {tried && hoursErr ? hoursErr : ends ? `0.25 to 12; ends about ${ends}` : '0.25 to 12'}
        </span>
      </div>
      <div className="text-sm">
        <label className="label mb-0" htmlFor={`${id}-reason`}>Reason (optional)</label>
        <input id={`${id}-reason`} type="text" className={input} value={reason} onChange={(e) => setReason(e.target.value)}
               aria-invalid={!!reasonErr} placeholder="e.g. tenant working late" />
        {reasonErr && <span className="block text-xs text-red-800 dark:text-red-300">{reasonErr}</span>}
      </div>
      <div className="sm:pt-6">
        <button type="submit" className="btn-primary w-full sm:w-auto" disabled={busy || zones.length === 0}>
          {busy ? 'Starting…' : 'Start override'}
        </button>
      </div>
      {error && <p role="alert" className="text-sm text-red-800 sm:col-span-4 dark:text-red-300">{error}</p>}
      {done && <p role="status" className="text-sm sm:col-span-4">{done}</p>}
    </form>
  );
}
