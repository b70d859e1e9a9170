import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { DONE, DRIVERS, RUNNING } from '../test/fixtures-admin';
import { makeHarness, renderWith } from '../test/render';
import DevicesPage from './DevicesPage';

type Handler = (c: Call) => Response | undefined;

async function show(roles: string[], extra: Handler = () => undefined, props: { maxWatchMs?: number } = {}) {
  const h = makeHarness((c) => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/drivers') return json(200, DRIVERS);
    if (c.path === '/api/v1/buildings') return json(200, page([BUILDING]));
    if (c.path === '/api/v1/bacnet/discover' && c.method === 'GET') return apiError(404, 'not_found', 'no discovery has run');
    return apiError(404, 'not_found');
  });
  await h.client.login('ada', 'pw');
  renderWith(h, <DevicesPage pollMs={5} maxWatchMs={props.maxWatchMs} />);
  return h;
}

/** Fill the form for a directed discovery and start it. */
async function startDiscovery() {
  const user = userEvent.setup();
  await user.click(screen.getByLabelText('Broadcast Who-Is on the local network'));
  await user.type(screen.getByLabelText(/Device addresses/), '10.0.0.5');
  await user.type(screen.getByLabelText('Lowest'), '1000');
  await user.type(screen.getByLabelText('Highest'), '1999');
  await user.type(screen.getByLabelText(/Listen for answers/), '2');
  await user.click(screen.getByRole('button', { name: 'Start discovery' }));
  return user;
}

