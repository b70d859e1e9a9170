/**
 * Create or edit an alert rule of any type (threshold, rate, stale,
 * offline, comfort, schedule, forecast).  What it watches is picked from the
 * building's model (points grouped by equipment, equipment, zones); the
 * schedule and forecast pickers offer only the points the server accepts
 * for them (src/api/h_alerts.c, point_unfit).  Values are typed in the
 * user's units and converted to the point's canonical unit, which is what
 * the rule stores: absolute values with the offset (60.8 °F -> 16 °C),
 * differences without it (0.9 °F -> 0.5 K), floating-point noise rounded
 * away.  Delays are typed in minutes, the comfort window in hours.  The
 * server's 400 details are shown on the fields they name.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { AlertRule, ForecastDirection, RuleInput, RuleType, Severity } from '../api/alerts';
import {
  COMFORT_DEFAULTS, FORECAST_DEFAULTS, FORECAST_DIRECTIONS, RULE_TYPES, RULE_TYPE_TEXT, SCHEDULE_DEFAULTS, SEVERITIES,
  SEVERITY_TEXT, absToCanonical, absToDisplay, clean, deltaToCanonical, deltaToDisplay, deltaUnit,
} from '../api/alerts';
import { ApiError } from '../api/errors';
import type { Equipment, Point, PointKind, Zone } from '../api/types';
import { canonicalUnit } from '../lib/model';
import { displayUnit } from '../lib/units';
import type { UnitPrefs } from '../lib/units';
import { AdminError } from './AdminError';
import { FieldMsg } from './AdminUserFields';

export interface RuleFormValues {
  id: string;
  name: string;
  type: RuleType;
  severity: Severity;
  enabled: boolean;
  message: string;
  point: string;
  equipment: string;
  zone: string;
  above: string;
  below: string;
  hysteresis: string;
  on_delay: string;
  off_delay: string;
  max_rise: string;
  max_fall: string;
  per: string;
  after: string;
  kh_limit: string;
  window: string;
  running_above: string;
  hours: string;
  direction: ForecastDirection;
}

type Field = keyof RuleFormValues;

/** The server's field names -> this form's fields. */
const SERVER_FIELD: Record<string, Field> = {
  id: 'id', name: 'name', type: 'type', severity: 'severity', enabled: 'enabled', message: 'message',
  point: 'point', equipment: 'equipment', zone: 'zone', above: 'above', below: 'below', hysteresis: 'hysteresis',
  on_delay_s: 'on_delay', off_delay_s: 'off_delay', max_rise: 'max_rise', max_fall: 'max_fall', per_s: 'per',
  after_s: 'after', kh_limit: 'kh_limit', window_s: 'window', running_above: 'running_above', hours: 'hours',
  direction: 'direction',
};

const SLUG_RE = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export interface RuleModel {
  points: readonly Point[];
  equipment: readonly Equipment[];
  zones: readonly Zone[];
}

const SCHEDULE_KINDS: ReadonlySet<PointKind> = new Set<PointKind>(['status', 'power', 'flow']);
const FORECAST_KINDS: ReadonlySet<PointKind> = new Set<PointKind>(['energy', 'power']);

/**
 * The points a rule of this type may watch, as the server decides: a
 * schedule rule a status, power or flow point of equipment serving a zone
 * with a schedule (its own zone or the zone of a box whose parent it is); a
 * forecast rule an energy or power point of a meter (the analytics service
 * judges only meters' forecasts); the others any point.
 */
export function eligiblePoints(type: RuleType, model: RuleModel): readonly Point[] {
  if (type === 'schedule') {
    const scheduled = new Set(model.zones.filter((z) => !!z.schedule).map((z) => z.id));
    const inScheduled = (e: Equipment) => !!e.zone && scheduled.has(e.zone);
    const serving = new Set(model.equipment
      .filter((e) => inScheduled(e) || model.equipment.some((b) => b.parent === e.id && inScheduled(b)))
      .map((e) => e.id));
    return model.points.filter((p) => SCHEDULE_KINDS.has(p.kind) && serving.has(p.equipment));
  }
  if (type === 'forecast') {
    const meters = new Set(model.equipment.filter((e) => e.type === 'meter').map((e) => e.id));
    return model.points.filter((p) => FORECAST_KINDS.has(p.kind) && meters.has(p.equipment));
  }
  return model.points;
}

/** What the point picker says a type accepts. */
const POINT_HINT: Partial<Record<RuleType, string>> = {
  schedule: 'Status, power or flow points of equipment serving a zone with a schedule.',
  forecast: 'Energy or power points of meters; nothing is judged until sbems forecasts the meter (after 90 days of its data).',
};

