import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { commandUnit, isBinary, localMidnight, readingUnit, stateText, statusPoints, summaryCells } from '../api/equipment';
import { mergeFilled } from '../components/EquipTrend';
import { UNIT_KEY } from '../lib/prefs';
import { apiError, json } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { EMPTY_HISTORY } from '../test/fixtures';
import { EQ_POINTS, equipmentApi } from '../test/fixtures-equipment';
import type { EqApiOptions } from '../test/fixtures-equipment';
import { makeHarness, renderWith } from '../test/render';
import EquipmentPage from './EquipmentPage';

const pid = (slug: string): number => {
  const id = EQ_POINTS.find((p) => p.id === slug)?.point_id;
  if (typeof id !== 'number') throw new Error(`no point ${slug}`);
  return id;
};
const ofEquipment = (e: string) => EQ_POINTS.filter((p) => p.equipment === e);
const FAN = 'ahu-1.supply-fan-start-stop';

async function show(id: string, title: string, o: EqApiOptions = {}) {
  localStorage.setItem(UNIT_KEY, 'C'); // jsdom says en-US, whose default is °F
  const h = makeHarness(equipmentApi(o));
  await h.client.login('u', 'pw');
  renderWith(h, <EquipmentPage />, { path: `/equipment/${id}/`, route: '/equipment/:equipment' });
  await screen.findByRole('heading', { level: 1, name: title });
  await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
  return { h, writes: () => h.calls.filter((c) => c.path.endsWith('/write')), histories: () => h.calls.filter((c) => c.path.endsWith('/history')) };
}

/** The summary cell (dt + dd) labelled so. */
function stat(label: string): HTMLElement {
  const dt = within(screen.getByRole('region', { name: 'Now' })).getByText(label, { selector: 'dt' });
  return dt.parentElement as HTMLElement;
}

