/**
 * The building's control settings, as managers edit them: the mode, optimal
 * start, the optimizer, the guardrails' numbers (checked against the
 * server's bounds, src/control/settings.c), the holiday calendar
 * (iCalendar text) and per zone its mode, vacancy delay, control schedule
 * (JSON, docs/internals/control-schedule.md) and the controller's own
 * Schedule / Calendar objects that run it.  A save sends the whole
 * document (PUT replaces it; the overrides stay, the server keeps them);
 * the server's 400 names the field and is shown beside the form and, for a
 * zone's schedule, beside that zone.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { ControlSettings, CtlMode, NumField, SettingsBody, ZoneSettings } from '../../api/control';
import {
  ICAL_MAX_BYTES, MODES, MODE_TEXT, NATIVE_OBJECT, NUM_FIELDS, ZONE_VACANCY, checkNumber, putControl, refusal, refusedField,
  utf8Bytes,
} from '../../api/control';
import { useClient } from '../../auth/AuthContext';

interface ZoneDraft {
  mode: CtlMode | '';
  vacancy: string;
  schedule: string;
  /** the controller's Schedule object ("schedule:1"), '' none */
  native: string;
  /** .. and its Calendar ("calendar:1"), '' none */
  calendar: string;
}

interface Draft {
  mode: CtlMode;
  optimal_start: boolean;
  optimizer: boolean;
  nums: Record<NumField, string>;
  ical: string;
  zones: Record<string, ZoneDraft>;
}

function draftOf(s: ControlSettings, zoneIds: readonly string[]): Draft {
  const zones: Record<string, ZoneDraft> = {};
  for (const id of new Set([...zoneIds, ...Object.keys(s.zones ?? {})])) {
    const z = s.zones?.[id];
    zones[id] = {
      mode: z?.mode ?? '',
      vacancy: z?.vacancy_delay_min !== undefined ? String(z.vacancy_delay_min) : '',
      schedule: z?.schedule ? JSON.stringify(z.schedule, null, 2) : '',
      native: z?.native_schedule ?? '',
      calendar: z?.native_calendar ?? '',
    };
  }
  const nums = {} as Record<NumField, string>;
  for (const f of NUM_FIELDS) nums[f.key] = String(s[f.key] ?? (f.key === 'native_check_min' ? 60 : ''));
  return { mode: s.mode, optimal_start: s.optimal_start, optimizer: s.optimizer, nums, ical: s.holidays_ical ?? '', zones };
}

interface Checked {
  body: SettingsBody | null;
  errors: Record<string, string>;
}

/** The PUT body of a draft, or what is wrong with its fields (keyed as the server names them). */
export function bodyOf(d: Draft): Checked {
  const errors: Record<string, string> = {};
  const nums = {} as Record<NumField, number>;
  for (const f of NUM_FIELDS) {
    const r = checkNumber(d.nums[f.key], f.lo, f.hi, f.unit);
    if ('error' in r) errors[f.key] = r.error;
    else nums[f.key] = r.value;
  }
  if (utf8Bytes(d.ical) > ICAL_MAX_BYTES) errors.holidays_ical = 'At most 1 MiB of iCalendar text.';
  const zones: Record<string, ZoneSettings> = {};
  for (const [id, z] of Object.entries(d.zones)) {
    const out: ZoneSettings = {};
    if (z.mode) out.mode = z.mode;
    if (z.vacancy.trim() !== '') {
      const r = checkNumber(z.vacancy, ZONE_VACANCY.lo, ZONE_VACANCY.hi, 'min');
      if ('error' in r) errors[`zones.${id}.vacancy_delay_min`] = r.error;
      else out.vacancy_delay_min = r.value;
    }
    if (z.schedule.trim() !== '') {
      try {
        const v: unknown = JSON.parse(z.schedule);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) errors[`zones.${id}.schedule`] = 'A schedule is a JSON object.';
        else out.schedule = v;
      } catch (e) {
        errors[`zones.${id}.schedule`] = `Not valid JSON: ${(e as Error).message}`;
      }
    }
    const nat = z.native.trim(), cal = z.calendar.trim();
    if (nat && (!NATIVE_OBJECT.test(nat) || !nat.startsWith('schedule:'))) {
      errors[`zones.${id}.native_schedule`] = 'A Schedule object of the controller: "schedule:N".';
    } else if (nat) {
      out.native_schedule = nat;
    }
    if (cal && (!NATIVE_OBJECT.test(cal) || !cal.startsWith('calendar:'))) {
      errors[`zones.${id}.native_calendar`] = 'A Calendar object of the controller: "calendar:N".';
    } else if (cal && !nat) {
      errors[`zones.${id}.native_calendar`] = 'A Calendar needs the Schedule that refers to it.';
    } else if (cal) {
      out.native_calendar = cal;
    }
    if (Object.keys(out).length) zones[id] = out;
  }
  if (Object.keys(errors).length) return { body: null, errors };
  const body: SettingsBody = { mode: d.mode, optimal_start: d.optimal_start, optimizer: d.optimizer, ...nums, zones };
  if (d.ical.trim() !== '') body.holidays_ical = d.ical;
  return { body, errors };
}

