import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { EQ_EQUIPMENT, EQ_POINTS, equipmentApi, manySensors } from '../test/fixtures-equipment';
import type { EqApiOptions } from '../test/fixtures-equipment';
import { makeHarness, renderWith } from '../test/render';
import EquipmentListPage from './EquipmentListPage';

const pid = (slug: string): number => EQ_POINTS.find((p) => p.id === slug)?.point_id as number;

async function show(o: EqApiOptions = {}) {
  const h = makeHarness(equipmentApi({ roles: ['viewer'], ...o }));
  await h.client.login('v', 'pw');
  renderWith(h, <EquipmentListPage />, { path: '/buildings/hpo/equipment/', route: '/buildings/:building/equipment' });
  await screen.findByRole('heading', { level: 1, name: 'Equipment' });
  return h;
}

const groupHeadings = () => screen.getAllByRole('heading', { level: 2 }).map((x) => x.textContent);
const item = (id: string) => screen.getByTestId(`equipment-${id}`);

describe('EquipmentListPage', () => {
  it('groups the equipment by type with vendor, zone, parent, links and live status', async () => {
    const h = await show();
    expect(groupHeadings()).toEqual(['Air handlers (1)', 'VAV boxes (2)', 'Chillers (1)', 'Boilers (1)', 'Thermostats (1)',
      'Meters (3)', 'Sensors (1)', 'Other equipment (1)']);
    const vavs = screen.getByRole('region', { name: 'VAV boxes (2)' });
    expect(within(vavs).getAllByRole('listitem').map((li) => within(li).getAllByRole('link')[0]?.textContent)).toEqual(['VAV-1-01', 'VAV-1-02']);

    const vav = item('vav-1-01');
    expect(within(vav).getByRole('link', { name: 'VAV-1-01' })).toHaveAttribute('href', '/equipment/vav-1-01/');
    expect(vav).toHaveTextContent('Trane · Tracer UC400 (simulated)');
    expect(within(vav).getByRole('link', { name: 'Floor 1 south perimeter' })).toHaveAttribute('href', '/zones/f1-south/');
    expect(within(vav).getByRole('link', { name: 'AHU-1' })).toHaveAttribute('href', '/equipment/ahu-1/');
    expect(h.conn.channels()).toEqual(['building:hpo']);

    const now = Date.now();
    act(() => h.store.ingest([
      [pid('ahu-1.supply-fan-start-stop'), now, 1, 0], // run state from the start/stop command
      [pid('ch-1.running'), now, 0, 0],
      [pid('rt-1-01.online'), now, 1, 0],
      [pid('vav-1-01.space-temperature'), now, 22, 0], // no status point: freshness
      [pid('vav-1-02.space-temperature'), now - 10 * 60_000, 22, 0],
      [pid('iaq-1-01.co2'), now, 650, 1], // pushed over MQTT: stale only by its flag
    ]));
    expect(item('ahu-1')).toHaveTextContent(/On\s*Supply Fan Start\/Stop · 1\/18 points reporting/);
    expect(item('ch-1')).toHaveTextContent(/Off\s*Running/);
    expect(item('rt-1-01')).toHaveTextContent(/Online\s*RT-1-01 Cloud connection/);
    expect(item('vav-1-01')).toHaveTextContent(/Reporting\s*1\/12 points reporting/);
    expect(item('vav-1-02')).toHaveTextContent(/Stale\s*all data stale/);
    expect(item('iaq-1-01')).toHaveTextContent(/Stale/);
    expect(item('blr-1')).toHaveTextContent(/No data/);
  });

  it('filters by name, type, vendor or zone, every word counting', async () => {
    await show();
    const user = userEvent.setup();
    const box = screen.getByLabelText('Filter by name, type, vendor or zone');
    await user.type(box, 'vav');
    expect(groupHeadings()).toEqual(['VAV boxes (2)']);
    expect(screen.getByText(`Showing 2 of ${EQ_EQUIPMENT.length}`)).toBeInTheDocument();

    await user.clear(box);
    await user.type(box, 'floor 1 south');
    expect(groupHeadings()).toEqual(['VAV boxes (1)', 'Thermostats (1)']); // the zone's name, and a name
    await user.clear(box);
    await user.type(box, 'siemens');
    expect(groupHeadings()).toEqual(['Thermostats (1)']);
    await user.clear(box);
    await user.type(box, 'air handler');
    expect(screen.getByRole('link', { name: 'AHU-1' })).toBeInTheDocument();
    await user.type(box, ' boiler');
    expect(screen.getByText('No equipment matches the filter.')).toBeInTheDocument();
  });

  it('carries a building with 75 items, with a jump list of the types', async () => {
    const extra = manySensors(64);
    await show({ equipment: [...EQ_EQUIPMENT, ...extra.equipment], points: [...EQ_POINTS, ...extra.points] });
    await waitFor(() => expect(screen.getByText('Showing 75 of 75')).toBeInTheDocument());
    expect(screen.getByRole('region', { name: 'Sensors (65)' })).toBeInTheDocument();
    const jump = screen.getByRole('navigation', { name: 'Equipment types' });
    expect(within(jump).getByRole('link', { name: 'Sensors (65)' })).toHaveAttribute('href', '#type-sensor');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^Filter/), 'room sensor 64');
    expect(screen.getAllByRole('listitem').filter((li) => li.dataset.testid)).toHaveLength(1);
  });
});