describe('EquipmentPage: an air handler', () => {
  it('summarises live readings, links what it feeds and lists every point', async () => {
    const { h } = await show('ahu-1', 'AHU-1');
    const now = Date.now();
    act(() => h.store.ingest([
      [pid('ahu-1.discharge-air-temp'), now, 13.6, 0], [pid('ahu-1.discharge-air-temp-setpoint'), now, 12.8, 0],
      [pid(FAN), now, 1, 0], [pid('ahu-1.supply-fan-speed-command'), now, 65, 0],
      [pid('ahu-1.outdoor-air-damper-command'), now, 30, 0], [pid('ahu-1.cooling-valve-command'), now, 42, 0],
      [pid('ahu-1.duct-static-pressure'), now, 240, 0], [pid('ahu-1.duct-static-pressure-setpoint'), now, 250, 0],
      [pid('ahu-1.economizer-enabled'), now, 0, 0],
    ]));
    expect(stat('Discharge air temp')).toHaveTextContent(/13.6 °C.*setpoint 12.8 °C.*0.8 °C above setpoint/);
    expect(stat('Supply fan')).toHaveTextContent(/^Supply fanOncommanded \(Supply Fan Start\/Stop\); no run status point$/);
    expect(stat('Fan speed')).toHaveTextContent('65 %');
    expect(stat('Outside air damper')).toHaveTextContent('30 %');
    expect(stat('Cooling valve')).toHaveTextContent('42 %');
    expect(stat('Static pressure')).toHaveTextContent(/240 Pa.*setpoint 250 Pa.*96 % of setpoint/);
    expect(stat('Economizer')).toHaveTextContent('Disabled'); // "Economizer Enabled" = 0
    // AHU-1 has no heating valve: the cell is left out, not shown empty
    expect(within(screen.getByRole('region', { name: 'Now' })).queryByText('Heating valve')).toBeNull();

    expect(screen.getByRole('link', { name: 'VAV-1-01' })).toHaveAttribute('href', '/equipment/vav-1-01/');
    expect(screen.getByRole('link', { name: 'VAV-1-02' })).toHaveAttribute('href', '/equipment/vav-1-02/');
    expect(screen.getByText('Feeds')).toBeInTheDocument();

    const table = screen.getByRole('table', { name: 'Points of AHU-1, live' });
    expect(within(table).getAllByRole('row')).toHaveLength(ofEquipment('ahu-1').length + 1);
    const row = within(table).getByRole('rowheader', { name: /^Discharge Air Temp ahu-1.discharge-air-temp$/ }).closest('tr') as HTMLElement;
    expect(row).toHaveTextContent(/temperature.*13.6 °C.*°C.*No.*BACnet, every 60 s/);

    expect(h.conn.channels().sort()).toEqual(['equipment:ahu-1', 'equipment:vav-1-01', 'equipment:vav-1-02']);
  });

  it('marks a stale value in the table and the summary', async () => {
    const { h } = await show('ahu-1', 'AHU-1');
    act(() => h.store.ingest([[pid('ahu-1.discharge-air-temp'), Date.now() - 10 * 60_000, 13.6, 0]])); // polled each minute
    expect(stat('Discharge air temp').querySelector('[data-stale]')).toHaveTextContent('stale');
  });

  it('gives a viewer values and holders but no control', async () => {
    await show('ahu-1', 'AHU-1', { roles: ['viewer'] });
    const cmds = screen.getByRole('region', { name: 'Commands' });
    expect(within(cmds).getByRole('heading', { name: 'Supply Fan Start/Stop' })).toBeInTheDocument();
    expect(within(cmds).getAllByText('Who holds this point')).toHaveLength(ofEquipment('ahu-1').filter((p) => p.writable).length);
    expect(screen.queryByRole('button', { name: /turn on|turn off|release|change/i })).toBeNull();
    expect(screen.getByText(/Your role can see these points/)).toBeInTheDocument();
  });

  it('lets an operator turn the fan on: confirm, pending, then the confirmed read-back', async () => {
    let answer: (r: Response) => void = () => undefined;
    const { writes } = await show('ahu-1', 'AHU-1', { write: () => new Promise<Response>((res) => { answer = res; }) });
    const user = userEvent.setup();
    const card = screen.getByRole('listitem', { name: 'Supply Fan Start/Stop' });
    // numeric commands get SetpointControl, two-state ones On/Off/Release
    expect(within(screen.getByRole('listitem', { name: 'Supply Fan Speed Command' })).getByRole('button', { name: 'Change Supply Fan Speed Command' })).toBeInTheDocument();

    await user.click(within(card).getByText('Override duration and reason'));
    await user.selectOptions(within(card).getByLabelText('Override duration'), '1 hour');
    await user.type(within(card).getByLabelText('Reason (optional)'), 'flush before occupancy');
    await user.click(within(card).getByRole('button', { name: 'Turn on Supply Fan Start/Stop' }));
    const dialog = screen.getByRole('dialog', { name: 'Send this command?' });
    expect(dialog).toHaveTextContent('Turn Supply Fan Start/Stop on (On, value 1), for 1 hour, then sbems releases it.');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    expect(writes()).toHaveLength(0);

    await user.click(within(dialog).getByRole('button', { name: 'Send command' }));
    expect(within(card).getByRole('status')).toHaveTextContent('Command pending…');
    expect(writes()).toHaveLength(1);
    expect(writes()[0]?.method).toBe('POST');
    expect(writes()[0]?.path).toBe(`/api/v1/points/${FAN}/write`);
    expect(writes()[0]?.body).toEqual({ value: 1, duration_s: 3600, reason: 'flush before occupancy' });

    await act(async () => answer(json(200, { point: FAN, point_id: pid(FAN), result: 'ok', value: 1, readback: 1, by: 'u', priority: 8, expires: '2026-11-27T21:00:00Z' })));
    expect(await within(card).findByText(/^Confirmed/)).toHaveTextContent('Confirmed: the device reads back On (1).');
    expect(within(card).getByRole('status')).toHaveTextContent(/Written at priority 8/);
  });

  it("shows the device's reason when it refuses (409)", async () => {
    await show('ahu-1', 'AHU-1', { write: () => apiError(409, 'rejected', 'write-access-denied', [{ field: 'value', message: 'rejected' }]) });
    const user = userEvent.setup();
    const card = screen.getByRole('listitem', { name: 'Supply Fan Start/Stop' });
    await user.click(within(card).getByRole('button', { name: 'Turn off Supply Fan Start/Stop' }));
    await user.click(screen.getByRole('button', { name: 'Send command' }));
    const alert = await within(card).findByRole('alert');
    expect(alert).toHaveTextContent('Refused.');
    expect(alert).toHaveTextContent('The device refused the command (write-access-denied).');
  });

  it('trends up to four points, one chart per unit, history by range then live readings', async () => {
    const now = Date.now();
    const m0 = Math.floor(now / 60_000) * 60_000;
    const history = (c: Call) => {
      const b = (start: number, value: number) => ({ start, n: 1, min: value, max: value, value, quality: 0 });
      if (c.path.includes('ahu-1.discharge-air-temp-setpoint')) return json(200, { ...EMPTY_HISTORY, buckets: [b(m0 - 180_000, 12.8)] });
      if (c.path.includes('ahu-1.discharge-air-temp/')) return json(200, { ...EMPTY_HISTORY, buckets: [b(m0 - 180_000, 13), b(m0 - 120_000, 13.4)] });
      return json(200, EMPTY_HISTORY);
    };
    const { h, histories } = await show('ahu-1', 'AHU-1', { history });
    const user = userEvent.setup();
    const box = (name: string) => screen.getByRole('checkbox', { name: `Trend ${name}` });

    // the first summary value and its setpoint are chosen to begin with, on one °C chart
    expect(box('Discharge Air Temp')).toBeChecked();
    expect(box('Discharge Air Temp Setpoint')).toBeChecked();
    expect(histories().map((c) => [c.path, c.query.get('resolution')])).toEqual([
      ['/api/v1/points/ahu-1.discharge-air-temp/history', '1m'],
      ['/api/v1/points/ahu-1.discharge-air-temp-setpoint/history', '1m'],
    ]);
    const chart = await screen.findByRole('figure', { name: 'Discharge Air Temp, Discharge Air Temp Setpoint' });
    // the setpoint's last value holds across the minute it was not read
    expect(chart).toHaveTextContent('Discharge Air Temp: latest 13.4 °C');
    expect(chart).toHaveTextContent('Discharge Air Temp Setpoint: latest 12.8 °C');
    act(() => h.store.ingest([[pid('ahu-1.discharge-air-temp'), now, 14, 0]]));
    expect(chart).toHaveTextContent('Discharge Air Temp: latest 14.0 °C');

    await user.click(box('Supply Fan Speed Command'));
    expect(histories().at(-1)?.path).toBe('/api/v1/points/ahu-1.supply-fan-speed-command/history');
    await user.click(box('Duct Static Pressure'));
    expect(box('Mixed Air Temp')).toBeDisabled();
    expect(screen.getByText(/4 of 4 points chosen for the trend; clear one to choose another/)).toBeInTheDocument();
    // °C, % and Pa: three charts, never two units on one axis
    expect(await screen.findAllByRole('figure')).toHaveLength(3);

    await user.click(box('Supply Fan Speed Command'));
    expect(box('Mixed Air Temp')).toBeEnabled();
    const before = histories().length;
    await user.click(screen.getByRole('button', { name: '7 days' }));
    const asked = histories().slice(before);
    expect(asked.map((c) => c.path.split('/')[4]).sort()).toEqual(['ahu-1.discharge-air-temp', 'ahu-1.discharge-air-temp-setpoint', 'ahu-1.duct-static-pressure']);
    expect(asked.every((c) => c.query.get('resolution') === '15m')).toBe(true);
  });
});

