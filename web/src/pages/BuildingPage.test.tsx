import { act, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Equipment, Point, Zone } from '../api/types';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, EMPTY_HISTORY, OVERVIEW, page } from '../test/fixtures';
import { makeHarness, renderWith } from '../test/render';
import BuildingPage from './BuildingPage';

const band = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15.6, cooling: 26.7 } };
const ZONES: Zone[] = ['a', 'b', 'c', 'd'].map((z, i) => ({ id: `z-${z}`, building: 'hpo', name: `Zone ${z.toUpperCase()}`, floor: i, comfort: band, schedule: { 'mon-fri': '06:00-19:00' } }));
const EQUIPMENT: Equipment[] = [
  { id: 'mtr-main', building: 'hpo', name: 'Main meter', type: 'meter' },
  ...ZONES.map((z) => ({ id: `vav-${z.id}`, building: 'hpo', name: `VAV ${z.name}`, type: 'vav' as const, zone: z.id })),
];
const POINTS: Point[] = [
  { id: 'mtr-main.power', equipment: 'mtr-main', name: 'Power', kind: 'power', point_id: 1, source: { driver: 'modbus', poll_s: 15 } },
  ...ZONES.map((z, i) => ({ id: `vav-${z.id}.zat`, equipment: `vav-${z.id}`, name: 'Space temperature', kind: 'temperature' as const, point_id: 10 + i, source: { driver: 'bacnet' as const, poll_s: 60 } })),
];

function sbems(c: Call): Response {
  if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: ['viewer'] }));
  if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
  if (c.path === '/api/v1/buildings/hpo/overview') return json(200, OVERVIEW);
  if (c.path === '/api/v1/zones') return json(200, page(ZONES));
  if (c.path === '/api/v1/equipment') return json(200, page(EQUIPMENT));
  if (c.path === '/api/v1/points') return json(200, page(POINTS));
  if (c.path.endsWith('/history')) return json(200, { ...EMPTY_HISTORY, point: 1 });
  return apiError(404, 'not_found');
}

beforeEach(() => {
  // Friday 2026-11-27 10:00 in New York: the zones are occupied (band 21-24 °C)
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.UTC(2026, 10, 27, 15, 0));
});
afterEach(() => vi.useRealTimers());

describe('BuildingPage', () => {
  it('colours each zone by its live temperature against the band in force, in words too', async () => {
    localStorage.setItem('sbems.tempUnit', 'C'); // jsdom says en-US, whose default is °F
    const h = makeHarness(sbems);
    await h.client.login('v', 'pw');
    renderWith(h, <BuildingPage />, { path: '/buildings/hpo/', route: '/buildings/:building' });
    await screen.findByRole('heading', { level: 1, name: 'Harbor Point Office' });
    await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
    expect(h.conn.channels()).toEqual(['building:hpo']);

    const now = Date.now();
    act(() => h.store.ingest([[10, now, 22, 0], [11, now, 25.5, 0], [12, now, 19, 0], [13, now - 4 * 60_000, 22, 0], [1, now, 298.25, 0]]));
    const tile = (name: string) => screen.getByRole('link', { name: new RegExp(`^${name}:`) });
    expect(within(tile('Zone A')).getByText('In band')).toBeInTheDocument();
    expect(within(tile('Zone B')).getByText('Too warm')).toBeInTheDocument();
    expect(within(tile('Zone C')).getByText('Too cold')).toBeInTheDocument();
    expect(within(tile('Zone D')).getByText('Stale')).toBeInTheDocument(); // 4 min old, polled each minute
    expect(tile('Zone B')).toHaveAccessibleName(/25.5 °C.*Too warm.*band 21.0 °C – 24.0 °C, occupied/);
    expect(screen.getByText('298.3 kW')).toBeInTheDocument(); // live power from the main meter
    expect(screen.getByText('alerts: not yet available')).toBeInTheDocument();
    expect(screen.getByText(/Times in America\/New_York \(EST\)/)).toBeInTheDocument();
  });
});
