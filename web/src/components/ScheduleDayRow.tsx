/**
 * One day of the week editor: its occupied periods as start/end times
 * (text fields, because the end of the day is 24:00, which a time picker
 * cannot say), add and remove, and the day's problems in words: the
 * editor's own checks and what the server answered.
 */
import { useId } from 'react';
import { DAY_LONG, MAX_PERIODS, nextPeriod } from '../lib/scheduleEdit';
import type { PeriodDraft } from '../lib/scheduleEdit';

export interface ScheduleDayRowProps {
  day: number;
  periods: PeriodDraft[];
  errors: string[];
  onChange: (periods: PeriodDraft[]) => void;
  onBlur: () => void;
}

const small = 'btn-secondary min-h-[36px] px-3 py-1';

export function ScheduleDayRow({ day, periods, errors, onChange, onBlur }: ScheduleDayRowProps) {
  const id = useId();
  const name = DAY_LONG[day] ?? '';
  const next = nextPeriod(periods);
  const set = (i: number, part: keyof PeriodDraft, v: string) =>
    onChange(periods.map((p, k) => (k === i ? { ...p, [part]: v } : p)));
  const bad = errors.length > 0;
  return (
    <fieldset className="border-t border-slate-200 py-2 dark:border-slate-700" aria-describedby={bad ? `${id}-e` : undefined}>
      <legend className="float-left w-full pb-1 text-sm font-semibold sm:w-28 sm:pb-0 sm:pt-2">{name}</legend>
      <div className="space-y-2 sm:ml-28">
        {periods.length === 0 && <p className="muted pt-2 text-sm">Closed</p>}
        {periods.map((p, i) => (
          <div key={i} className="flex flex-wrap items-end gap-2">
            <div>
              <label htmlFor={`${id}-${i}-s`} className="label text-xs">
                <span className="sr-only">{name} period {i + 1} </span>Start
              </label>
              <input id={`${id}-${i}-s`} className="input w-[6rem]" type="text" inputMode="numeric" placeholder="hh:mm"
                     autoComplete="off" value={p.start} onChange={(e) => set(i, 'start', e.target.value)} onBlur={onBlur}
                     aria-invalid={bad || undefined} aria-describedby={bad ? `${id}-e` : undefined} />
            </div>
            <span aria-hidden="true" className="pb-3">–</span>
            <div>
              <label htmlFor={`${id}-${i}-e`} className="label text-xs">
                <span className="sr-only">{name} period {i + 1} </span>End
              </label>
              <input id={`${id}-${i}-e`} className="input w-[6rem]" type="text" inputMode="numeric" placeholder="hh:mm"
                     autoComplete="off" value={p.end} onChange={(e) => set(i, 'end', e.target.value)} onBlur={onBlur}
                     aria-invalid={bad || undefined} aria-describedby={bad ? `${id}-e` : undefined} />
            </div>
            <button type="button" className={small} aria-label={`Remove ${name} period ${i + 1}`}
                    onClick={() => onChange(periods.filter((_, k) => k !== i))}>
              Remove
            </button>
          </div>
        ))}
        <div className="flex flex-wrap items-center gap-2">
          <button type="button" className={small} disabled={!next} aria-label={`Add a period on ${name}`}
                  onClick={() => next && onChange([...periods, next])}>
            Add period
          </button>
          {!next && <span className="muted text-xs">At most {MAX_PERIODS} periods a day.</span>}
        </div>
        {bad && (
          <ul id={`${id}-e`} className="space-y-0.5 text-sm text-red-800 dark:text-red-300">
            {errors.map((e, k) => <li key={k}>{e}</li>)}
          </ul>
        )}
      </div>
    </fieldset>
  );
}
