/**
 * Create or edit a report definition (managers): name, id (new only: it is
 * the key, and PUT must keep it), frequency, formats, e-mail list, webhook
 * URL, periods kept, optional savings baseline (two local days) and on/off.
 * Checked before sending (api/reports.ts: the server's own rules); the
 * server's 400 message names its field and is shown as is beside it, a 409
 * (the id is taken) on the id.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { useClient } from '../auth/AuthContext';
import { ApiError } from '../api/errors';
import {
  EMAIL_MAX_COUNT, FORMAT_TEXT, FREQUENCIES, FREQUENCY_WORDS, KEEP_MAX, REPORT_FORMATS, buildReport, createReport, draftOf,
  emptyDraft, fieldOf, putReport, slugOf,
} from '../api/reports';
import type { Report, ReportDraft, ReportField, SavedReport } from '../api/reports';
import { AdminError } from './AdminError';

export interface ReportFormProps {
  building: string;
  tz: string;
  /** null: a new report */
  initial: Report | null;
  onSaved: (r: SavedReport, created: boolean) => void;
  onCancel: () => void;
}

function FieldMsg({ id, msg }: { id: string; msg?: string }) {
  return msg ? <p id={id} className="mt-1 text-sm font-medium text-red-800 [overflow-wrap:anywhere] dark:text-red-300">{msg}</p> : null;
}

