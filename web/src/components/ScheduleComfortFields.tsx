/**
 * The comfort bands of the editor: occupied and unoccupied heating and
 * cooling setpoints in the user's scale.  sbems stores °C only, so a °F
 * entry shows the exact °C it will be saved as.
 */
import { useId } from 'react';
import { COMFORT_FIELDS, fieldCelsius } from '../lib/scheduleEdit';
import type { BandName, ComfortCheck, ComfortDraft, ComfortErrorKey, ComfortField } from '../lib/scheduleEdit';
import { formatNumber } from '../lib/units';

export interface ScheduleComfortFieldsProps {
  draft: ComfortDraft;
  check: ComfortCheck;
  /** show the editor's own errors (after a blur or a review) */
  showErrors: boolean;
  server: Partial<Record<ComfortErrorKey, string[]>>;
  disabled: boolean;
  onChange: (d: ComfortDraft) => void;
  onBlur: () => void;
}

const LABEL: Record<'heating' | 'cooling', string> = { heating: 'Heat below', cooling: 'Cool above' };
const BAND: Record<BandName, string> = { occupied: 'Occupied', unoccupied: 'Unoccupied (setback)' };

function Field({ f, p, errs }: { f: ComfortField; p: ScheduleComfortFieldsProps; errs: string[] }) {
  const id = useId();
  const sym = p.draft.unit === 'C' ? '°C' : '°F';
  const [band, kind] = f.split('.') as [BandName, 'heating' | 'cooling'];
  const c = p.draft.unit === 'F' ? fieldCelsius(p.draft, f) : null;
  const hint = c !== null ? `Saved as ${formatNumber(c, 2)} °C` : null;
  const describedBy = [hint ? `${id}-h` : '', errs.length ? `${id}-e` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div>
      <label htmlFor={id} className="label">
        <span className="sr-only">{BAND[band]} </span>{LABEL[kind]} ({sym})
      </label>
      <input id={id} className="input w-[8rem]" type="text" inputMode="decimal" autoComplete="off" disabled={p.disabled}
             value={p.draft.text[f]} aria-invalid={errs.length ? true : undefined} aria-describedby={describedBy}
             onChange={(e) => p.onChange({ ...p.draft, text: { ...p.draft.text, [f]: e.target.value } })} onBlur={p.onBlur} />
      {hint && <p id={`${id}-h`} className="muted mt-1 text-xs">{hint}</p>}
      {errs.length > 0 && (
        <p id={`${id}-e`} className="mt-1 text-sm text-red-800 dark:text-red-300">{errs.join(' ')}</p>
      )}
    </div>
  );
}

export function ScheduleComfortFields(p: ScheduleComfortFieldsProps) {
  const id = useId();
  const own = (k: ComfortErrorKey) => (p.showErrors && !p.disabled && p.check.errors[k] ? [p.check.errors[k] as string] : []);
  const errs = (k: ComfortErrorKey) => [...own(k), ...(p.server[k] ?? [])];
  return (
    <div className="space-y-3">
      {errs('comfort').length > 0 && (
        <p role="alert" className="text-sm text-red-800 dark:text-red-300">{errs('comfort').join(' ')}</p>
      )}
      {(['occupied', 'unoccupied'] as const).map((band) => {
        const bandErr = errs(band);
        const warn = p.disabled ? undefined : p.check.warnings[band];
        return (
          <fieldset key={band} aria-describedby={bandErr.length || warn ? `${id}-${band}` : undefined}>
            <legend className="mb-1 text-sm font-semibold">{BAND[band]}</legend>
            <div className="flex flex-wrap gap-3">
              {COMFORT_FIELDS.filter((f) => f.startsWith(`${band}.`)).map((f) => (
                <Field key={f} f={f} p={p} errs={errs(f)} />
              ))}
            </div>
            <div id={`${id}-${band}`}>
              {bandErr.length > 0 && <p className="mt-1 text-sm text-red-800 dark:text-red-300">{bandErr.join(' ')}</p>}
              {warn && <p className="mt-1 text-sm text-amber-900 dark:text-amber-200">Advice: {warn}</p>}
            </div>
          </fieldset>
        );
      })}
    </div>
  );
}
