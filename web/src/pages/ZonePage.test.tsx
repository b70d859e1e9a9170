import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, EMPTY_HISTORY, POINTS, ZONE, ZONE_STATUS, page } from '../test/fixtures';
import { makeHarness, renderWith } from '../test/render';
import ZonePage from './ZonePage';

function sbems(roles: string[]) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    if (c.path === '/api/v1/zones/f1-south') return json(200, ZONE);
    if (c.path === '/api/v1/zones/f1-south/status') return json(200, ZONE_STATUS);
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/points') return json(200, page(POINTS.filter((p) => p.equipment === c.query.get('equipment'))));
    if (c.path.endsWith('/history')) return json(200, EMPTY_HISTORY);
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[]) {
  const h = makeHarness(sbems(roles));
  await h.client.login('u', 'pw');
  renderWith(h, <ZonePage />, { path: '/zones/f1-south/', route: '/zones/:zone' });
  await screen.findByRole('heading', { level: 1, name: 'Floor 1 south' });
  await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull()); // the charts' history
  return h;
}

describe('ZonePage', () => {
  it('shows setpoints but no controls to a viewer', async () => {
    await show(['viewer']);
    expect(screen.getByRole('heading', { name: 'Heating Setpoint' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /change/i })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /release/i })).not.toBeInTheDocument();
    // who holds the point is information, not a control: viewers may read it
    expect(screen.getByText('Who holds this point')).toBeInTheDocument();
  });

  it('gives an operator the setpoint control', async () => {
    await show(['operator']);
    expect(screen.getByRole('button', { name: 'Change Heating Setpoint' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Release' })).toBeInTheDocument();
  });

  it('shows live values in the user units and marks stale ones', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const h = await show(['viewer']);
    const now = Date.now();
    act(() => h.store.ingest([[55, now, 22, 0], [58, now - 10 * 60_000, 650, 0]])); // CO2: 10 min old, polled each minute
    expect(await screen.findAllByText('71.6 °F')).not.toHaveLength(0);
    const co2 = screen.getAllByText(/650 ppm/)[0] as HTMLElement;
    expect(co2.closest('[data-stale]')).not.toBeNull();
    expect(co2.closest('[data-stale]')).toHaveTextContent('stale');
  });

  it('subscribes to the zone channel', async () => {
    const h = await show(['viewer']);
    expect(h.conn.channels()).toEqual(['zone:f1-south']);
  });
});
