/**
 * The Analytics page's period: a preset (last 14 days, 8 weeks, 12 months)
 * or a custom range of local days, and the granularity (day, week, month).
 * Changing the granularity only regroups the data already loaded.
 */
import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import { checkRange, MAX_RANGE_DAYS } from '../lib/analytics';
import type { DayRange, Granularity, Preset } from '../lib/analytics';

const PRESETS: { p: Exclude<Preset, 'custom'>; label: string }[] = [
  { p: '14d', label: 'Last 14 days' },
  { p: '8w', label: 'Last 8 weeks' },
  { p: '12mo', label: 'Last 12 months' },
];

const GRANULARITIES: { g: Granularity; label: string }[] = [
  { g: 'day', label: 'Day' },
  { g: 'week', label: 'Week' },
  { g: 'month', label: 'Month' },
];

function Toggle({ on, onClick, children }: { on: boolean; onClick: () => void; children: string }) {
  return (
    <button type="button" aria-pressed={on} onClick={onClick}
            className={on ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}>
      {children}
    </button>
  );
}

export interface PeriodPickerProps {
  preset: Preset;
  range: DayRange;
  granularity: Granularity;
  /** the building's local today ("YYYY-MM-DD"): the latest day a range can end */
  today: string;
  onPreset: (p: Exclude<Preset, 'custom'>) => void;
  onCustom: (r: DayRange) => void;
  onGranularity: (g: Granularity) => void;
}

export function AnalyticsPeriodPicker({ preset, range, granularity, today, onPreset, onCustom, onGranularity }: PeriodPickerProps) {
  const id = useId();
  const [start, setStart] = useState(range.start);
  const [end, setEnd] = useState(range.end);
  const [error, setError] = useState<string | null>(null);
  // the fields show the range in force (a preset's days too), ready to adjust
  useEffect(() => {
    setStart(range.start);
    setEnd(range.end);
  }, [range.start, range.end]);

  function apply(e: FormEvent) {
    e.preventDefault();
    const r = { start, end: end > today ? today : end };
    const why = checkRange(r, today);
    setError(why);
    if (!why) onCustom(r);
  }

  return (
    <div className="card mb-4 space-y-3">
      <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Period">
        <span className="text-sm font-medium">Period</span>
        {PRESETS.map(({ p, label }) => (
          <Toggle key={p} on={preset === p} onClick={() => { setError(null); onPreset(p); }}>{label}</Toggle>
        ))}
      </div>
      <form className="flex flex-wrap items-end gap-2" onSubmit={apply} aria-label="Custom range" noValidate>
        <div>
          <label htmlFor={`${id}-from`} className="label">First day</label>
          <input id={`${id}-from`} type="date" className="input" value={start} max={today}
                 onChange={(e) => setStart(e.target.value)} aria-describedby={`${id}-hint`} />
        </div>
        <div>
          <label htmlFor={`${id}-to`} className="label">Last day</label>
          <input id={`${id}-to`} type="date" className="input" value={end} max={today}
                 onChange={(e) => setEnd(e.target.value)} aria-describedby={`${id}-hint`} />
        </div>
        <button type="submit" className="btn-secondary" aria-pressed={preset === 'custom'}>Show custom range</button>
        <p id={`${id}-hint`} className="muted w-full text-xs">
          Local days in the building's time zone, both included; at most {MAX_RANGE_DAYS} days.
        </p>
        {error && <p role="alert" className="w-full text-sm text-red-700 dark:text-red-300">{error}</p>}
      </form>
      <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Granularity">
        <span className="text-sm font-medium">Per</span>
        {GRANULARITIES.map(({ g, label }) => (
          <Toggle key={g} on={granularity === g} onClick={() => onGranularity(g)}>{label}</Toggle>
        ))}
        <span className="muted text-xs">weeks run Monday to Sunday</span>
      </div>
    </div>
  );
}
