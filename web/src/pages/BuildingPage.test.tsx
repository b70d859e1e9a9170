import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { History } from '../api/types';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, EMPTY_HISTORY, OVERVIEW, page } from '../test/fixtures';
import { B_EQUIPMENT, B_HISTORIES, B_POINTS, B_ZONES, NOW, ZONE_TEMP_ID, dailyHistory } from '../test/fixtures-building';
import { makeHarness, renderWith } from '../test/render';
import BuildingPage from './BuildingPage';

function sbems(histories: Record<string, History> = B_HISTORIES) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: ['viewer'] }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/buildings/hpo/overview') return json(200, OVERVIEW);
    if (c.path === '/api/v1/zones') return json(200, page(B_ZONES));
    if (c.path === '/api/v1/equipment') return json(200, page(B_EQUIPMENT));
    if (c.path === '/api/v1/points') return json(200, page(B_POINTS));
    const m = /^\/api\/v1\/points\/([^/]+)\/history$/.exec(c.path);
    if (m) {
      const res = c.query.get('resolution');
      const h = histories[decodeURIComponent(m[1] as string)];
      if (h && (res === '1d' || res === '1h')) return json(200, h);
      return json(200, { ...EMPTY_HISTORY, point: 1 });
    }
    return apiError(404, 'not_found');
  };
}

async function show(opts: { temp?: 'C' | 'F'; energy?: 'kWh' | 'MWh' | 'kBtu'; histories?: Record<string, History> } = {}) {
  localStorage.setItem('sbems.tempUnit', opts.temp ?? 'C'); // jsdom says en-US, whose default is °F
  if (opts.energy) localStorage.setItem('sbems.energyUnit', opts.energy);
  const h = makeHarness(sbems(opts.histories));
  await h.client.login('v', 'pw');
  renderWith(h, <BuildingPage />, { path: '/buildings/hpo/', route: '/buildings/:building' });
  await screen.findByRole('heading', { level: 1, name: 'Harbor Point Office' });
  await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
  return h;
}

/** The cells of an end-use row, by its row header. */
function endUse(name: string | RegExp): string[] {
  const table = screen.getByRole('table', { name: /Energy by end use/ });
  const th = within(table).getByRole('rowheader', { name });
  return within(th.closest('tr') as HTMLElement).getAllByRole('cell').map((c) => c.textContent ?? '');
}