const DIRECTION_TEXT: Record<ForecastDirection, string> = {
  above: 'Above it (more energy than forecast)',
  below: 'Below it (less energy than forecast)',
  both: 'Either side',
};

const str = (v: number | null | undefined, f: (x: number) => number = (x) => x) => (typeof v === 'number' ? String(clean(f(v))) : '');

export function emptyValues(): RuleFormValues {
  return {
    id: '', name: '', type: 'threshold', severity: 'major', enabled: true, message: '', point: '', equipment: '', zone: '',
    above: '', below: '', hysteresis: '', on_delay: '5', off_delay: '2', max_rise: '', max_fall: '', per: '10',
    after: '15', kh_limit: String(COMFORT_DEFAULTS.kh_limit), window: String(COMFORT_DEFAULTS.window_s / 3600),
    running_above: String(SCHEDULE_DEFAULTS.running_above), hours: String(FORECAST_DEFAULTS.hours),
    direction: FORECAST_DEFAULTS.direction,
  };
}

/** A stored rule as the form shows it, in the user's units. */
export function valuesOf(r: AlertRule, canonical: string, pref: UnitPrefs): RuleFormValues {
  const min = (s: number) => s / 60;
  return {
    ...emptyValues(),
    id: r.id, name: r.name, type: r.type, severity: r.severity, enabled: r.enabled, message: r.message ?? '',
    point: r.point ?? '', equipment: r.equipment ?? '', zone: r.zone ?? '',
    above: str(r.above, (v) => absToDisplay(v, canonical, pref)),
    below: str(r.below, (v) => absToDisplay(v, canonical, pref)),
    hysteresis: str(r.hysteresis, (v) => deltaToDisplay(v, canonical, pref)),
    on_delay: str(r.on_delay_s, min), off_delay: str(r.off_delay_s, min),
    max_rise: str(r.max_rise, (v) => deltaToDisplay(v, canonical, pref)),
    max_fall: str(r.max_fall, (v) => deltaToDisplay(v, canonical, pref)),
    per: str(r.per_s, min), after: str(r.after_s, min),
    kh_limit: str(r.kh_limit, (v) => (pref.temp === 'F' ? v * 1.8 : v)),
    window: str(r.window_s, (s) => s / 3600),
    running_above: str(r.running_above, (v) => absToDisplay(v, canonical, pref)),
    hours: str(r.hours), direction: r.direction ?? FORECAST_DEFAULTS.direction,
  };
}

/**
 * The rule to send, or the errors found before sending.  Fields of the
 * type that are left empty are null (a merge patch then removes them).
 */