describe('DevicesPage', () => {
  it('lists devices worst first with their state in words and a summary', async () => {
    await show(['admin']);
    const table = await screen.findByRole('table', { name: /devices and their health/i });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('rowheader').textContent)).toEqual([
      'mqtt:127.0.0.1:1883mqtt', 'bacnet:1001bacnet', 'rest:weather/oatrest', 'tcp:10.0.0.9:502/1modbus',
    ]);
    expect(rows[0]).toHaveTextContent('Down');
    expect(rows[1]).toHaveTextContent('Failing');
    expect(rows[1]).toHaveTextContent('3 failed in a row');
    expect(rows[1]).toHaveTextContent('31 stale');
    expect(rows[1]).toHaveTextContent('timeout');
    expect(rows[2]).toHaveTextContent('Waiting for first reading');
    expect(rows[3]).toHaveTextContent('OK');
    expect(rows[3]).toHaveTextContent('15 ms');
    expect(screen.getByTestId('health-summary')).toHaveTextContent('4 devices, 2 offline, 31 stale points, 1 misconfigured point');
    expect(screen.getByRole('table', { name: /points a driver refused/i })).toHaveTextContent('ahu-2.sat');
  });

  it.each([['viewer'], ['operator'], ['manager']])('tells a %s the page needs an administrator, with no forms and no calls', async (role) => {
    const h = await show([role]);
    expect(screen.getByRole('note')).toHaveTextContent('This page needs an administrator');
    expect(screen.queryByRole('button', { name: 'Start discovery' })).not.toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(h.calls.filter((c) => c.path !== '/api/v1/auth/login')).toHaveLength(0);
  });

  it('starts a discovery, polls it until done, and accepts exactly the ticked points', async () => {
    let started = false;
    let finish = false;
    const h = await show(['admin'], (c) => {
      if (c.path === '/api/v1/bacnet/discover' && c.method === 'POST') {
        started = true;
        return json(202, RUNNING);
      }
      if (c.path === '/api/v1/bacnet/discover' && c.method === 'GET' && started) return json(200, finish ? DONE : RUNNING);
      if (c.path === '/api/v1/bacnet/discover/accept') {
        return json(201, { equipment: [{ id: 'ahu-1', building: 'hpo', name: 'AHU-1', type: 'ahu' }], points: [{ id: 'ahu-1.supply-air-temp' }, { id: 'ahu-1.supply-fan-status' }] });
      }
      return undefined;
    });
    await screen.findByRole('table', { name: /devices and their health/i });
    const gets = () => h.calls.filter((c) => c.path === '/api/v1/bacnet/discover' && c.method === 'GET').length;
    await waitFor(() => expect(gets()).toBe(1)); // the last run, at load (none: 404)
    const user = await startDiscovery();

    const post = h.calls.find((c) => c.path === '/api/v1/bacnet/discover' && c.method === 'POST');
    expect(post?.body).toEqual({ broadcast: false, targets: ['10.0.0.5'], low: 1000, high: 1999, wait_ms: 2000 });
    expect(await screen.findByText(/Running for/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Discovery running…' })).toBeDisabled();
    await waitFor(() => expect(gets()).toBeGreaterThan(2)); // polling while the server says running
    finish = true;

    await screen.findByRole('heading', { name: 'Proposed points' });
    const polled = gets();
    await new Promise((r) => setTimeout(r, 30));
    expect(gets()).toBe(polled); // done: no more polls
    expect(screen.getByText(/2 devices with 4 proposed points in 4.1 s/)).toBeInTheDocument();
    expect(screen.getByText(/No answer from 10.0.0.9:47808/)).toBeInTheDocument();

    // keep AHU-1 without its setpoint, and none of the VAV
    await user.click(screen.getByLabelText('Add SA Temp Setpoint (analog-value:3) of AHU-1'));
    await user.click(screen.getByRole('button', { name: 'Select no points of VAV 2-01' }));
    expect(screen.getByLabelText('Add Space Temperature (analog-input:1) of VAV 2-01')).not.toBeChecked();
    expect(screen.getByText('2 points of 1 device chosen.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Add chosen points' }));

    const dialog = screen.getByRole('dialog', { name: 'Add discovered points?' });
    expect(dialog).toHaveTextContent('2 points and 1 equipment will be added to Harbor Point Office');
    expect(dialog).toHaveTextContent('AHU-1 as ahu-1: 2 points');
    expect(h.calls.some((c) => c.path.endsWith('/accept'))).toBe(false); // nothing before confirming
    await user.click(within(dialog).getByRole('button', { name: 'Add them' }));

    expect(await screen.findByText('Added 2 points and 1 equipment to Harbor Point Office.')).toBeInTheDocument();
    const accept = h.calls.filter((c) => c.path === '/api/v1/bacnet/discover/accept');
    expect(accept).toHaveLength(1);
    expect(accept[0]?.body).toEqual({
      building: 'hpo',
      equipment: [{ device: 1001, id: 'ahu-1', name: 'AHU-1', type: 'ahu' }],
      points: [{ device: 1001, object: 'analog-input:1' }, { device: 1001, object: 'binary-input:2' }],
    });
    // what was added is marked and not offered again
    expect(screen.queryByLabelText('Add Supply Air Temp (analog-input:1) of AHU-1')).not.toBeInTheDocument();
    expect(screen.getAllByText('added')).toHaveLength(2);
  });

  it('explains a discovery that is already running (409) and follows it', async () => {
    let started = false;
    const h = await show(['admin'], (c) => {
      if (c.path !== '/api/v1/bacnet/discover') return undefined;
      if (c.method === 'POST') {
        started = true;
        return apiError(409, 'conflict', 'a discovery is running; GET /api/v1/bacnet/discover');
      }
      return started ? json(200, RUNNING) : apiError(404, 'not_found');
    });
    await startDiscovery();
    expect(await screen.findByText(/A discovery is already running: sbems runs one at a time/)).toBeInTheDocument();
    await waitFor(() => expect(h.calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/bacnet/discover').length).toBeGreaterThan(1));
    expect(await screen.findByText(/Discovery started by ada/)).toBeInTheDocument();
  });

  it('explains a missing BACnet driver (503)', async () => {
    await show(['admin'], (c) => (c.path === '/api/v1/bacnet/discover' && c.method === 'POST'
      ? apiError(503, 'unavailable', 'the BACnet driver is not running (drivers.json "bacnet", drivers.enabled)') : undefined));
    await startDiscovery();
    expect(await screen.findByText(/sbems has no running BACnet driver, so it cannot look for devices/)).toBeInTheDocument();
  });

  it('stops polling after its bound and offers to check again', async () => {
    const h = await show(['admin'], (c) => (c.path === '/api/v1/bacnet/discover' && c.method === 'GET' ? json(200, RUNNING) : undefined), { maxWatchMs: 40 });
    expect(await screen.findByText(/Stopped checking after 5 minutes/)).toBeInTheDocument();
    const n = h.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.calls.length).toBe(n); // no polling after the bound
    expect(screen.getByRole('button', { name: 'Check again' })).toBeInTheDocument();
  });

  it('checks the form before sending and shows the server field errors of an accept in words', async () => {
    const h = await show(['admin'], (c) => {
      if (c.path === '/api/v1/bacnet/discover' && c.method === 'GET') return json(200, DONE);
      if (c.path.endsWith('/accept')) return apiError(400, 'invalid', 'invalid', [{ field: 'points[0]', message: 'points[0]: device 1001 has no discovered point analog-input:1' }]);
      return undefined;
    });
    const user = userEvent.setup();
    await user.click(screen.getByLabelText('Broadcast Who-Is on the local network'));
    await user.type(screen.getByLabelText('Lowest'), '5');
    await user.click(screen.getByRole('button', { name: 'Start discovery' }));
    expect(screen.getByText('Give both ends of the instance range, or neither.')).toBeInTheDocument();
    expect(screen.getByText(/Nothing to ask/)).toBeInTheDocument();
    expect(h.calls.some((c) => c.method === 'POST' && c.path.startsWith('/api/v1/bacnet'))).toBe(false);

    await screen.findByRole('heading', { name: 'Proposed points' });
    await user.click(screen.getByRole('button', { name: 'Add chosen points' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Add them' }));
    const alert = await screen.findByText('sbems refused these values:');
    expect(alert.parentElement).toHaveTextContent('Point analog-input:1 of device 1001: points[0]: device 1001 has no discovered point');
  });
});
