/**
 * The weekly editor for one zone or several at once ("apply to selected"):
 * occupied periods per day, copy Monday to the weekdays, a week strip, the
 * comfort bands in the user's scale.  It checks what the server checks,
 * compacts equal days into the server's range keys, confirms the change in
 * words, then PATCHes each zone in turn and shows each zone's result; the
 * server's refusals go on the fields they concern.  Managers and admins
 * only: the page does not render it for other roles (the server checks too).
 */
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError } from '../api/errors';
import type { Zone } from '../api/types';
import { useClient } from '../auth/AuthContext';
import { usePrefs } from '../lib/prefs';
import {
  addServerDetails, checkComfort, checkWeek, comfortDraft, convertDraft, copyMondayToWeekdays, draftFromSchedule,
  emptyServerErrors, patchBody, patchZone, validPeriods,
} from '../lib/scheduleEdit';
import type { ComfortDraft, ServerErrors, WeekDraft, ZonePatch } from '../lib/scheduleEdit';
import { ConfirmDialog } from './ConfirmDialog';
import { ScheduleComfortFields } from './ScheduleComfortFields';
import { ScheduleDayRow } from './ScheduleDayRow';
import { ScheduleConfirmBody, ScheduleResults } from './ScheduleSave';
import type { ZoneResult } from './ScheduleSave';
import { ScheduleWeekStrip } from './ScheduleWeekStrip';

export interface ScheduleEditorProps {
  /** the zones the editor saves to; it starts from the first one's values */
  zones: Zone[];
  onSaved: (zone: Zone) => void;
  onClose: () => void;
}