export function buildRule(v: RuleFormValues, canonical: string, pref: UnitPrefs, creating: boolean): { rule?: RuleInput; errors: Partial<Record<Field, string>> } {
  const errors: Partial<Record<Field, string>> = {};
  type NumOpt = { min?: number; max?: number; whole?: boolean; required?: boolean };
  const num = (f: Field, opt: NumOpt = {}): number | null => {
    const s = String(v[f]).trim().replace(',', '.');
    if (!s) {
      if (opt.required) errors[f] = 'Required.';
      return null;
    }
    const n = Number(s);
    if (!Number.isFinite(n)) errors[f] = 'Not a number.';
    else if (opt.whole && !Number.isInteger(n)) errors[f] = 'A whole number.';
    else if (opt.min !== undefined && n < opt.min) errors[f] = `At least ${opt.min}.`;
    else if (opt.max !== undefined && n > opt.max) errors[f] = `At most ${opt.max}.`;
    return Number.isFinite(n) ? n : null;
  };
  const seconds = (f: Field, scale: number, opt: NumOpt = {}) => {
    const n = num(f, opt);
    return n === null ? null : Math.round(n * scale);
  };
  if (creating && !SLUG_RE.test(v.id)) errors.id = 'Lower-case letters, digits and . _ - (starting with a letter or digit), at most 63.';
  const name = v.name.trim();
  if (!name || name.length > 120) errors.name = '1 to 120 characters.';
  const rule: RuleInput = { id: v.id, name, type: v.type, severity: v.severity, enabled: v.enabled, message: v.message.trim() || null };
  switch (v.type) {
    case 'threshold': {
      if (!v.point) errors.point = 'Choose a point.';
      const above = num('above');
      const below = num('below');
      if (above === null && below === null && !errors.above && !errors.below) errors.above = 'Give “above”, “below” or both.';
      if (above !== null && below !== null && above <= below) errors.above = 'Must be more than “below”.';
      const h = num('hysteresis', { min: 0 });
      Object.assign(rule, {
        point: v.point,
        above: above === null ? null : absToCanonical(above, canonical, pref),
        below: below === null ? null : absToCanonical(below, canonical, pref),
        hysteresis: h === null ? null : deltaToCanonical(h, canonical, pref),
        on_delay_s: seconds('on_delay', 60, { min: 0 }),
        off_delay_s: seconds('off_delay', 60, { min: 0 }),
      });
      break;
    }
    case 'rate': {
      if (!v.point) errors.point = 'Choose a point.';
      const rise = num('max_rise', { min: 0 });
      const fall = num('max_fall', { min: 0 });
      if (rise === null && fall === null && !errors.max_rise && !errors.max_fall) errors.max_rise = 'Give a rise, a fall or both.';
      Object.assign(rule, {
        point: v.point,
        max_rise: rise === null ? null : deltaToCanonical(rise, canonical, pref),
        max_fall: fall === null ? null : deltaToCanonical(fall, canonical, pref),
        per_s: seconds('per', 60, { min: 0, required: true }),
        on_delay_s: seconds('on_delay', 60, { min: 0 }),
        off_delay_s: seconds('off_delay', 60, { min: 0 }),
      });
      break;
    }
    case 'stale':
      if (!v.point) errors.point = 'Choose a point.';
      Object.assign(rule, { point: v.point, after_s: seconds('after', 60, { min: 0, required: true }) });
      break;
    case 'offline':
      if (!v.equipment) errors.equipment = 'Choose the equipment.';
      Object.assign(rule, { equipment: v.equipment, on_delay_s: seconds('on_delay', 60, { min: 0 }) });
      break;
    case 'comfort': {
      if (!v.zone) errors.zone = 'Choose a zone.';
      const kh = num('kh_limit', { min: 0 });
      Object.assign(rule, {
        zone: v.zone,
        kh_limit: kh === null ? null : clean(pref.temp === 'F' ? kh / 1.8 : kh),
        window_s: seconds('window', 3600, { min: 0 }),
      });
      break;
    }
    case 'schedule': {
      if (!v.point) errors.point = 'Choose a point.';
      const above = num('running_above');  // empty: the server's 0.5; a standby level may be negative
      Object.assign(rule, {
        point: v.point,
        running_above: above === null ? null : absToCanonical(above, canonical, pref),
        on_delay_s: seconds('on_delay', 60, { min: 0 }),
        off_delay_s: seconds('off_delay', 60, { min: 0 }),
      });
      break;
    }
    case 'forecast':
      if (!v.point) errors.point = 'Choose a point.';
      Object.assign(rule, {
        point: v.point,
        hours: num('hours', { whole: true, min: 1, max: FORECAST_DEFAULTS.hours_max }),
        direction: v.direction,
      });
      break;
  }
  return Object.keys(errors).length ? { errors } : { rule, errors };
}

/** The fields the form shows for a type (a server detail naming another goes above the buttons). */
export function visibleFields(type: RuleType, creating: boolean): Set<Field> {
  const f = new Set<Field>(['name', 'severity', 'message', 'enabled']);
  if (creating) f.add('id').add('type');
  const add = (...k: Field[]) => k.forEach((x) => f.add(x));
  if (type === 'threshold') add('point', 'above', 'below', 'hysteresis', 'on_delay', 'off_delay');
  if (type === 'rate') add('point', 'max_rise', 'max_fall', 'per', 'on_delay', 'off_delay');
  if (type === 'stale') add('point', 'after');
  if (type === 'offline') add('equipment', 'on_delay');
  if (type === 'comfort') add('zone', 'kh_limit', 'window');
  if (type === 'schedule') add('point', 'running_above', 'on_delay', 'off_delay');
  if (type === 'forecast') add('point', 'hours', 'direction');
  return f;
}

/** The canonical unit of the point a rule (or the form) watches; '' when none or unknown. */
export function unitOfPoint(points: readonly Point[], slug: string | null | undefined): string {
  const p = slug ? points.find((x) => x.id === slug) : undefined;
  return p ? canonicalUnit(p) : '';
}

interface Props {
  model: RuleModel;
  pref: UnitPrefs;
  /** the rule edited, or null to create one */
  rule: AlertRule | null;
  onSubmit: (r: RuleInput) => Promise<void>;
  onCancel: () => void;
}

