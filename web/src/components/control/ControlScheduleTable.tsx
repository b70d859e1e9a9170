/**
 * A zone's control schedule as a table: each day (or day set) of the week
 * with its periods, their mode and setpoints; then the holidays and the
 * exceptions.  The server answers the canonical form (every day, every
 * period with its band), but a day set such as "mon-fri" reads too.
 */
import type { ControlSchedule, SchedDay } from '../../api/control';
import { STATE_TEXT } from '../../api/control';
import { usePrefs } from '../../lib/prefs';
import { formatMeasure } from '../../lib/units';
import { ScrollRegion } from '../ui';

const DAY_ORDER = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_TEXT: Record<string, string> = {
  mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday', daily: 'Every day',
};

function dayRank(key: string): number {
  const i = DAY_ORDER.indexOf(key.slice(0, 3));
  return i < 0 ? 99 : i;
}

export function DayCell({ day }: { day: SchedDay | undefined }) {
  const { units } = usePrefs();
  if (day === undefined || day === 'closed' || (Array.isArray(day) && day.length === 0)) {
    return <span className="muted">Closed (unoccupied all day)</span>;
  }
  if (!Array.isArray(day)) return <span className="muted">{String(day)}</span>;
  return (
    <ul className="grid gap-0.5">
      {day.map((p) => {
        const band = [p.heating, p.cooling].every((v) => typeof v === 'number')
          ? `${formatMeasure(p.heating, '°C', units)} – ${formatMeasure(p.cooling, '°C', units)}`
          : typeof p.heating === 'number' ? `heating ${formatMeasure(p.heating, '°C', units)}`
            : typeof p.cooling === 'number' ? `cooling ${formatMeasure(p.cooling, '°C', units)}` : '';
        return (
          <li key={p.time} className="tabular-nums">
            <span className="font-medium">{p.time}</span> {STATE_TEXT[p.mode ?? 'occupied'] ?? p.mode}
            {band && <span className="muted"> ({band})</span>}
          </li>
        );
      })}
    </ul>
  );
}

export function ControlScheduleTable({ zoneName, schedule }: { zoneName: string; schedule: ControlSchedule }) {
  const { units } = usePrefs();
  const week = Object.entries(schedule.week ?? {}).sort((a, b) => dayRank(a[0]) - dayRank(b[0]));
  const bands = Object.entries(schedule.setpoints ?? {});
  const holidays = schedule.holidays ?? [];
  const exceptions = schedule.exceptions ?? [];
  return (
    <div className="grid gap-2 text-sm">
      <ScrollRegion label={`Weekly schedule of ${zoneName}`} className="overflow-x-auto">
        <table className="w-full text-left">
          <caption className="sr-only">Weekly schedule of {zoneName}</caption>
          <thead>
            <tr className="border-b border-slate-200 dark:border-slate-700">
              <th scope="col" className="py-1 pr-3">Day</th>
              <th scope="col" className="py-1">Periods (outside them: unoccupied)</th>
            </tr>
          </thead>
          <tbody>
            {week.length === 0 && (
              <tr><td colSpan={2} className="muted py-1">No weekly program: every day closed.</td></tr>
            )}
            {week.map(([k, d]) => (
              <tr key={k} className="border-b border-slate-100 align-top dark:border-slate-800">
                <th scope="row" className="py-1 pr-3 font-medium">{DAY_TEXT[k] ?? k}</th>
                <td className="py-1"><DayCell day={d} /></td>
              </tr>
            ))}
            <tr className="align-top">
              <th scope="row" className="py-1 pr-3 font-medium">Holidays</th>
              <td className="py-1"><DayCell day={schedule.holiday ?? 'closed'} /></td>
            </tr>
          </tbody>
        </table>
      </ScrollRegion>
      {bands.length > 0 && (
        <p className="muted">
          Bands:{' '}
          {bands.map(([m, b], i) => (
            <span key={m}>
              {i > 0 && '; '}
              {STATE_TEXT[m] ?? m} {formatMeasure(b?.heating, '°C', units)} – {formatMeasure(b?.cooling, '°C', units)}
            </span>
          ))}
        </p>
      )}
      <p className="muted">
        {holidays.length === 0 ? 'No holidays of its own.' : `Holidays: ${holidays.join(', ')}.`}{' '}
        {exceptions.length === 0 ? 'No exceptions.' : `Exceptions: ${exceptions.map((e) => `${e.date} (${e.periods === 'closed' ? 'closed' : `${e.periods.length} ${e.periods.length === 1 ? 'period' : 'periods'}`})`).join(', ')}.`}
      </p>
    </div>
  );
}
