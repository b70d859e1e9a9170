/**
 * Live values of equipment points: numbers through LiveValue, two-state
 * points in words ("On", "Off", "Enabled" ...), and how far a value is from
 * its setpoint.  Stale values are marked with the word, as LiveValue does.
 */
import type { EqPoint } from '../api/equipment';
import { comparable, isBinary, readingUnit, stateText } from '../api/equipment';
import { useLive, useNow, useReading } from '../live/LiveContext';
import { QUALITY_FAULT } from '../live/store';
import { usePrefs } from '../lib/prefs';
import { formatAge, formatDateTime } from '../lib/time';
import { TEMP_SYMBOL, formatNumber, isTemperatureUnit } from '../lib/units';
import { LiveValue } from './LiveValue';

/** Digits for units digitsFor() does not know: airflows in L/s are whole, in m³/s they need three. */
export function digitsOf(unit: string): number | undefined {
  if (unit === 'L/s' || unit === 'cfm' || unit === 'm³/h') return 0;
  if (unit === 'm³/s') return 3;
  return undefined;
}

export function EquipState({ point, tz }: { point: EqPoint; tz: string }) {
  const id = point.point_id;
  const r = useReading(id);
  const { store } = useLive();
  const now = useNow(5000);
  if (!r || typeof id !== 'number') return <span className="muted" title="no reading yet">—</span>;
  const stale = store.stale(id, now);
  const fault = (r.q & QUALITY_FAULT) !== 0;
  const when = `${formatDateTime(r.t, tz)} (${formatAge(r.t, now)})`;
  return (
    <span className={stale ? 'italic text-slate-600 dark:text-slate-400' : ''} data-stale={stale || undefined}
          title={stale ? `stale: last reading ${when}` : `reading of ${when}`}>
      {stateText(point, r.v)}
      {stale && <span className="ml-1 align-middle text-xs font-semibold not-italic">stale</span>}
      {fault && <span className="ml-1 align-middle text-xs font-semibold">fault</span>}
    </span>
  );
}

/** A point's live value: words for two-state points (or when `state` says so), else the measure. */
export function EquipValue({ point, tz, state }: { point: EqPoint; tz: string; state?: boolean }) {
  if (state || isBinary(point)) return <EquipState point={point} tz={tz} />;
  const unit = readingUnit(point);
  return <LiveValue pointId={point.point_id} unit={unit} tz={tz} digits={digitsOf(unit)} />;
}

/**
 * " (0.4 °C above setpoint)" for temperatures (a difference: 1 °C is 1.8 °F,
 * no offset), "92 % of setpoint" for flows and pressures; nothing while
 * either value is missing or stale, or when the units cannot be compared.
 */
export function EquipDeviation({ value, setpoint }: { value: EqPoint; setpoint: EqPoint }) {
  const a = useReading(value.point_id);
  const b = useReading(setpoint.point_id);
  const { store } = useLive();
  const { units } = usePrefs();
  const now = useNow(15_000);
  if (!a || !b || typeof value.point_id !== 'number' || typeof setpoint.point_id !== 'number') return null;
  if (store.stale(value.point_id, now) || store.stale(setpoint.point_id, now)) return null;
  const ua = readingUnit(value);
  const c = comparable(a.v, ua, b.v, readingUnit(setpoint));
  if (!c) return null;
  if (isTemperatureUnit(ua)) {
    const d = (c[0] - c[1]) * (units.temp === 'F' ? 9 / 5 : 1);
    if (Math.abs(d) < 0.05) return <span> (at setpoint)</span>;
    return <span> ({formatNumber(Math.abs(d), 1)} {TEMP_SYMBOL[units.temp]} {d > 0 ? 'above' : 'below'} setpoint)</span>;
  }
  if (c[1] === 0) return null;
  return <span> ({formatNumber((100 * c[0]) / c[1], 0)} % of setpoint)</span>;
}