describe('EquipmentPage: other types', () => {
  it('links a VAV box to its zone and air handler, with airflow against its setpoint', async () => {
    const { h } = await show('vav-1-01', 'VAV-1-01');
    expect(screen.getByRole('link', { name: 'Floor 1 south perimeter' })).toHaveAttribute('href', '/zones/f1-south/');
    expect(screen.getByRole('link', { name: 'AHU-1' })).toHaveAttribute('href', '/equipment/ahu-1/');
    const crumbs = screen.getByRole('navigation', { name: 'Breadcrumb' });
    expect(within(crumbs).getByRole('link', { name: 'Harbor Point Office' })).toHaveAttribute('href', '/buildings/hpo/');
    expect(within(crumbs).getByRole('link', { name: 'Equipment' })).toHaveAttribute('href', '/buildings/hpo/equipment/');
    const now = Date.now();
    // the setpoint is declared in m³/s, but its readings, like every flow's, are stored in L/s
    act(() => h.store.ingest([[pid('vav-1-01.discharge-air-flow'), now, 250, 0], [pid('vav-1-01.discharge-air-flow-setpoint'), now, 300, 0]]));
    expect(stat('Airflow')).toHaveTextContent(/250 L\/s.*setpoint 300 L\/s.*83 % of setpoint/);
    const row = screen.getByRole('rowheader', { name: /^Discharge Air Flow Setpoint/ }).closest('tr') as HTMLElement;
    expect(row).toHaveTextContent(/300 L\/s.*L\/sdevice: m³\/s/);
    expect(h.conn.channels()).toEqual(['equipment:vav-1-01']);
  });

  it("derives a chiller's COP from its load and electric power when it has no COP point", async () => {
    const { h } = await show('ch-1', 'CH-1', { points: EQ_POINTS.filter((p) => p.id !== 'ch-1.cop') });
    const now = Date.now();
    act(() => h.store.ingest([[pid('ch-1.load-kw'), now, 300, 0], [pid('ch-1.kw'), now, 100, 0], [pid('ch-1.running'), now, 1, 0]]));
    expect(stat('COP')).toHaveTextContent(/^COP3.00derived: cooling load ÷ electric power/);
    expect(stat('Cooling load')).toHaveTextContent('300.0 kW');
    expect(stat('Electric power')).toHaveTextContent('100.0 kW');
    expect(stat('Status')).toHaveTextContent('On');
  });

  it("shows a meter's energy today from its daily bucket, continued live, and its sub-meters", async () => {
    const midnight = localMidnight(Date.now(), 'America/New_York');
    const history = (c: Call) => (c.path.includes('mtr-main.energy') && c.query.get('resolution') === '1d'
      ? json(200, { ...EMPTY_HISTORY, res: '1d', buckets: [{ start: midnight, n: 90, min: 48_766, max: 50_000, value: 1234, quality: 0 }] })
      : json(200, EMPTY_HISTORY));
    const { h } = await show('mtr-main', 'Main electricity meter', { history });
    await waitFor(() => expect(stat('Energy today')).toHaveTextContent('1,234 kWh'));
    act(() => h.store.ingest([[pid('mtr-main.energy'), Date.now(), 50_010, 0], [pid('mtr-main.power'), Date.now(), 298.25, 0]]));
    expect(stat('Energy today')).toHaveTextContent('1,244 kWh');
    expect(stat('Power')).toHaveTextContent('298.3 kW');
    expect(screen.getByText('Sub-meters')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'HVAC sub-meter' })).toHaveAttribute('href', '/equipment/mtr-hvac/');
  });

  it('says so when the equipment does not exist', async () => {
    const h = makeHarness(equipmentApi());
    await h.client.login('u', 'pw');
    renderWith(h, <EquipmentPage />, { path: '/equipment/nope/', route: '/equipment/:equipment' });
    expect(await screen.findByRole('alert')).toHaveTextContent('Not found');
  });
});

