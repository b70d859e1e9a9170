/**
 * Zones grouped by floor (zone.floor; zones without one last), one floor at
 * a time or all of them, chosen with toggle buttons (aria-pressed).
 */
import { useState } from 'react';
import type { Zone } from '../api/types';
import { BuildingZoneTile } from './BuildingZoneTile';
import type { ZoneTilePoints } from './BuildingZoneTile';

export interface FloorGroup {
  key: string;
  label: string;
  floor: number | null;
  zones: Zone[];
}

/** "Floor 2", "Ground floor" (0), "Basement 1" (-1), as docs/site-format.md numbers storeys. */
export function floorLabel(floor: number | null): string {
  if (floor === null) return 'No floor';
  if (floor === 0) return 'Ground floor';
  return floor < 0 ? `Basement ${-floor}` : `Floor ${floor}`;
}

/** Floors in ascending order, "no floor" last; zones by name within a floor. */
export function floorGroups(zones: readonly Zone[]): FloorGroup[] {
  const by = new Map<number | null, Zone[]>();
  for (const z of zones) {
    const f = typeof z.floor === 'number' ? z.floor : null;
    by.set(f, [...(by.get(f) ?? []), z]);
  }
  return [...by.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a - b))
    .map(([floor, zs]) => ({
      key: floor === null ? 'none' : String(floor),
      label: floorLabel(floor),
      floor,
      zones: [...zs].sort((x, y) => x.name.localeCompare(y.name)),
    }));
}

const ALL = 'all';

export function BuildingFloors({ zones, points, tz }: { zones: readonly Zone[]; points: ReadonlyMap<string, ZoneTilePoints>; tz: string }) {
  const groups = floorGroups(zones);
  const [chosen, setChosen] = useState<string | null>(null);
  if (groups.length === 0) return <p className="muted">No zones.</p>;
  // the first floor until one is chosen (and again if the chosen one is gone)
  const current = chosen === ALL || groups.some((g) => g.key === chosen) ? (chosen as string) : (groups[0] as FloorGroup).key;
  const shown = current === ALL ? groups : groups.filter((g) => g.key === current);
  const options = groups.length > 1 ? [...groups.map((g) => ({ key: g.key, label: g.label, n: g.zones.length })), { key: ALL, label: 'All floors', n: zones.length }] : [];
  return (
    <>
      {options.length > 0 && (
        <div role="group" aria-label="Floor" className="mb-3 flex flex-wrap gap-2">
          {options.map((o) => (
            <button key={o.key} type="button" aria-pressed={current === o.key} onClick={() => setChosen(o.key)}
                    className={current === o.key ? 'btn-primary min-h-[44px] px-3 py-1' : 'btn-secondary min-h-[44px] px-3 py-1'}>
              {o.label} <span className="text-xs">({o.n})</span>
            </button>
          ))}
        </div>
      )}
      {shown.map((g) => (
        <div key={g.key} className="mb-4">
          <h3 id={`floor-${g.key}`} className="mb-2 text-base font-semibold">{g.label}</h3>
          <ul aria-labelledby={`floor-${g.key}`} className="grid grid-cols-1 gap-3 min-[480px]:grid-cols-2 md:grid-cols-3 xl:grid-cols-5">
            {g.zones.map((z) => <BuildingZoneTile key={z.id} zone={z} pts={points.get(z.id) ?? EMPTY} tz={tz} />)}
          </ul>
        </div>
      ))}
    </>
  );
}

const EMPTY: ZoneTilePoints = {};
