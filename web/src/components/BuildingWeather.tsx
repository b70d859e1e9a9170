/**
 * Weather at the building: the points of its weather equipment (tag
 * `weather`, or read by the `weather` driver), recognised by kind and tags,
 * never by id.  Values arrive live with the building channel; the outdoor
 * temperature also as a chart over the power chart's period.
 */
import type { Point } from '../api/types';
import { useNow } from '../live/LiveContext';
import { useLiveSeries } from '../live/useLiveSeries';
import { canonicalUnit } from '../lib/model';
import { usePrefs } from '../lib/prefs';
import { displayUnit, toDisplay } from '../lib/units';
import { LiveValue } from './LiveValue';
import { TimeSeriesChart } from './TimeSeriesChart';
import { rangeLabel } from './BuildingPowerChart';
import { ErrorBox, Loading, Stat } from './ui';

export type WeatherRole = 'temperature' | 'humidity' | 'dewpoint' | 'irradiance' | 'wind' | 'cloud';

export const WEATHER_LABELS: Record<WeatherRole, string> = {
  temperature: 'Outdoor temperature',
  humidity: 'Relative humidity',
  dewpoint: 'Dew point',
  irradiance: 'Solar irradiance',
  wind: 'Wind speed',
  cloud: 'Cloud cover',
};

const has = (p: Point, tag: string) => !!p.tags?.includes(tag);

/** Whether a point is weather data. */
export function isWeatherPoint(p: Point): boolean {
  return has(p, 'weather') || p.source?.driver === 'weather';
}

/** The building's weather points by role (the first of each); points are the building's. */
export function weatherPoints(points: readonly Point[]): Partial<Record<WeatherRole, Point>> {
  const w = points.filter(isWeatherPoint);
  const first = (f: (p: Point) => boolean) => w.find(f);
  const out: Partial<Record<WeatherRole, Point>> = {
    temperature: first((p) => p.kind === 'temperature' && !has(p, 'dewpoint')),
    dewpoint: first((p) => p.kind === 'temperature' && has(p, 'dewpoint')),
    humidity: first((p) => p.kind === 'humidity'),
    irradiance: first((p) => has(p, 'irradiance') || has(p, 'solar')),
    wind: first((p) => has(p, 'wind') && !has(p, 'direction')),
    cloud: first((p) => has(p, 'cloud')),
  };
  for (const k of Object.keys(out) as WeatherRole[]) if (!out[k]) delete out[k];
  return out;
}

/**
 * The unit a point's readings are in.  Points of kind "other" may declare
 * none and carry it in their name instead ("Wind speed at 10 m (m/s)"): the
 * name's trailing parenthesis is used then, so the number is not shown bare.
 */
export function weatherUnit(p: Point): string {
  const u = canonicalUnit(p);
  if (u) return u;
  return /\(([^()]{1,12})\)\s*$/.exec(p.name)?.[1] ?? '';
}

export function WeatherNow({ w, tz }: { w: Partial<Record<WeatherRole, Point>>; tz: string }) {
  const roles = (Object.keys(WEATHER_LABELS) as WeatherRole[]).filter((r) => w[r]);
  if (roles.length === 0) return <p className="muted card text-sm">No weather points in this building.</p>;
  return (
    <dl className="card grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-6">
      {roles.map((r) => {
        const p = w[r] as Point;
        return (
          <Stat key={r} label={WEATHER_LABELS[r]}
                hint={p.name.toLowerCase() === WEATHER_LABELS[r].toLowerCase() ? undefined : <span className="break-words">{p.name}</span>}>
            <LiveValue pointId={p.point_id} unit={weatherUnit(p)} tz={tz} digits={r === 'irradiance' ? 0 : undefined} />
          </Stat>
        );
      })}
    </dl>
  );
}

/** Outdoor temperature over the period, in the user's scale. */
export function OutdoorTempChart({ point, tz, range }: { point: Point | undefined; tz: string; range: number }) {
  const { units } = usePrefs();
  const s = useLiveSeries(point ? { slug: point.id, id: point.point_id } : undefined, 'v', range);
  const now = useNow(30_000);
  if (!point) return <p className="muted card text-sm">No outdoor temperature point in this building.</p>;
  const unit = displayUnit('°C', units);
  const rows = unit === '°C' ? s.rows : s.rows.map((r) => ({ ...r, v: typeof r.v === 'number' ? toDisplay(r.v, '°C', units).value : null }));
  if (s.error) return <ErrorBox error={s.error} onRetry={s.reload} />;
  if (s.loading && rows.length === 0) return <Loading label="Loading outdoor temperature…" />;
  return (
    <TimeSeriesChart title={`Outdoor temperature, last ${rangeLabel(range)}`} data={rows}
                     series={[{ key: 'v', name: point.name, color: '#dc2626' }]} unit={unit} tz={tz}
                     from={now - range} to={now} exportSpec={{ points: [point.id] }} />
  );
}
