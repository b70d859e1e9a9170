/**
 * An equipment's status for lists, in words: a fault point that is set,
 * else its run state (a run status, or the start/stop command's value),
 * else its connection; without any of these, how fresh its data is.  The
 * freshness line is always there: a "Running" from an hour-old reading
 * says so.
 */
import { useMemo } from 'react';
import type { EqPoint } from '../api/equipment';
import { stateText, statusPoints } from '../api/equipment';
import { useLive, useNow, usePointsVersion } from '../live/LiveContext';
import { formatDateTime } from '../lib/time';
import { Badge } from './ui';
import type { Tone } from './ui';

export function EquipStatus({ points, tz }: { points: readonly EqPoint[]; tz: string }) {
  const { store } = useLive();
  const ids = points.map((p) => p.point_id).filter((x): x is number => typeof x === 'number');
  usePointsVersion(ids);
  const now = useNow(15_000);
  const sp = useMemo(() => statusPoints(points), [points]);

  const withData = ids.filter((id) => store.get(id));
  const stale = withData.filter((id) => store.stale(id, now)).length;
  const fresh = withData.length === 0 ? 'no data yet'
    : stale === 0 ? `${withData.length}/${ids.length} points reporting`
      : stale === withData.length ? 'all data stale' : `${stale} of ${withData.length} points stale`;

  const read = (p: EqPoint | undefined) => {
    const id = p?.point_id;
    if (typeof id !== 'number') return undefined;
    const r = store.get(id);
    return r ? { r, stale: store.stale(id, now) } : undefined;
  };
  let tone: Tone = 'neutral';
  let text: string;
  let what: string | undefined;
  let when: number | undefined;
  const fault = read(sp.fault);
  const run = read(sp.run);
  const online = read(sp.online);
  if (sp.fault && fault && fault.r.v !== 0 && !fault.stale) {
    [tone, text, what, when] = ['bad', stateText(sp.fault, fault.r.v), sp.fault.name, fault.r.t];
  } else if (sp.run && run) {
    [tone, text, what, when] = [run.stale ? 'neutral' : run.r.v !== 0 ? 'good' : 'neutral',
      `${stateText(sp.run, run.r.v)}${run.stale ? ' (stale)' : ''}`, sp.run.name, run.r.t];
  } else if (sp.online && online) {
    [tone, text, what, when] = [online.stale ? 'neutral' : online.r.v !== 0 ? 'good' : 'bad',
      `${stateText(sp.online, online.r.v)}${online.stale ? ' (stale)' : ''}`, sp.online.name, online.r.t];
  } else {
    tone = withData.length === 0 ? 'neutral' : stale === withData.length ? 'bad' : stale ? 'warn' : 'good';
    text = withData.length === 0 ? 'No data' : stale === withData.length ? 'Stale' : stale ? 'Partly stale' : 'Reporting';
  }
  return (
    <p className="mt-2 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs">
      <Badge tone={tone} title={when ? formatDateTime(when, tz) : undefined}>{text}</Badge>
      <span className="muted">{what ? `${what} · ` : ''}{fresh}</span>
    </p>
  );
}
