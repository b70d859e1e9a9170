/**
 * Saving schedules: the confirmation's text (each zone with its change in
 * words) and the per-zone results, so that one zone's failure never hides
 * another's success.
 */
import type { Zone } from '../api/types';
import { ApiError, describeError } from '../api/errors';
import { comfortInWords, placeDetail, scheduleInWords } from '../lib/scheduleEdit';
import type { ZonePatch } from '../lib/scheduleEdit';
import type { UnitPref } from '../lib/units';

export type ZoneResult =
  | { state: 'waiting' }
  | { state: 'pending' }
  | { state: 'saved' }
  | { state: 'failed'; error: unknown };

function change(label: string, before: string, after: string): string {
  return before === after ? `${label}: unchanged (${after})` : `${label}: ${before} → ${after}`;
}

/** The lines that say what a save changes on one zone. */
export function changeLines(zone: Zone, body: ZonePatch, units: UnitPref): string[] {
  const out: string[] = [];
  if (body.schedule) out.push(change('Schedule', scheduleInWords(zone.schedule), scheduleInWords(body.schedule)));
  if (body.comfort) out.push(change('Comfort', comfortInWords(zone.comfort, units), comfortInWords(body.comfort, units)));
  return out;
}

export function ScheduleConfirmBody({ zones, body, units }: { zones: Zone[]; body: ZonePatch; units: UnitPref }) {
  return (
    <>
      <p>
        Save to {zones.length === 1 ? 'this zone' : `these ${zones.length} zones`}, one after the other:
      </p>
      <ul className="mt-2 max-h-64 space-y-2 overflow-y-auto pr-1">
        {zones.map((z) => (
          <li key={z.id}>
            <span className="font-semibold">{z.name}</span>
            <ul className="ml-4 list-disc">
              {changeLines(z, body, units).map((l) => <li key={l}>{l}</li>)}
            </ul>
          </li>
        ))}
      </ul>
    </>
  );
}

/** The error in words; a refusal's details without the server's "zones[3] "id":" prefix. */
function failure(error: unknown): string {
  if (error instanceof ApiError && error.status === 400 && error.details.length) {
    return `Please check: ${error.details.map((d) => placeDetail(d).message).join('; ')}.`;
  }
  return describeError(error);
}

const WORDS: Record<ZoneResult['state'], string> = {
  waiting: 'waiting',
  pending: 'saving…',
  saved: 'saved',
  failed: 'not saved',
};

export function ScheduleResults({ zones, results }: { zones: Zone[]; results: Record<string, ZoneResult> }) {
  const list = zones.filter((z) => results[z.id]);
  if (list.length === 0) return null;
  const saved = list.filter((z) => results[z.id]?.state === 'saved').length;
  const failed = list.filter((z) => results[z.id]?.state === 'failed').length;
  const busy = list.some((z) => ['waiting', 'pending'].includes(results[z.id]?.state ?? ''));
  const tone = failed
    ? 'border-red-400 bg-red-50 text-red-950 dark:border-red-700 dark:bg-red-950 dark:text-red-50'
    : busy
      ? 'border-slate-300 dark:border-slate-600'
      : 'border-emerald-400 bg-emerald-50 text-emerald-950 dark:border-emerald-700 dark:bg-emerald-950 dark:text-emerald-50';
  return (
    <div role="status" className={`rounded-md border p-3 text-sm ${tone}`}>
      <p className="font-semibold">
        {busy ? `Saving… ${saved} of ${list.length} saved so far.` : `${saved} of ${list.length} ${list.length === 1 ? 'zone' : 'zones'} saved${failed ? `, ${failed} not saved` : ''}.`}
      </p>
      <ul className="mt-1 space-y-1">
        {list.map((z) => {
          const r = results[z.id] as ZoneResult;
          return (
            <li key={z.id}>
              {z.name}: <span className="font-medium">{WORDS[r.state]}</span>
              {r.state === 'failed' && <> — {failure(r.error)}</>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
