/**
 * Reports and exports: any points of a building over any period, as CSV,
 * Excel or JSON, built by sbems (GET /api/v1/export: time-aligned columns,
 * one per point, with units; rollup buckets or raw readings).  Charts carry
 * the same export for their own data; this page is for the table a facility
 * manager or an auditor asks for ("every zone temperature of floor 2, hourly,
 * last month").  Periods are entered in the building's time zone.
 */
import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useClient } from '../auth/AuthContext';
import { describeError } from '../api/errors';
import type { Building, Equipment, Point } from '../api/types';
import { saveBlob } from '../components/ExportMenu';
import type { ExportFormat } from '../components/ExportMenu';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { equipmentTypeName } from '../lib/model';
import { safeZone, startOfZonedDay, zoneAbbreviation, zonedParts, zonedToUtc } from '../lib/time';
import { useAsync } from '../lib/useAsync';

/** The API's limit of points per export (src/api/h_data.c, EXPORT_POINTS). */
export const MAX_POINTS = 100;
const DAY = 86_400_000;

const RESOLUTIONS = [
  { v: 'raw', label: 'Every reading' },
  { v: '1m', label: '1 minute' },
  { v: '15m', label: '15 minutes' },
  { v: '1h', label: 'Hourly' },
  { v: '1d', label: 'Daily' },
  { v: '1mo', label: 'Monthly' },
] as const;

type Preset = 'today' | 'yesterday' | '7d' | '30d' | 'custom';

/** "2026-11-27T08:00" in tz -> ms, or null when not a date-time. */
export function parseLocal(s: string, tz: string): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return null;
  return zonedToUtc(y, mo, d, h, mi, tz);
}