export function ScheduleEditor({ zones, onSaved, onClose }: ScheduleEditorProps) {
  const client = useClient();
  const { tempUnit, units } = usePrefs();
  const id = useId();
  const first = zones[0];
  const [week, setWeek] = useState<WeekDraft>(() => draftFromSchedule(first?.schedule));
  const [comfort, setComfort] = useState<ComfortDraft>(() => comfortDraft(first?.comfort, tempUnit));
  const [withSchedule, setWithSchedule] = useState(true);
  const [withComfort, setWithComfort] = useState(!!first?.comfort);
  const [touched, setTouched] = useState<Set<number>>(new Set());
  const [comfortTouched, setComfortTouched] = useState(false);
  const [reviewed, setReviewed] = useState(false);
  const [confirm, setConfirm] = useState<ZonePatch | null>(null);
  const [results, setResults] = useState<Record<string, ZoneResult>>({});
  const [server, setServer] = useState<ServerErrors>(emptyServerErrors);
  const [problem, setProblem] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const saving = Object.values(results).some((r) => r.state === 'waiting' || r.state === 'pending');

  useEffect(() => heading.current?.focus(), []);
  // The user switched °C/°F while editing: same temperatures, new scale.
  useEffect(() => setComfort((d) => convertDraft(d, tempUnit)), [tempUnit]);

  const weekCheck = useMemo(() => checkWeek(week), [week]);
  const comfortCheck = useMemo(() => checkComfort(comfort), [comfort]);
  const strip = useMemo(() => validPeriods(week), [week]);

  function edited() {
    setServer(emptyServerErrors());
    setProblem(null);
  }
  function setDay(d: number, periods: WeekDraft[number]) {
    setWeek((w) => w.map((x, i) => (i === d ? periods : x)));
    edited();
  }

  function review(e: FormEvent) {
    e.preventDefault();
    setReviewed(true);
    if (!withSchedule && !withComfort) {
      setProblem('Choose what to save: the weekly schedule, the comfort bands or both.');
      return;
    }
    const bad = (withSchedule && !weekCheck.week) || (withComfort && !comfortCheck.comfort);
    if (bad) {
      setProblem('Nothing was saved: fix the problems marked below first.');
      return;
    }
    setProblem(null);
    setConfirm(patchBody(withSchedule ? weekCheck.week : null, withComfort ? comfortCheck.comfort : null));
  }

  async function save(body: ZonePatch) {
    setConfirm(null);
    setServer(emptyServerErrors());
    const several = zones.length > 1;
    let errs = emptyServerErrors();
    const res: Record<string, ZoneResult> = Object.fromEntries(zones.map((z) => [z.id, { state: 'waiting' } as ZoneResult]));
    setResults({ ...res });
    for (const z of zones) {
      res[z.id] = { state: 'pending' };
      setResults({ ...res });
      try {
        const saved = await patchZone(client, z, body);
        res[z.id] = { state: 'saved' };
        onSaved(saved);
      } catch (error) {
        res[z.id] = { state: 'failed', error };
        if (error instanceof ApiError && error.status === 400) errs = addServerDetails(errs, error.details, several ? z.name : '');
      }
      setResults({ ...res });
    }
    setServer(errs);
  }

  const showDay = (d: number) => reviewed || touched.has(d);
  const dayErrors = (d: number) => [...(withSchedule && showDay(d) ? weekCheck.dayErrors[d] ?? [] : []), ...(server.days[d] ?? [])];
  const title = zones.length === 1 ? `Edit ${first?.name ?? ''}` : `Edit ${zones.length} zones`;

  return (
    <section aria-labelledby={`${id}-t`} className="card space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <h2 id={`${id}-t`} ref={heading} tabIndex={-1} className="text-lg font-semibold">{title}</h2>
          {zones.length > 1 && (
            <p className="muted text-sm">
              {zones.map((z) => z.name).join(', ')}. The editor starts from {first?.name}&apos;s values; saving sets the
              same week and bands on every one of them.
            </p>
          )}
        </div>
        <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={onClose} disabled={saving}>
          Close editor
        </button>
      </div>

      <form onSubmit={review} noValidate className="space-y-4" aria-label={title}>
        <fieldset>
          <legend className="mb-1 text-sm font-semibold">What to save</legend>
          <div className="flex flex-wrap gap-x-6 gap-y-1">
            <label className="flex min-h-[44px] items-center gap-2 text-sm">
              <input type="checkbox" className="h-5 w-5" checked={withSchedule} onChange={(e) => { setWithSchedule(e.target.checked); edited(); }} />
              Weekly schedule
            </label>
            <label className="flex min-h-[44px] items-center gap-2 text-sm">
              <input type="checkbox" className="h-5 w-5" checked={withComfort} onChange={(e) => { setWithComfort(e.target.checked); edited(); }} />
              Comfort bands
            </label>
          </div>
        </fieldset>

        <fieldset disabled={!withSchedule} className="space-y-3 disabled:opacity-60">
          <legend className="mb-1 text-base font-semibold">Occupied periods (building local time)</legend>
          <p className="muted text-sm">
            Times are hh:mm; a period ends at 24:00 at the latest and cannot cross midnight. A day without periods is closed.
          </p>
          <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => { setWeek(copyMondayToWeekdays); edited(); }}>
            Copy Monday to weekdays
          </button>
          {server.schedule.length > 0 && (
            <ul className="text-sm text-red-800 dark:text-red-300">{server.schedule.map((m, k) => <li key={k}>{m}</li>)}</ul>
          )}
          <div>
            {week.map((periods, d) => (
              <ScheduleDayRow key={d} day={d} periods={periods} errors={dayErrors(d)}
                              onChange={(p) => setDay(d, p)} onBlur={() => setTouched((t) => new Set(t).add(d))} />
            ))}
          </div>
          <ScheduleWeekStrip week={strip} />
        </fieldset>

        <fieldset disabled={!withComfort} className="disabled:opacity-60">
          <legend className="mb-1 text-base font-semibold">Comfort bands</legend>
          <p className="muted mb-2 text-sm">Heat below the heating setpoint, cool above the cooling one. The unoccupied band must contain the occupied band.</p>
          <ScheduleComfortFields draft={comfort} check={comfortCheck} showErrors={reviewed || comfortTouched} server={server.comfort}
                                 disabled={!withComfort} onChange={(d) => { setComfort(d); edited(); }} onBlur={() => setComfortTouched(true)} />
        </fieldset>

        {server.other.length > 0 && (
          <ul className="text-sm text-red-800 dark:text-red-300">{server.other.map((m, k) => <li key={k}>{m}</li>)}</ul>
        )}
        {problem && <p role="alert" className="text-sm font-medium text-red-800 dark:text-red-300">{problem}</p>}
        <button type="submit" className="btn-primary" disabled={saving}>
          {saving ? 'Saving…' : zones.length === 1 ? 'Review and save' : `Review and save to ${zones.length} zones`}
        </button>
      </form>

      <ScheduleResults zones={zones} results={results} />

      {confirm && (
        <ConfirmDialog title={zones.length === 1 ? 'Save this schedule?' : `Save to ${zones.length} zones?`}
                       confirmLabel="Save" onCancel={() => setConfirm(null)} onConfirm={() => void save(confirm)}>
          <ScheduleConfirmBody zones={zones} body={confirm} units={units} />
        </ConfirmDialog>
      )}
    </section>
  );
}
