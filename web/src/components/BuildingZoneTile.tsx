/**
 * One zone on the floor view: its live temperature coloured against the
 * comfort band in force, with the word (colour is never the only signal),
 * and its CO2 and occupancy when something serving it measures them.  Each
 * value subscribes to its own point (useReading), and the tile is memoised,
 * so fifty zones updating every second re-render fifty small tiles, not the
 * page.
 */
import { memo } from 'react';
import { Link } from 'react-router-dom';
import type { Point, Zone } from '../api/types';
import { useLive, useNow, useReading } from '../live/LiveContext';
import { bandNow, comfortState, isOccupied } from '../lib/schedule';
import { formatDateTime } from '../lib/time';
import { formatMeasure, formatNumber } from '../lib/units';
import { usePrefs } from '../lib/prefs';
import { COMFORT_TEXT, COMFORT_TONE } from './comfort';
import { LiveValue } from './LiveValue';
import { Badge } from './ui';

export interface ZoneTilePoints {
  temp?: Point;
  co2?: Point;
  occupancy?: Point;
}

const COLOUR = {
  in_band: 'border-emerald-500 bg-emerald-50 dark:bg-emerald-950',
  too_warm: 'border-red-500 bg-red-50 dark:bg-red-950',
  too_cold: 'border-sky-500 bg-sky-50 dark:bg-sky-950',
  unknown: 'border-slate-400 bg-slate-100 dark:bg-slate-800',
} as const;

/**
 * Occupancy in words: a people counter (Haystack tags `occupants`/`count`;
 * the API drops a declared unit "count", occupancy having no canonical
 * unit) as a number of people, a 0/1 sensor as occupied/unoccupied,
 * anything else as its value.
 */
export function occupancyText(v: number, p: Pick<Point, 'unit' | 'tags'>): string {
  const counter = p.unit === 'count' || !!p.tags?.includes('count') || !!p.tags?.includes('occupants');
  if (counter) return `${formatNumber(v, 0)} ${v === 1 ? 'person' : 'people'}`;
  if (v === 0) return 'unoccupied';
  if (v === 1) return 'occupied';
  return formatNumber(v, 0);
}

function Occupancy({ point, tz }: { point: Point; tz: string }) {
  const r = useReading(point.point_id);
  const { store } = useLive();
  const now = useNow(15_000);
  if (!r || typeof point.point_id !== 'number') return <span className="muted">—</span>;
  const stale = store.stale(point.point_id, now);
  return (
    <span className={stale ? 'italic' : ''} data-stale={stale || undefined} title={formatDateTime(r.t, tz)}>
      {occupancyText(r.v, point)}
      {stale && <span className="ml-1 text-xs font-semibold not-italic">stale</span>}
    </span>
  );
}

function ZoneTileImpl({ zone, pts, tz }: { zone: Zone; pts: ZoneTilePoints; tz: string }) {
  const { units } = usePrefs();
  const { store } = useLive();
  const temp = pts.temp;
  const r = useReading(temp?.point_id);
  const now = useNow(15_000);
  const occupied = isOccupied(zone.schedule, tz, now);
  const band = bandNow(zone.comfort, occupied);
  const stale = typeof temp?.point_id === 'number' && store.stale(temp.point_id, now);
  const state = stale ? 'unknown' : comfortState(r?.v, band);
  const word = stale ? 'Stale' : COMFORT_TEXT[state];
  const bandText = band ? `${formatMeasure(band.heating, '°C', units)} – ${formatMeasure(band.cooling, '°C', units)}` : 'no comfort band';
  return (
    <li>
      {/* the link's name is its visible text (WCAG 2.5.3, label in name): zone,
          temperature (with "stale"), the comfort word, occupancy and band */}
      <Link to={`/zones/${encodeURIComponent(zone.id)}/`}
            className={`block rounded-lg border-l-4 p-3 shadow-sm hover:shadow-md ${COLOUR[state]}`}>
        <p className="truncate text-sm font-semibold">{zone.name}</p>
        <p className="mt-1 text-xl font-semibold">
          <LiveValue pointId={temp?.point_id} unit="°C" tz={tz} />
        </p>
        <p className="mt-1 flex flex-wrap items-center gap-1 text-xs">
          <Badge tone={COMFORT_TONE[state]}>{word}</Badge>
          <span className="muted">{occupied ? 'occupied' : 'unoccupied'} · band {bandText}</span>
        </p>
        {(pts.co2 || pts.occupancy) && (
          <p className="mt-1 flex flex-wrap gap-x-3 text-xs">
            {pts.co2 && <span>CO₂ <LiveValue pointId={pts.co2.point_id} unit="ppm" tz={tz} /></span>}
            {pts.occupancy && <span>Occupancy <Occupancy point={pts.occupancy} tz={tz} /></span>}
          </p>
        )}
      </Link>
    </li>
  );
}

export const BuildingZoneTile = memo(ZoneTileImpl);