export function AlertRuleForm({ model, pref, rule, onSubmit, onCancel }: Props) {
  const id = useId();
  const creating = rule === null;
  const [v, setV] = useState<RuleFormValues>(() => (rule ? valuesOf(rule, unitOfPoint(model.points, rule.point), pref) : emptyValues()));
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [serverErr, setServerErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const canonical = unitOfPoint(model.points, v.point);
  const shows = visibleFields(v.type, creating);
  const abs = canonical ? displayUnit(canonical, pref) : '';
  const dlt = canonical ? deltaUnit(canonical, pref) : '';
  const set = (k: Field) => (e: { target: { value: string } }) => setV((o) => ({ ...o, [k]: e.target.value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = buildRule(v, canonical, pref, creating);
    setErrors(r.errors);
    setServerErr(null);
    if (!r.rule) return;
    setBusy(true);
    try {
      await onSubmit(r.rule);
    } catch (err) {
      const mine: Partial<Record<Field, string>> = {};
      const rest: { field?: string; message: string }[] = [];
      if (err instanceof ApiError) {
        for (const d of err.details) {
          const f = d.field ? SERVER_FIELD[d.field] : undefined;
          if (f && shows.has(f)) mine[f] = d.message;
          else rest.push(d);
        }
      }
      setErrors(mine);
      if (!(err instanceof ApiError) || err.details.length === 0) setServerErr(err);
      else if (rest.length > 0) setServerErr(new ApiError(err.status, err.code, err.message, rest));
      else setServerErr(new Error('sbems refused some values: see the fields marked.'));
    } finally {
      setBusy(false);
    }
  }

  const err = (k: Field) => (errors[k] ? { 'aria-invalid': true, 'aria-describedby': `${id}-${k}-e` } : {});
  const field = (k: Field, label: string, input: ReactNode, hint?: string) => (
    <div>
      <label className="label" htmlFor={`${id}-${k}`}>{label}</label>
      {input}
      {hint && <p className="muted mt-1 text-xs">{hint}</p>}
      <FieldMsg id={`${id}-${k}-e`} msg={errors[k]} />
    </div>
  );
  const numIn = (k: Field, label: string, hint?: string) => field(k, label,
    <input id={`${id}-${k}`} className="input" inputMode="decimal" value={v[k] as string} onChange={set(k)} {...err(k)} />, hint);
  const unitNote = (u: string) => (u ? ` (${u})` : canonical || v.point ? '' : ' (choose a point first)');

  const eligible = eligiblePoints(v.type, model);
  // an edited rule keeps its point in the list even if the model no longer fits it (the server says why on save)
  const choices = v.point && !eligible.some((p) => p.id === v.point) ? [...eligible, ...model.points.filter((p) => p.id === v.point)] : eligible;
  const byEquip = model.equipment.map((eq) => ({ eq, points: choices.filter((p) => p.equipment === eq.id) })).filter((g) => g.points.length > 0);
  const pointHint = [POINT_HINT[v.type] ?? '', eligible.length === 0 ? 'No point of this building fits.' : '',
    canonical && v.type !== 'forecast' ? `Its readings are in ${canonical}; you type values in ${abs}.` : ''].filter(Boolean).join(' ');
  const pointPicker = field('point', 'Point watched',
    <select id={`${id}-point`} className="input" value={v.point} onChange={set('point')} {...err('point')}>
      <option value="">Choose a point</option>
      {byEquip.map((g) => (
        <optgroup key={g.eq.id} label={g.eq.name}>
          {g.points.map((p) => <option key={p.id} value={p.id}>{`${p.name} (${p.id})`}</option>)}
        </optgroup>
      ))}
    </select>, pointHint || undefined);
  // a point chosen for another type is dropped when it does not fit the new one
  const changeType = (type: RuleType) =>
    setV((o) => ({ ...o, type, point: eligiblePoints(type, model).some((p) => p.id === o.point) ? o.point : '' }));

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-t`} className="card grid gap-3">
      <h2 id={`${id}-t`} ref={heading} tabIndex={-1} className="text-lg font-semibold">{creating ? 'New alert rule' : `Edit ${rule.name}`}</h2>
      <div className="grid gap-3 sm:grid-cols-2">
        {field('type', 'Type',
          <select id={`${id}-type`} className="input" value={v.type} disabled={!creating}
                  onChange={(e) => changeType(e.target.value as RuleType)}>
            {RULE_TYPES.map((t) => <option key={t} value={t}>{RULE_TYPE_TEXT[t]}</option>)}
          </select>, creating ? undefined : 'The type of a rule cannot change; delete it and create another.')}
        {creating
          ? field('id', 'Rule id', <input id={`${id}-id`} className="input" value={v.id} onChange={set('id')} autoComplete="off" {...err('id')} />,
            'For example ahu-1-sat-high.')
          : <p className="text-sm"><span className="muted">Rule id: </span>{v.id}</p>}
        {field('name', 'Name', <input id={`${id}-name`} className="input" value={v.name} maxLength={120} onChange={set('name')} {...err('name')} />)}
        {field('severity', 'Severity',
          <select id={`${id}-severity`} className="input" value={v.severity} onChange={(e) => setV((o) => ({ ...o, severity: e.target.value as Severity }))}>
            {SEVERITIES.map((s) => <option key={s} value={s}>{SEVERITY_TEXT[s]}</option>)}
          </select>)}
      </div>

      <fieldset className="grid gap-3 sm:grid-cols-2">
        <legend className="label">Condition</legend>
        {shows.has('point') && <div className="sm:col-span-2">{pointPicker}</div>}
        {v.type === 'offline' && field('equipment', 'Equipment watched',
          <select id={`${id}-equipment`} className="input" value={v.equipment} onChange={set('equipment')} {...err('equipment')}>
            <option value="">Choose the equipment</option>
            {model.equipment.map((eq) => <option key={eq.id} value={eq.id}>{`${eq.name} (${eq.id})`}</option>)}
          </select>)}
        {v.type === 'comfort' && field('zone', 'Zone watched',
          <select id={`${id}-zone`} className="input" value={v.zone} onChange={set('zone')} {...err('zone')}>
            <option value="">Choose a zone</option>
            {model.zones.map((z) => <option key={z.id} value={z.id}>{`${z.name} (${z.id})`}</option>)}
          </select>)}
        {v.type === 'threshold' && <>
          {numIn('above', `Above${unitNote(abs)}`, 'Leave empty for no upper limit.')}
          {numIn('below', `Below${unitNote(abs)}`, 'Leave empty for no lower limit.')}
          {numIn('hysteresis', `Clears this much back inside${unitNote(dlt)}`)}
        </>}
        {v.type === 'rate' && <>
          {numIn('max_rise', `Rise more than${unitNote(dlt)}`)}
          {numIn('max_fall', `Fall more than${unitNote(dlt)}`)}
          {numIn('per', 'Within (minutes)')}
        </>}
        {v.type === 'stale' && numIn('after', 'No good reading for (minutes)')}
        {v.type === 'comfort' && <>
          {numIn('kh_limit', `Degree hours outside the band (${pref.temp === 'F' ? '°F·h' : 'K·h'})`)}
          {numIn('window', 'Over the last (hours)')}
        </>}
        {v.type === 'schedule' && numIn('running_above', `Running when above${unitNote(abs)}`,
          `Empty: ${SCHEDULE_DEFAULTS.running_above}, which splits a status into off and on; for power or flow give its standby level.`)}
        {v.type === 'forecast' && <>
          {numIn('hours', 'Hours in a row outside the interval',
            `Complete hours, 1 to ${FORECAST_DEFAULTS.hours_max}; empty: ${FORECAST_DEFAULTS.hours}. Judged every hour against the meter's forecast.`)}
          {field('direction', 'Side of the forecast’s 90 % interval',
            <select id={`${id}-direction`} className="input" value={v.direction} {...err('direction')}
                    onChange={(e) => setV((o) => ({ ...o, direction: e.target.value as ForecastDirection }))}>
              {FORECAST_DIRECTIONS.map((d) => <option key={d} value={d}>{DIRECTION_TEXT[d]}</option>)}
            </select>)}
        </>}
        {shows.has('on_delay') && numIn('on_delay', 'Raise after it holds for (minutes)')}
        {shows.has('off_delay') && numIn('off_delay', v.type === 'schedule'
          ? 'Clear after it has stopped or a zone is occupied for (minutes)' : 'Clear after it is back for (minutes)')}
      </fieldset>

      {field('message', 'Message (optional)',
        <input id={`${id}-message`} className="input" value={v.message} onChange={set('message')} {...err('message')} />,
        'May use {value}, {above}, {below} and {point}; empty for the default.')}
      <label className="flex min-h-[44px] items-center gap-2 text-sm font-medium">
        <input type="checkbox" className="h-5 w-5" checked={v.enabled} onChange={(e) => setV((o) => ({ ...o, enabled: e.target.checked }))} />
        Enabled
      </label>

      {serverErr !== null && <AdminError error={serverErr} />}
      <div className="flex flex-wrap gap-2">
        <button type="submit" className="btn-primary" disabled={busy}>{busy ? 'Saving…' : creating ? 'Create rule' : 'Save changes'}</button>
        <button type="button" className="btn-secondary" onClick={onCancel} disabled={busy}>Cancel</button>
      </div>
    </form>
  );
}
