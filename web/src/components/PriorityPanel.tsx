/**
 * Who holds a commandable point: GET /points/{p}/priority reads the device's
 * priority slots now and marks sbems's own commands (by, reason, since,
 * expires; mismatch when the device no longer holds what sbems wrote).
 */
import { useClient } from '../auth/AuthContext';
import { describeError } from '../api/errors';
import { formatDateTime } from '../lib/time';
import { formatMeasure } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { ScrollRegion } from './ui';
import { useAsync } from '../lib/useAsync';

export function PriorityPanel({ slug, unit, tz, refreshKey = 0 }: { slug: string; unit: string; tz: string; refreshKey?: number }) {
  const client = useClient();
  const { units } = usePrefs();
  const pr = useAsync((signal) => client.priority(slug, signal), [slug, refreshKey]);
  const fmt = (v: number | null | undefined) => formatMeasure(v, unit, units);

  if (pr.loading && !pr.data) return <p role="status" className="muted text-sm">Reading the priority array…</p>;
  if (pr.error) {
    return (
      <p className="muted text-sm">
        Priority holders not available: {describeError(pr.error)}{' '}
        <button type="button" className="link" onClick={pr.reload}>
          Read again
        </button>
      </p>
    );
  }
  const info = pr.data;
  if (!info) return null;
  const held = info.slots.filter((s) => s.value !== null || s.ours);
  return (
    <div className="text-sm">
      <p>
        Device value: <strong>{fmt(info.present_value)}</strong>
        {info.in_control !== null ? `, in control: priority ${info.in_control}` : ', no priority holds it (default)'}
        {info.relinquish_default !== null && <span className="muted">; default {fmt(info.relinquish_default)}</span>}
      </p>
      {held.length > 0 ? (
        <ScrollRegion label="Priority slots" className="mt-2 overflow-x-auto">
          <table className="min-w-full text-left">
            <caption className="sr-only">Priority slots holding a value</caption>
            <thead className="muted text-xs uppercase">
              <tr>
                <th scope="col" className="py-1 pr-3">Priority</th>
                <th scope="col" className="py-1 pr-3">Value</th>
                <th scope="col" className="py-1 pr-3">Held by</th>
                <th scope="col" className="py-1 pr-3">Until</th>
              </tr>
            </thead>
            <tbody>
              {held.map((s) => (
                <tr key={s.priority} className="border-t border-slate-200 dark:border-slate-700">
                  <td className="py-1 pr-3 tabular-nums">
                    {s.priority}
                    {s.priority === info.in_control && <span className="ml-1 font-semibold">(in control)</span>}
                  </td>
                  <td className="py-1 pr-3 tabular-nums">{fmt(s.value)}</td>
                  <td className="py-1 pr-3">
                    {s.ours ? `sbems${s.by ? ` (${s.by})` : ''}` : 'another controller'}
                    {s.reason && <span className="muted"> — {s.reason}</span>}
                    {s.since && <span className="muted">, since {formatDateTime(Date.parse(s.since), tz)}</span>}
                    {s.mismatch && <span className="ml-1 font-semibold text-amber-800 dark:text-amber-300">device no longer holds it</span>}
                  </td>
                  <td className="py-1 pr-3">{s.expires ? formatDateTime(Date.parse(s.expires), tz) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      ) : (
        <p className="muted mt-1">No priority slot holds a value.</p>
      )}
      <button type="button" className="link mt-1" onClick={pr.reload}>
        Read again
      </button>
    </div>
  );
}
