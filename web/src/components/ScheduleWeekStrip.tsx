/**
 * The week at a glance: seven rows of a 24-hour bar, occupied periods
 * filled.  The bars are decoration for sighted users; the same week is
 * written out in words for everyone (a visible summary and a per-day list
 * for screen readers), so nothing depends on seeing the fill.
 */
import { useId } from 'react';
import { DAY_END, DAY_LONG, DAY_SHORT, periodsInWords, weekInWords } from '../lib/scheduleEdit';
import type { WeekPeriods } from '../lib/scheduleEdit';

const TICKS = [0, 6, 12, 18, 24];

export function ScheduleWeekStrip({ week, title = 'The week at a glance' }: { week: WeekPeriods; title?: string }) {
  const id = useId();
  return (
    <figure aria-labelledby={`${id}-c`} className="space-y-1">
      <figcaption id={`${id}-c`} className="text-sm font-medium">
        {title}
        <span className="muted block text-xs font-normal">Filled: occupied. {weekInWords(week)}.</span>
      </figcaption>
      <ul className="sr-only">
        {week.map((d, i) => (
          <li key={DAY_LONG[i]}>{DAY_LONG[i]}: {periodsInWords(d)}</li>
        ))}
      </ul>
      <div aria-hidden="true" className="space-y-1">
        {week.map((d, i) => (
          <div key={DAY_SHORT[i]} className="flex items-center gap-2">
            <span className="w-9 shrink-0 text-xs font-medium">{DAY_SHORT[i]}</span>
            <div className="relative h-4 flex-1 overflow-hidden rounded-sm border border-slate-400 bg-slate-100 dark:border-slate-500 dark:bg-slate-800">
              {d.map(([a, b]) => (
                <div key={`${a}-${b}`} data-testid="strip-period"
                     className="absolute inset-y-0 bg-teal-700 dark:bg-teal-400"
                     style={{ left: `${(a / DAY_END) * 100}%`, width: `${((b - a) / DAY_END) * 100}%` }} />
              ))}
              {[6, 12, 18].map((h) => (
                <div key={h} className="absolute inset-y-0 border-l border-slate-400/70 dark:border-slate-500/70" style={{ left: `${(h / 24) * 100}%` }} />
              ))}
            </div>
          </div>
        ))}
        <div className="flex gap-2">
          <span className="w-9 shrink-0" />
          <div className="muted relative h-4 flex-1 text-[11px]">
            {TICKS.map((h) => (
              <span key={h} className="absolute -translate-x-1/2 first:translate-x-0 last:-translate-x-full" style={{ left: `${(h / 24) * 100}%` }}>
                {String(h).padStart(2, '0')}
              </span>
            ))}
          </div>
        </div>
      </div>
    </figure>
  );
}