beforeEach(() => {
  // Friday 2026-11-27 10:00 in New York: the zones are occupied (band 21-24 °C)
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => vi.useRealTimers());

describe('BuildingPage', () => {
  it('splits energy by end use: sub-meters, nested chiller, other = main - children', async () => {
    const h = await show();
    // [source, today, share, 7 days, share]
    expect(endUse('Lighting sub-meter')).toEqual(['energy counter', '150 kWh', '15.0 %', '2,550 kWh', '19.6 %']);
    expect(endUse('HVAC sub-meter')).toEqual(['energy counter', '300 kWh', '30.0 %', '5,700 kWh', '43.8 %']);
    expect(endUse(/of which Chiller sub-meter/)).toEqual(['energy counter', '120 kWh', '12.0 %', '3,120 kWh', '24.0 %']);
    expect(endUse('Plug loads sub-meter')).toEqual(['estimate: power mean × hours', '100 kWh', '10.0 %', '1,540 kWh', '11.8 %']);
    expect(endUse('Other / unmetered')).toEqual(['main meter − sub-meters', '450 kWh', '45.0 %', '3,210 kWh', '24.7 %']);
    expect(endUse('Total: Main electricity meter')).toEqual(['energy counter', '1,000 kWh', '100.0 %', '13,000 kWh', '100.0 %']);
    expect(screen.getByText(/Plug loads sub-meter has no energy counter and is estimated from hourly power means × hours/)).toBeInTheDocument();
    expect(screen.queryByText(/Metering error/)).toBeNull();

    // frugal: one history per meter (4 daily counters, 1 hourly power), one per main meter for the
    // power chart and one for the outdoor temperature; 12 requests after sign-in in all
    const hist = h.calls.filter((c) => c.path.endsWith('/history'));
    expect(hist.filter((c) => c.query.get('resolution') === '1d').map((c) => c.path).sort()).toEqual(
      ['mtr-chiller.energy', 'mtr-hvac.energy', 'mtr-lighting.energy', 'mtr-main.energy'].map((p) => `/api/v1/points/${p}/history`));
    expect(hist.find((c) => c.query.get('resolution') === '1d')?.query.get('agg')).toBe('counter');
    expect(hist.filter((c) => c.query.get('resolution') === '1h').map((c) => c.path)).toEqual(['/api/v1/points/mtr-plugs.power/history']);
    expect(hist.filter((c) => c.query.get('resolution') === '1m').map((c) => c.path).sort()).toEqual(
      ['/api/v1/points/mtr-main.power/history', '/api/v1/points/weather.oat/history']);
    expect(h.calls.filter((c) => c.path !== '/api/v1/auth/login')).toHaveLength(12);
  });

  it('says so when the sub-meters read more than the main meter, and clamps other at zero', async () => {
    await show({ histories: { ...B_HISTORIES, 'mtr-lighting.energy': dailyHistory(4, 400, 150, { 2: 1000 }) } });
    // Nov 25: 1000 + 900 + 240 = 2140 kWh against 2000 on the main meter
    expect(screen.getByText(/Metering error: the sub-meters of Main electricity meter read 140 kWh more than it on Wed, Nov 25/)).toBeInTheDocument();
    expect(endUse('Other / unmetered')[3]).toBe('2,750 kWh'); // 5 days x 460 + 0 + 450
  });

  it('shows energy and power in kBtu when the user prefers it', async () => {
    const h = await show({ energy: 'kBtu' });
    expect(endUse('Lighting sub-meter').slice(1)).toEqual(['512 kBtu', '15.0 %', '8,701 kBtu', '19.6 %']);
    expect(endUse('Total: Main electricity meter')[1]).toBe('3,412 kBtu');
    expect(screen.getByRole('figure', { name: /Building power/ })).toHaveTextContent('(kBtu/h)');
    expect(screen.getByRole('figure', { name: /Energy by end use/ })).toHaveTextContent('(kBtu)');
    expect(screen.getByText('7,336 kBtu')).toBeInTheDocument(); // the overview's 2150 kWh today
    act(() => h.store.ingest([[1, Date.now(), 100, 0]]));
    expect(screen.getByText('341.2 kBtu/h')).toBeInTheDocument(); // live power, 100 kW
  });

  it('shows the weather now from live readings, temperatures in the user scale', async () => {
    const h = await show({ temp: 'F' });
    const now = Date.now();
    act(() => h.store.ingest([[20, now, 5, 0], [21, now, 64, 0], [22, now, -1.5, 0], [23, now, 412.4, 0], [24, now, 3.25, 0], [25, now, 40, 0]]));
    const weather = screen.getByRole('region', { name: 'Weather now' });
    const stat = (label: string) => within(weather).getByText(label, { selector: 'dt' }).parentElement as HTMLElement;
    expect(stat('Outdoor temperature')).toHaveTextContent('41.0 °F');
    expect(stat('Dew point')).toHaveTextContent('29.3 °F');
    expect(stat('Relative humidity')).toHaveTextContent('64 %');
    expect(stat('Solar irradiance')).toHaveTextContent('412 W/m²');
    expect(stat('Wind speed')).toHaveTextContent('3.3 m/s');
    expect(stat('Cloud cover')).toHaveTextContent('40 %');
    expect(stat('Cloud cover')).not.toHaveTextContent('stale');
    act(() => h.store.ingest([[25, now + 1, 40, 1]])); // flagged stale by the driver
    expect(stat('Cloud cover')).toHaveTextContent(/40 %\s*stale/);
  });

  it('groups zones by floor with a keyboard-operable selector; tiles carry the comfort word', async () => {
    const h = await show();
    expect(h.conn.channels()).toEqual(['building:hpo']);
    const zones = screen.getByRole('region', { name: 'Zones' });
    const floors = within(zones).getByRole('group', { name: 'Floor' });
    const buttons = within(floors).getAllByRole('button');
    expect(buttons.map((b) => b.textContent)).toEqual(['Floor 1 (3)', 'Floor 2 (2)', 'No floor (1)', 'All floors (6)']);
    expect(buttons[0]).toHaveAttribute('aria-pressed', 'true');
    // a tile's accessible name is its visible text (label in name, WCAG 2.5.3)
    const tile = (name: string) => screen.getByRole('link', { name: new RegExp(`^${name}\\b`) });
    const now = Date.now();
    const t = (zoneId: string) => ZONE_TEMP_ID + B_ZONES.findIndex((z) => z.id === zoneId);
    act(() => h.store.ingest([
      [t('f1-south'), now, 22, 0], [t('f1-east'), now, 25.5, 0], [t('f1-core'), now, 19, 0],
      [t('f2-south'), now - 4 * 60_000, 22, 0], [t('f2-core'), now, 23, 0], [200, now, 640, 0], [201, now, 7, 0],
    ]));
    expect(within(tile('Floor 1 south')).getByText('In band')).toBeInTheDocument();
    expect(within(tile('Floor 1 east')).getByText('Too warm')).toBeInTheDocument();
    expect(within(tile('Floor 1 core')).getByText('Too cold')).toBeInTheDocument();
    expect(tile('Floor 1 east')).toHaveAccessibleName(/25.5 °C.*Too warm.*occupied · band 21.0 °C – 24.0 °C/);
    expect(tile('Floor 1 south')).toHaveAccessibleName(/CO₂ 640 ppm.*Occupancy 7 people$/);
    expect(tile('Floor 1 south')).toHaveAttribute('href', '/zones/f1-south/');
    expect(screen.queryByRole('link', { name: /^Floor 2 south\b/ })).toBeNull();

    // keyboard: Tab to "Floor 2", Enter
    const user = userEvent.setup();
    (buttons[0] as HTMLElement).focus();
    await user.tab();
    expect(buttons[1]).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(buttons[1]).toHaveAttribute('aria-pressed', 'true');
    expect(buttons[0]).toHaveAttribute('aria-pressed', 'false');
    expect(within(tile('Floor 2 south')).getByText('Stale')).toBeInTheDocument(); // 4 min old, polled each minute
    expect(within(tile('Floor 2 core')).getByText('In band')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /^Floor 1 south\b/ })).toBeNull();

    await user.click(buttons[2] as HTMLElement);
    expect(within(tile('Lobby')).getByText('Unknown')).toBeInTheDocument(); // no reading yet
  });

  it('links equipment to its page and to the building equipment list; live power in kW', async () => {
    const h = await show();
    expect(screen.getByRole('link', { name: 'All equipment' })).toHaveAttribute('href', '/buildings/hpo/equipment/');
    expect(screen.getByRole('link', { name: 'Chiller sub-meter' })).toHaveAttribute('href', '/equipment/mtr-chiller/');
    act(() => h.store.ingest([[1, Date.now(), 298.25, 0]]));
    expect(screen.getByText('298.3 kW')).toBeInTheDocument();
    expect(screen.getByRole('figure', { name: /Building power, last 24 h/ })).toHaveTextContent('(kW)');
    expect(screen.getByText('alerts: not yet available')).toBeInTheDocument();
    expect(screen.getByText(/Times in America\/New_York \(EST\)/)).toBeInTheDocument();
  });
});
