/**
 * Add an alert notification: channel, where it goes (a webhook URL or an
 * e-mail address; MQTT goes to the topic set on the server, so it asks for
 * none), building or all, least severity, when (raised, or escalated to a
 * level because nobody acknowledged it), optional quiet hours.  Checked
 * before sending (api/notify.ts says why each check); the server's 400
 * details are shown on the fields they name, any others above the button.
 */
import { useId, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { Severity } from '../api/alerts';
import { SEVERITIES } from '../api/alerts';
import { ApiError } from '../api/errors';
import type { Channel, CreatedSubscription, Draft, DraftField, NewSubscription } from '../api/notify';
import { CHANNELS, CHANNEL_TEXT, LEVELS, SERVER_FIELD, buildSubscription, emptyDraft, levelChoice, severityWords } from '../api/notify';
import type { Building } from '../api/types';
import { AdminError } from './AdminError';
import { FieldMsg } from './AdminUserFields';

export interface NotifyFormProps {
  buildings: readonly Building[];
  onCreate: (s: NewSubscription) => Promise<CreatedSubscription>;
  /** none left to add (the server keeps at most 64 a user) */
  full?: boolean;
  /** alerts.escalate_after in seconds (0: off; null: unknown), to word the levels */
  escalateAfterS?: number | null;
}

const CHANNEL_HINT: Record<Channel, string> = {
  webhook: 'sbems POSTs each alert as JSON, signed with a secret you get once.',
  email: 'One message per alert, from the address the administrator set up.',
  mqtt: 'Published on the MQTT broker sbems is set up with (QoS 1).',
};

export function NotifyForm({ buildings, onCreate, full, escalateAfterS = null }: NotifyFormProps) {
  const id = useId();
  const [d, setD] = useState<Draft>(emptyDraft);
  const [errors, setErrors] = useState<Partial<Record<DraftField, string>>>({});
  const [serverErr, setServerErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((o) => ({ ...o, [k]: v }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = buildSubscription(d);
    setErrors(r.errors);
    setServerErr(null);
    if (!r.body) return;
    setBusy(true);
    try {
      await onCreate(r.body);
      setD((o) => ({ ...emptyDraft(), channel: o.channel }));
    } catch (err) {
      const mine: Partial<Record<DraftField, string>> = {};
      const rest = err instanceof ApiError ? err.details.filter((x) => {
        const f = x.field ? SERVER_FIELD[x.field] : undefined;
        if (f && !(f === 'target' && d.channel === 'mqtt')) mine[f] = x.message;
        return !f || (f === 'target' && d.channel === 'mqtt');
      }) : [];
      setErrors(mine);
      if (!(err instanceof ApiError) || err.details.length === 0) setServerErr(err);
      else if (rest.length > 0) setServerErr(new ApiError(err.status, err.code, err.message, rest));
      else setServerErr(new Error('sbems refused some values: see the fields marked.'));
    } finally {
      setBusy(false);
    }
  }

  const described = (k: DraftField, hint?: boolean) => {
    const ids = [hint ? `${id}-${k}-h` : '', errors[k] ? `${id}-${k}-e` : ''].filter(Boolean).join(' ');
    return { ...(errors[k] ? { 'aria-invalid': true } : {}), ...(ids ? { 'aria-describedby': ids } : {}) };
  };
  const field = (k: DraftField, label: string, input: ReactNode, hint?: ReactNode) => (
    <div>
      <label className="label" htmlFor={`${id}-${k}`}>{label}</label>
      {input}
      {hint && <p id={`${id}-${k}-h`} className="muted mt-1 text-xs">{hint}</p>}
      <FieldMsg id={`${id}-${k}-e`} msg={errors[k]} />
    </div>
  );
  const zoneOf = (slug: string) => buildings.find((b) => b.id === slug)?.timezone;

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-t`} className="card grid gap-4">
      <h2 id={`${id}-t`} className="text-lg font-semibold">Add a notification</h2>
      {full && (
        <p role="note" className="text-sm font-medium">
          You have 64 notifications, the most sbems keeps for one person; delete one to add another.
        </p>
      )}

      <fieldset aria-describedby={errors.channel ? `${id}-channel-e` : undefined}>
        <legend className="label">Channel</legend>
        <div className="flex flex-wrap gap-x-6">
          {CHANNELS.map((c) => (
            <label key={c} className="flex min-h-[44px] items-center gap-2 text-sm font-medium">
              <input type="radio" name={`${id}-channel`} className="h-5 w-5" value={c} checked={d.channel === c}
                     onChange={() => { set('channel', c); setErrors((o) => ({ ...o, target: undefined })); }} />
              {CHANNEL_TEXT[c]}
            </label>
          ))}
        </div>
        <p className="muted mt-1 text-xs">{CHANNEL_HINT[d.channel]}</p>
        <FieldMsg id={`${id}-channel-e`} msg={errors.channel} />
      </fieldset>

      {d.channel === 'webhook' && field('target', 'Webhook URL',
        <input id={`${id}-target`} className="input" type="url" inputMode="url" autoComplete="url" spellCheck={false}
               placeholder="https://" value={d.target} onChange={(e) => set('target', e.target.value)} {...described('target', true)} />,
        'http:// or https:// only. sbems does not follow redirects.')}
      {d.channel === 'email' && field('target', 'E-mail address',
        <input id={`${id}-target`} className="input" type="email" inputMode="email" autoComplete="email" spellCheck={false}
               value={d.target} onChange={(e) => set('target', e.target.value)} {...described('target')} />)}
      {d.channel === 'mqtt' && (
        <p className="text-sm">
          The topic is set on the server (<code>alerts.mqtt_topic</code>, <code>sbems/alerts</code> unless changed):
          each alert goes to <code>&lt;topic&gt;/&lt;building&gt;/&lt;severity&gt;</code>, so there is nothing to enter here.
        </p>
      )}

      <div className="grid gap-4 sm:grid-cols-2">
        {field('building', 'Building',
          <select id={`${id}-building`} className="input" value={d.building} onChange={(e) => set('building', e.target.value)} {...described('building')}>
            <option value="">All your buildings</option>
            {buildings.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
          </select>)}
        {field('min_severity', 'Least severity',
          <select id={`${id}-min_severity`} className="input" value={d.min_severity}
                  onChange={(e) => set('min_severity', e.target.value as Severity | '')} {...described('min_severity')}>
            {SEVERITIES.filter((s) => s !== 'info').map((s) => <option key={s} value={s}>{cap(severityWords(s))}</option>)}
            <option value="">Every severity</option>
          </select>)}
      </div>

      {field('level', 'Escalation level',
        <select id={`${id}-level`} className="input sm:max-w-xl" value={d.level} onChange={(e) => set('level', e.target.value)} {...described('level', true)}>
          {LEVELS.map((n) => <option key={n} value={String(n)}>{levelChoice(n, escalateAfterS)}</option>)}
        </select>,
        escalateAfterS === 0
          ? 'Escalation is switched off on this sbems (alerts.escalate_after is 0): levels 1 to 3 hear nothing until an administrator sets it.'
          : 'Level 0 hears of new alerts (and ones that come back). Levels 1 to 3 hear of an alert only while nobody has acknowledged it, once that long has passed; info alerts never escalate.')}

      <fieldset aria-describedby={`${id}-quiet-h${errors.quiet ? ` ${id}-quiet-e` : ''}`}>
        <legend className="label">Quiet hours (optional)</legend>
        <p id={`${id}-quiet-h`} className="muted mb-2 text-xs">
          No notices between these times, in {d.building ? `the building's own time (${zoneOf(d.building) ?? 'its time zone'})` : "each building's own time"}.
          Both or neither; the span may cross midnight (22:00 to 06:00). 24-hour clock.
        </p>
        <div className="grid grid-cols-2 gap-4 sm:max-w-sm">
          <div>
            <label className="label" htmlFor={`${id}-qs`}>From (HH:MM)</label>
            <input id={`${id}-qs`} className="input" inputMode="numeric" autoComplete="off" placeholder="22:00" maxLength={5}
                   value={d.quiet_start} onChange={(e) => set('quiet_start', e.target.value)} {...(errors.quiet ? { 'aria-invalid': true } : {})} />
          </div>
          <div>
            <label className="label" htmlFor={`${id}-qe`}>Until (HH:MM)</label>
            <input id={`${id}-qe`} className="input" inputMode="numeric" autoComplete="off" placeholder="06:00" maxLength={5}
                   value={d.quiet_end} onChange={(e) => set('quiet_end', e.target.value)} {...(errors.quiet ? { 'aria-invalid': true } : {})} />
          </div>
        </div>
        <FieldMsg id={`${id}-quiet-e`} msg={errors.quiet} />
      </fieldset>

      {serverErr !== null && <AdminError error={serverErr} />}
      <div>
        <button type="submit" className="btn-primary" disabled={busy || full}>{busy ? 'Adding…' : 'Add notification'}</button>
      </div>
    </form>
  );
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