/** ms -> "2026-11-27T08:00" as the wall clock in tz reads it (for datetime-local inputs). */
export function formatLocal(ms: number, tz: string): string {
  const p = zonedParts(ms, tz);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(Math.floor(p.minute / 60))}:${pad(p.minute % 60)}`;
}

/** The period a preset names, in tz, at now. */
export function presetRange(p: Exclude<Preset, 'custom'>, now: number, tz: string): [number, number] {
  const today = startOfZonedDay(now, tz);
  switch (p) {
    case 'today': return [today, now];
    // the day before local midnight: found through the wall clock, so a 23 h or 25 h day is right
    case 'yesterday': return [startOfZonedDay(today - 1, tz), today];
    case '7d': return [startOfZonedDay(today - 6 * DAY + DAY / 2, tz), now];
    case '30d': return [startOfZonedDay(today - 29 * DAY + DAY / 2, tz), now];
  }
}

function PointPicker({ equipment, points, chosen, toggle, setMany }: {
  equipment: Equipment[]; points: Point[]; chosen: Set<string>;
  toggle: (id: string) => void; setMany: (ids: string[], on: boolean) => void;
}) {
  const [filter, setFilter] = useState('');
  const groups = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const byEq = new Map<string, Point[]>();
    for (const p of points) {
      if (f && !`${p.id} ${p.name} ${p.kind}`.toLowerCase().includes(f)) continue;
      const l = byEq.get(p.equipment) ?? [];
      l.push(p);
      byEq.set(p.equipment, l);
    }
    return equipment.filter((e) => byEq.has(e.id)).map((e) => ({ e, pts: byEq.get(e.id) ?? [] }));
  }, [equipment, points, filter]);

  return (
    <fieldset className="space-y-3">
      <legend className="label">Points ({chosen.size} of at most {MAX_POINTS} chosen)</legend>
      <div>
        <label htmlFor="exp-filter" className="label">Filter points</label>
        <input id="exp-filter" className="input" type="search" value={filter} placeholder="e.g. temperature, ahu-1, power"
               onChange={(e) => setFilter(e.target.value)} />
      </div>
      <div className="max-h-[28rem] space-y-3 overflow-y-auto rounded-md border border-slate-300 p-2 dark:border-slate-600"
           tabIndex={0} role="region" aria-label="Points to export">
        {groups.length === 0 && <p className="muted text-sm">No point matches.</p>}
        {groups.map(({ e, pts }) => {
          const all = pts.every((p) => chosen.has(p.id));
          return (
            <div key={e.id}>
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h3 className="text-sm font-semibold">
                  {e.name} <span className="muted font-normal">· {equipmentTypeName(e.type)}</span>
                </h3>
                <button type="button" className="btn-secondary min-h-[32px] px-2 py-0.5 text-xs"
                        onClick={() => setMany(pts.map((p) => p.id), !all)}>
                  {all ? `Clear ${e.name}` : `Choose all of ${e.name}`}
                </button>
              </div>
              <ul className="mt-1 grid gap-1 sm:grid-cols-2">
                {pts.map((p) => (
                  <li key={p.id}>
                    <label className="flex min-h-[32px] items-center gap-2 text-sm">
                      <input type="checkbox" className="h-4 w-4" checked={chosen.has(p.id)} onChange={() => toggle(p.id)} />
                      <span>
                        {p.name} <span className="muted text-xs">({p.kind}{p.unit ? `, ${p.unit}` : ''})</span>
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}

export default function ExportPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const data = useAsync(async (signal) => {
    const [building, equipment, points] = await Promise.all([
      client.building(bid, signal), client.equipment({ building: bid }, signal), client.points({ building: bid }, signal),
    ]);
    return { building, equipment, points };
  }, [client, bid]);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [preset, setPreset] = useState<Preset>('7d');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [resolution, setResolution] = useState('1h');
  const [format, setFormat] = useState<ExportFormat>('csv');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the building's points…" />;
  const b: Building = data.data.building;
  const tz = safeZone(b.timezone);

  const toggle = (id: string) => setChosen((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id); else n.add(id);
    return n;
  });
  const setMany = (ids: string[], on: boolean) => setChosen((s) => {
    const n = new Set(s);
    for (const id of ids) if (on) n.add(id); else n.delete(id);
    return n;
  });

  function range(): [number, number] | string {
    if (preset !== 'custom') return presetRange(preset, Date.now(), tz);
    const f = parseLocal(from, tz);
    const t = parseLocal(to, tz);
    if (f === null || t === null) return 'Enter both the start and the end.';
    if (f >= t) return 'The end must be after the start.';
    return [f, t];
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setMsg(null);
    if (chosen.size === 0) return setMsg({ ok: false, text: 'Choose at least one point.' });
    if (chosen.size > MAX_POINTS) return setMsg({ ok: false, text: `At most ${MAX_POINTS} points per export (${chosen.size} chosen).` });
    const r = range();
    if (typeof r === 'string') return setMsg({ ok: false, text: r });
    setBusy(true);
    try {
      // in the model's order, so columns come out grouped by equipment
      const pts = (data.data?.points ?? []).filter((p) => chosen.has(p.id)).map((p) => p.id);
      const d = await client.download('/api/v1/export', { points: pts.join(','), from: r[0], to: r[1], resolution, format });
      const name = d.filename ?? `sbems-export.${format}`;
      saveBlob(d.blob, name);
      setMsg({ ok: true, text: `Saved ${name} (${pts.length} points, ${Math.round(d.blob.size / 1024)} KB).` });
    } catch (err) {
      setMsg({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(b.id)}/`} className="link">{b.name}</Link> / Exports
      </nav>
      <PageTitle sub={`Times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Reports and exports</PageTitle>
      <form onSubmit={(e) => void submit(e)} className="card space-y-5" aria-label="Export data" noValidate>
        <PointPicker equipment={data.data.equipment} points={data.data.points} chosen={chosen} toggle={toggle} setMany={setMany} />
        <div className="grid gap-4 sm:grid-cols-2">
          <div>
            <label htmlFor="exp-preset" className="label">Period</label>
            <select id="exp-preset" className="input" value={preset} onChange={(e) => {
              const p = e.target.value as Preset;
              if (p === 'custom' && preset !== 'custom') {
                const [f, t] = presetRange(preset, Date.now(), tz);
                setFrom(formatLocal(f, tz));
                setTo(formatLocal(t, tz));
              }
              setPreset(p);
            }}>
              <option value="today">Today</option>
              <option value="yesterday">Yesterday</option>
              <option value="7d">Last 7 days</option>
              <option value="30d">Last 30 days</option>
              <option value="custom">Custom…</option>
            </select>
          </div>
          {preset === 'custom' && (
            <>
              <div>
                <label htmlFor="exp-from" className="label">From ({zoneAbbreviation(Date.now(), tz)})</label>
                <input id="exp-from" className="input" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
              </div>
              <div>
                <label htmlFor="exp-to" className="label">To ({zoneAbbreviation(Date.now(), tz)})</label>
                <input id="exp-to" className="input" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
              </div>
            </>
          )}
        </div>
        <div className="grid gap-4 sm:grid-cols-2">
          <div>
            <label htmlFor="exp-res" className="label">Resolution</label>
            <select id="exp-res" className="input" value={resolution} onChange={(e) => setResolution(e.target.value)}>
              {RESOLUTIONS.map((r) => <option key={r.v} value={r.v}>{r.label}</option>)}
            </select>
            <p className="muted mt-1 text-xs">Buckets are means for temperatures, energy used for meters, as sbems stores them.</p>
          </div>
          <div>
            <label htmlFor="exp-fmt" className="label">Format</label>
            <select id="exp-fmt" className="input" value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
              <option value="csv">CSV (RFC 4180)</option>
              <option value="xlsx">Excel (.xlsx)</option>
              <option value="json">JSON</option>
            </select>
          </div>
        </div>
        <div className="flex flex-wrap items-center gap-3">
          <button type="submit" className="btn-primary" disabled={busy}>{busy ? 'Exporting…' : 'Export'}</button>
          <span role={msg && !msg.ok ? 'alert' : 'status'}
                className={msg && !msg.ok ? 'text-sm text-red-800 dark:text-red-300' : 'muted text-sm'}>
            {msg?.text}
          </span>
        </div>
      </form>
    </>
  );
}