describe('finding points by what they are', () => {
  it('reads the thermostat, chiller and air handler of the simulated office', () => {
    expect(summaryCells('thermostat', ofEquipment('rt-1-01')).map((c) => c.label))
      .toEqual(['Room temperature', 'Heating setpoint', 'Cooling setpoint', 'Mode', 'Humidity', 'Occupancy']);
    expect(summaryCells('chiller', ofEquipment('ch-1')).map((c) => c.label))
      .toEqual(['Status', 'Chilled water', 'Cooling load', 'Electric power', 'COP', 'Part load ratio']);
    expect(statusPoints(ofEquipment('ch-1')).run?.id).toBe('ch-1.running');
    expect(statusPoints(ofEquipment('ahu-1')).run?.id).toBe(FAN); // no run status: its start/stop command
    expect(statusPoints(ofEquipment('rt-1-01')).online?.id).toBe('rt-1-01.online');
    expect(statusPoints(ofEquipment('vav-1-01'))).toEqual({ fault: undefined, run: undefined, online: undefined });
  });

  it('tells two-state commands from multistate and modulating ones', () => {
    const p = (id: string) => EQ_POINTS.find((x) => x.id === id) as (typeof EQ_POINTS)[number];
    expect(isBinary(p(FAN))).toBe(true);
    expect(isBinary(p('ch-1.enable'))).toBe(true);
    expect(isBinary(p('rt-1-01.mode'))).toBe(false); // 0..4
    expect(isBinary(p('ahu-1.cooling-valve-command'))).toBe(false); // %
    expect(stateText(p('ch-1.enable'), 1)).toBe('Enabled');
    expect(stateText(p('iaq-1-01.occupied'), 0)).toBe('Unoccupied');
  });

  it('reads in the canonical unit of the declared unit, commands in the declared one', () => {
    const p = (id: string) => EQ_POINTS.find((x) => x.id === id) as (typeof EQ_POINTS)[number];
    expect(readingUnit(p('vav-1-01.discharge-air-flow-setpoint'))).toBe('L/s');
    expect(commandUnit(p('vav-1-01.discharge-air-flow-setpoint'))).toBe('m³/s');
    expect(readingUnit({ kind: 'setpoint', unit: '°F' })).toBe('°C');
    expect(readingUnit(p('mtr-main.energy'))).toBe('kWh'); // declared Wh
    expect(readingUnit(p('ch-1.cop'))).toBe('');
  });

  it('holds a value between readings only for a while', () => {
    const rows = mergeFilled([
      { key: 'a', pairs: [[0, 1], [60, 2], [120, 3], [600, 4]], fillMs: 100 },
      { key: 'b', pairs: [[0, 10], [600, null]], fillMs: 100 },
    ]);
    expect(rows).toEqual([
      { t: 0, a: 1, b: 10 }, { t: 60, a: 2, b: 10 }, { t: 120, a: 3, b: null }, { t: 600, a: 4, b: null },
    ]);
  });
});