export function ReportForm({ building, tz, initial, onSaved, onCancel }: ReportFormProps) {
  const client = useClient();
  const id = useId();
  const head = useRef<HTMLHeadingElement>(null);
  const [d, setD] = useState<ReportDraft>(() => (initial ? draftOf(initial) : emptyDraft()));
  const [idTouched, setIdTouched] = useState(initial !== null);
  const [errors, setErrors] = useState<Partial<Record<ReportField, string>>>({});
  const [serverErr, setServerErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => head.current?.focus(), []);

  const set = <K extends keyof ReportDraft>(k: K, v: ReportDraft[K]) => setD((o) => ({ ...o, [k]: v }));
  const setName = (name: string) => setD((o) => ({ ...o, name, ...(idTouched ? {} : { id: slugOf(name) }) }));
  const toggleFormat = (f: (typeof REPORT_FORMATS)[number]) =>
    set('formats', d.formats.includes(f) ? d.formats.filter((x) => x !== f) : [...d.formats, f]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setServerErr(null);
    const { body, errors: errs } = buildReport(d, building);
    setErrors(errs);
    if (!body) return;
    setBusy(true);
    try {
      const saved = initial ? await putReport(client, body) : await createReport(client, body);
      onSaved(saved, !initial);
    } catch (err) {
      const f = fieldOf(err);
      if (err instanceof ApiError && err.status === 409 && !initial) {
        setErrors({ id: `A report with this id already exists (ids are shared by all buildings); choose another id. sbems said: ${err.message}` });
      } else if (err instanceof ApiError && err.status === 400 && f) {
        // the server's words, as it wrote them: they name the field ("keep: 1..100 periods kept for download")
        setErrors({ [f]: err.details.find((x) => x.field === f)?.message ?? err.message });
        setServerErr(new Error('sbems refused a value: see the field marked.'));
      } else {
        setServerErr(err instanceof ApiError && err.status === 400 && err.message && err.details.length === 0
          ? new Error(`sbems refused the report: ${err.message}`) : err);
      }
    } finally {
      setBusy(false);
    }
  }

  const described = (k: ReportField, hint?: boolean) => {
    const ids = [hint ? `${id}-${k}-h` : '', errors[k] ? `${id}-${k}-e` : ''].filter(Boolean).join(' ');
    return { ...(errors[k] ? { 'aria-invalid': true } : {}), ...(ids ? { 'aria-describedby': ids } : {}) };
  };
  const field = (k: ReportField, label: string, input: ReactNode, hint?: ReactNode) => (
    <div>
      <label className="label" htmlFor={`${id}-${k}`}>{label}</label>
      {input}
      {hint && <p id={`${id}-${k}-h`} className="muted mt-1 text-xs">{hint}</p>}
      <FieldMsg id={`${id}-${k}-e`} msg={errors[k]} />
    </div>
  );
  const title = initial ? `Edit “${initial.name}”` : 'New report';

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-t`} className="card mb-6 grid gap-4">
      <h2 id={`${id}-t`} ref={head} tabIndex={-1} className="text-lg font-semibold [overflow-wrap:anywhere]">{title}</h2>

      <div className="grid gap-4 sm:grid-cols-2">
        {field('name', 'Name',
          <input id={`${id}-name`} className="input" autoComplete="off" maxLength={200} value={d.name}
                 onChange={(e) => setName(e.target.value)} {...described('name')} />)}
        {initial
          ? <div><p className="label">Id</p><p className="min-h-[44px] py-2 text-sm"><code>{initial.id}</code> (the id stays; delete and create again to change it)</p></div>
          : field('id', 'Id',
            <input id={`${id}-id`} className="input" autoComplete="off" spellCheck={false} value={d.id}
                   onChange={(e) => { setIdTouched(true); set('id', e.target.value); }} {...described('id', true)} />,
            'Made from the name unless you change it: lower-case letters, digits and - _ . (unique across all buildings).')}
      </div>

      <fieldset aria-describedby={errors.frequency ? `${id}-frequency-e` : undefined}>
        <legend className="label">Frequency</legend>
        <div className="grid gap-x-6 sm:grid-cols-3">
          {FREQUENCIES.map((f) => (
            <label key={f} className="flex min-h-[44px] items-center gap-2 text-sm">
              <input type="radio" name={`${id}-frequency`} className="h-5 w-5 shrink-0" value={f} checked={d.frequency === f}
                     onChange={() => set('frequency', f)} />
              {FREQUENCY_WORDS[f]}
            </label>
          ))}
        </div>
        <p className="muted mt-1 text-xs">Periods and times are the building&rsquo;s local days ({tz}).</p>
        <FieldMsg id={`${id}-frequency-e`} msg={errors.frequency} />
      </fieldset>

      <fieldset aria-describedby={errors.formats ? `${id}-formats-e` : undefined}>
        <legend className="label">Formats</legend>
        <div className="flex flex-wrap gap-x-6">
          {REPORT_FORMATS.map((f) => (
            <label key={f} className="flex min-h-[44px] items-center gap-2 text-sm font-medium">
              <input type="checkbox" className="h-5 w-5" checked={d.formats.includes(f)} onChange={() => toggleFormat(f)} />
              {FORMAT_TEXT[f]}
            </label>
          ))}
        </div>
        <FieldMsg id={`${id}-formats-e`} msg={errors.formats} />
      </fieldset>

      <div className="grid gap-4 sm:grid-cols-2">
        {field('email', 'E-mail to (optional)',
          <textarea id={`${id}-email`} className="input" rows={3} spellCheck={false} autoComplete="off" value={d.email}
                    onChange={(e) => set('email', e.target.value)} {...described('email', true)} />,
          `One address a line, at most ${EMAIL_MAX_COUNT}; each gets every file attached.`)}
        {field('webhook', 'Webhook URL (optional)',
          <input id={`${id}-webhook`} className="input" type="url" inputMode="url" spellCheck={false} autoComplete="off"
                 placeholder="https://" value={d.webhook} onChange={(e) => set('webhook', e.target.value)} {...described('webhook', true)} />,
          initial?.webhook
            ? 'Gets the JSON report, signed. The same URL keeps its secret; a new URL gets a new secret, shown once after saving. Empty: no webhook.'
            : 'Gets the JSON report, signed with a secret shown once after saving. http:// or https://; empty for none.')}
      </div>

      <div className="grid gap-4 sm:grid-cols-2">
        {field('keep', 'Periods kept for download',
          <input id={`${id}-keep`} className="input sm:max-w-[10rem]" type="number" inputMode="numeric" min={1} max={KEEP_MAX} step={1}
                 value={d.keep} onChange={(e) => set('keep', e.target.value)} {...described('keep', true)} />,
          `1 to ${KEEP_MAX}; older files are removed.`)}
        <div className="flex items-end">
          <label className="flex min-h-[44px] items-center gap-2 text-sm font-medium">
            <input type="checkbox" className="h-5 w-5" checked={d.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            On: make and send it after each period
          </label>
        </div>
      </div>

      <fieldset aria-describedby={`${id}-baseline-h${errors.baseline ? ` ${id}-baseline-e` : ''}`}>
        <legend className="label">Savings baseline (optional)</legend>
        <p id={`${id}-baseline-h`} className="muted mb-2 text-xs">
          Local days before an energy measure, at least 300 days (a year is usual): the report then shows savings against it
          (CalTRACK hourly). Both or neither.
        </p>
        <div className="grid grid-cols-2 gap-4 sm:max-w-md">
          <div>
            <label className="label" htmlFor={`${id}-bf`}>First day</label>
            <input id={`${id}-bf`} className="input" type="date" value={d.baselineFrom} onChange={(e) => set('baselineFrom', e.target.value)}
                   {...(errors.baseline ? { 'aria-invalid': true } : {})} />
          </div>
          <div>
            <label className="label" htmlFor={`${id}-bt`}>Last day</label>
            <input id={`${id}-bt`} className="input" type="date" value={d.baselineTo} onChange={(e) => set('baselineTo', e.target.value)}
                   {...(errors.baseline ? { 'aria-invalid': true } : {})} />
          </div>
        </div>
        <FieldMsg id={`${id}-baseline-e`} msg={errors.baseline} />
      </fieldset>

      {errors.enabled && <FieldMsg id={`${id}-enabled-e`} msg={errors.enabled} />}
      {serverErr !== null && <AdminError error={serverErr} />}
      <div className="flex flex-wrap gap-2">
        <button type="submit" className="btn-primary" disabled={busy}>
          {busy ? 'Saving…' : initial ? 'Save changes' : 'Create report'}
        </button>
        <button type="button" className="btn-secondary" onClick={onCancel} disabled={busy}>Cancel</button>
      </div>
    </form>
  );
}