/** The zone a server message is about ("zones.f1-core.schedule: ..." names f1-core; slugs may hold dots). */
function zoneOfMessage(msg: string, ids: readonly string[]): string | null {
  const m = /^zones\.(.+?)\.(schedule|mode|vacancy_delay_min|native_schedule|native_calendar)\b/.exec(msg) ??
    /^zones\.(.+?):/.exec(msg);
  if (!m?.[1]) return null;
  // the longest id the message starts with (f1.west before f1)
  const hit = ids.filter((id) => msg.startsWith(`zones.${id}.`) || msg.startsWith(`zones.${id}:`)).sort((a, b) => b.length - a.length);
  return hit[0] ?? m[1];
}

export interface ControlSettingsFormProps {
  building: string;
  settings: ControlSettings;
  zones: readonly { id: string; name: string }[];
  onSaved: (s: ControlSettings) => void;
}

export function ControlSettingsForm({ building, settings, zones, onSaved }: ControlSettingsFormProps) {
  const client = useClient();
  const uid = useId();
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings, zones.map((z) => z.id)));
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverErr, setServerErr] = useState<{ message: string; zone: string | null } | null>(null);
  const [saved, setSaved] = useState(false);
  const checked = bodyOf(draft);
  const err = (k: string) => (tried ? checked.errors[k] : undefined);
  const names = Object.fromEntries(zones.map((z) => [z.id, z.name]));
  const zoneIds = Object.keys(draft.zones);

  const set = (f: (d: Draft) => Draft) => {
    setSaved(false);
    setDraft(f);
  };
  const setZone = (id: string, patch: Partial<ZoneDraft>) =>
    set((d) => ({ ...d, zones: { ...d.zones, [id]: { ...(d.zones[id] as ZoneDraft), ...patch } } }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    setSaved(false);
    if (!checked.body) return;
    setBusy(true);
    setServerErr(null);
    putControl(client, building, checked.body)
      .then((r) => {
        setSaved(true);
        setTried(false);
        setDraft(draftOf(r.settings, zones.map((z) => z.id)));
        onSaved(r.settings);
      })
      .catch((x: unknown) => {
        const message = refusal(x);
        const field = refusedField(x);
        setServerErr({ message, zone: field?.startsWith('zones') ? zoneOfMessage(message, zoneIds) : null });
      })
      .finally(() => setBusy(false));
  };

  const nErrors = Object.keys(checked.errors).length;
  return (
    <form onSubmit={submit} noValidate aria-label="Control settings" className="grid gap-5">
      <fieldset className="grid gap-2">
        <legend className="label">Mode of the building</legend>
        {MODES.map((m) => (
          <label key={m} className="flex items-start gap-2 text-sm">
            <input type="radio" name="ctl-mode" value={m} checked={draft.mode === m} className="mt-1 h-4 w-4"
                   onChange={() => set((d) => ({ ...d, mode: m }))} />
            <span><span className="font-semibold">{MODE_TEXT[m].label}</span>: {MODE_TEXT[m].what}</span>
          </label>
        ))}
        <p className="muted text-xs">A zone's own mode can only be lower: the building's mode caps it.</p>
      </fieldset>

      <fieldset className="grid gap-3">
        <legend className="label">Sources</legend>
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" className="mt-1 h-4 w-4" checked={draft.optimal_start}
                 onChange={(e) => { const v = e.target.checked; set((d) => ({ ...d, optimal_start: v })); }} />
          <span><span className="font-semibold">Optimal start</span>: bring the occupied band in early enough to reach it when occupancy begins.</span>
        </label>
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" className="mt-1 h-4 w-4" checked={draft.optimizer}
                 onChange={(e) => { const v = e.target.checked; set((d) => ({ ...d, optimizer: v })); }} />
          <span>
            <span className="font-semibold">Optimizer</span>: follow the cost-minimising plan (re-planned every 15 minutes) where it has one.
            Needs a tariff and the zones' thermal models; a choice for comfort more than savings for now.
          </span>
        </label>
      </fieldset>

      <fieldset className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        <legend className="label">Guardrails and timing</legend>
        {NUM_FIELDS.map((f) => {
          const e = err(f.key);
          const help = `${uid}-${f.key}-help`;
          return (
            <div key={f.key} className="text-sm">
              <label className="label mb-0" htmlFor={`${uid}-${f.key}`}>{f.label} ({f.unit})</label>
              <input id={`${uid}-${f.key}`} type="number" inputMode="decimal" step="any" min={f.lo} max={f.hi} className="input mt-1"
                     value={draft.nums[f.key]} aria-invalid={!!e} aria-describedby={help}
                     onChange={(ev) => { const v = ev.target.value; set((d) => ({ ...d, nums: { ...d.nums, [f.key]: v } })); }} />
              <span id={help} className={`block text-xs ${e ? 'text-red-800 dark:text-red-300' : 'muted'}`}>
                {e ?? `${f.hint} ${f.lo} to ${f.hi} ${f.unit}.`}
              </span>
            </div>
          );
        })}
      </fieldset>

      <div className="text-sm">
        <label className="label mb-0" htmlFor={`${uid}-ical`}>Holidays and closures (iCalendar text)</label>
        <textarea id={`${uid}-ical`} className="input mt-1 h-28 font-mono text-xs" value={draft.ical} spellCheck={false}
                  placeholder={'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\nSUMMARY:Christmas\nEND:VEVENT\nEND:VCALENDAR'}
                  aria-invalid={!!err('holidays_ical')}
                  onChange={(e) => { const v = e.target.value; set((d) => ({ ...d, ical: v })); }} />
        <span className={`block text-xs ${err('holidays_ical') ? 'text-red-800 dark:text-red-300' : 'muted'}`}>
          {err('holidays_ical') ?? 'Whole days close the zones (their holiday day type); part days cut the periods. Empty: the tariff\'s holidays only.'}
        </span>
      </div>

      <fieldset className="grid gap-3">
        <legend className="label">Zones</legend>
        {zoneIds.map((id) => {
          const z = draft.zones[id] as ZoneDraft;
          const name = names[id] ?? id;
          const sErr = err(`zones.${id}.schedule`) ?? (serverErr?.zone === id ? serverErr.message : undefined);
          const vErr = err(`zones.${id}.vacancy_delay_min`);
          const nErr = err(`zones.${id}.native_schedule`) ?? err(`zones.${id}.native_calendar`);
          return (
            <div key={id} className="rounded-md border border-slate-200 p-3 dark:border-slate-700" data-testid={`zone-settings-${id}`}>
              <p className="mb-2 font-semibold">{name}</p>
              <div className="grid gap-3 sm:grid-cols-2">
                <label className="text-sm">
                  <span className="label mb-0">Mode of {name}</span>
                  <select className="input mt-1" value={z.mode}
                          onChange={(e) => setZone(id, { mode: e.target.value as CtlMode | '' })}>
                    <option value="">As the building</option>
                    {MODES.map((m) => <option key={m} value={m}>{MODE_TEXT[m].label}</option>)}
                  </select>
                </label>
                <div className="text-sm">
                  <label className="label mb-0" htmlFor={`${uid}-${id}-vac`}>Vacancy delay of {name} (min)</label>
                  <input id={`${uid}-${id}-vac`} type="number" inputMode="decimal" step="any" min={ZONE_VACANCY.lo} max={ZONE_VACANCY.hi}
                         className="input mt-1" value={z.vacancy} placeholder="as the building" aria-invalid={!!vErr}
                         onChange={(e) => setZone(id, { vacancy: e.target.value })} />
                  <span className={`block text-xs ${vErr ? 'text-red-800 dark:text-red-300' : 'muted'}`}>{vErr ?? 'Empty: the building\'s. 0 to 1440 min.'}</span>
                </div>
              </div>
              <div className="mt-3 text-sm">
                <label className="label mb-0" htmlFor={`${uid}-${id}-sched`}>Schedule of {name} (JSON)</label>
                <textarea id={`${uid}-${id}-sched`} className="input mt-1 h-40 font-mono text-xs" value={z.schedule} spellCheck={false}
                          placeholder={'{"week": {"mon-fri": [{"time": "07:00-18:00", "mode": "occupied"}], "sat,sun": "closed"}}'}
                          aria-invalid={!!sErr}
                          onChange={(e) => setZone(id, { schedule: e.target.value })} />
                <span className={`block text-xs ${sErr ? 'text-red-800 dark:text-red-300' : 'muted'}`}>
                  {sErr ?? 'Empty: built from the building\'s occupancy schedule and the zone\'s comfort bands.'}
                </span>
              </div>
              <div className="mt-3 grid gap-3 sm:grid-cols-2">
                <label className="text-sm">
                  <span className="label mb-0">Controller's Schedule object of {name}</span>
                  <input className="input mt-1 font-mono" value={z.native} placeholder="none (sbems switches occupancy)"
                         aria-invalid={!!nErr} onChange={(e) => setZone(id, { native: e.target.value })} />
                </label>
                <label className="text-sm">
                  <span className="label mb-0">Controller's Calendar object of {name}</span>
                  <input className="input mt-1 font-mono" value={z.calendar} placeholder="none (holidays in the Schedule)"
                         aria-invalid={!!nErr} onChange={(e) => setZone(id, { calendar: e.target.value })} />
                </label>
                <span className={`block text-xs sm:col-span-2 ${nErr ? 'text-red-800 dark:text-red-300' : 'muted'}`}>
                  {nErr ?? 'E.g. schedule:1 and calendar:1: sbems writes the weekly program, exception days and holidays into the controller\'s own objects, keeps them in sync, and the controller switches occupancy itself.'}
                </span>
              </div>
            </div>
          );
        })}
      </fieldset>

      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn-primary" disabled={busy}>{busy ? 'Saving…' : 'Save settings'}</button>
        {tried && nErrors > 0 && (
          <p role="alert" className="text-sm text-red-800 dark:text-red-300">
            Not saved: {nErrors === 1 ? 'one field needs' : `${nErrors} fields need`} correcting.
          </p>
        )}
        {serverErr && <p role="alert" className="text-sm text-red-800 dark:text-red-300">Not saved: {serverErr.message}</p>}
        {saved && <p role="status" className="text-sm">Saved; the control service applies it at once.</p>}
      </div>
    </form>
  );
}
