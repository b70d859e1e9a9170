/**
 * What to compute savings for: baseline and reporting periods (local days),
 * the meter and the CalTRACK method.  The server computes on request (about
 * a second for two years of hourly data, not cached), so the page asks only
 * when told to.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { SavingsMethod, SavingsQuery } from '../api/analytics';
import type { DayRange } from '../lib/analytics';
import { checkPeriods, MAX_PERIOD_DAYS } from '../lib/savings';
import type { SavingsPeriods } from '../lib/savings';

export interface MeterOption {
  id: string;
  name: string;
  main: boolean;
}

function Period({ legend, value, onChange, today }: { legend: string; value: DayRange; onChange: (r: DayRange) => void; today: string }) {
  const id = useId();
  return (
    <fieldset className="flex flex-wrap items-end gap-2">
      <legend className="mb-1 text-sm font-semibold">{legend}</legend>
      <div>
        <label htmlFor={`${id}-a`} className="label">First day</label>
        <input id={`${id}-a`} type="date" className="input" value={value.start} max={today} onChange={(e) => onChange({ ...value, start: e.target.value })} />
      </div>
      <div>
        <label htmlFor={`${id}-b`} className="label">Last day</label>
        <input id={`${id}-b`} type="date" className="input" value={value.end} max={today} onChange={(e) => onChange({ ...value, end: e.target.value })} />
      </div>
    </fieldset>
  );
}

export function SavingsForm({ defaults, meters, today, busy, onCompute }: {
  defaults: SavingsPeriods;
  meters: readonly MeterOption[];
  today: string;
  busy: boolean;
  onCompute: (q: SavingsQuery) => void;
}) {
  const id = useId();
  const [baseline, setBaseline] = useState(defaults.baseline);
  const [reporting, setReporting] = useState(defaults.reporting);
  const [meter, setMeter] = useState(meters.find((m) => m.main)?.id ?? meters[0]?.id ?? '');
  const [method, setMethod] = useState<SavingsMethod>('hourly');
  const [error, setError] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const why = checkPeriods({ baseline, reporting }, today);
    setError(why);
    if (!why) onCompute({ baseline, reporting, method, ...(meter ? { meter } : {}) });
  }

  return (
    <form className="card space-y-3" onSubmit={submit} aria-label="Savings periods" noValidate>
      <p className="muted text-sm">Defaults: {defaults.why}. Local days in the building&rsquo;s time zone, both included; each period at most {MAX_PERIOD_DAYS} days.</p>
      <div className="flex flex-wrap gap-6">
        <Period legend="Baseline (before)" value={baseline} onChange={setBaseline} today={today} />
        <Period legend="Reporting period (after)" value={reporting} onChange={setReporting} today={today} />
      </div>
      <div className="flex flex-wrap items-end gap-6">
        {meters.length > 0 && (
          <div>
            <label htmlFor={`${id}-m`} className="label">Meter</label>
            <select id={`${id}-m`} className="input" value={meter} onChange={(e) => setMeter(e.target.value)}>
              {meters.map((m) => <option key={m.id} value={m.id}>{m.name}{m.main ? ' (main)' : ''}</option>)}
            </select>
          </div>
        )}
        <fieldset>
          <legend className="label">Method</legend>
          <div className="flex flex-wrap gap-4 text-sm">
            {([['hourly', 'CalTRACK hourly (prices cost savings)'], ['daily', 'CalTRACK daily']] as const).map(([m, label]) => (
              <label key={m} className="flex min-h-[44px] items-center gap-2">
                <input type="radio" name={`${id}-method`} value={m} checked={method === m} onChange={() => setMethod(m)} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" className="btn-primary" disabled={busy}>{busy ? 'Computing…' : 'Compute savings'}</button>
      </div>
      {error && <p role="alert" className="text-sm text-red-700 dark:text-red-300">{error}</p>}
    </form>
  );
}
