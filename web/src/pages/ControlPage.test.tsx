import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { ControlDoc, ControlSettings, Plan } from '../api/control';
import { planStatus } from '../api/control';
import type { Zone } from '../api/types';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { makeHarness, renderWith } from '../test/render';
import ControlPage from './ControlPage';

const comfort = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15, cooling: 30 } };
const ZONES: Zone[] = [
  { id: 'f1-south', building: 'hpo', name: 'Floor 1 south', comfort, schedule: { 'mon-fri': '07:00-18:00' } },
  { id: 'f2-north', building: 'hpo', name: 'Floor 2 north', comfort, schedule: { 'mon-fri': '07:00-18:00' } },
];

const IN_2H = new Date(Date.now() + 2 * 3_600_000).toISOString();
const AGO_5M = new Date(Date.now() - 5 * 60_000).toISOString();

const SCHEDULE = {
  setpoints: { occupied: { heating: 21, cooling: 24 }, standby: { heating: 20, cooling: 25 }, unoccupied: { heating: 15, cooling: 30 } },
  week: {
    mon: [{ time: '07:00-18:00', mode: 'occupied', heating: 21, cooling: 24 }],
    tue: 'closed', wed: 'closed', thu: 'closed', fri: 'closed', sat: 'closed', sun: 'closed',
  },
  holiday: 'closed',
  holidays: ['2026-12-25'],
  exceptions: [],
};

const SETTINGS: ControlSettings = {
  mode: 'advisory',
  optimal_start: true,
  optimizer: true,
  max_lead_h: 3,
  default_rate_k_per_h: 2,
  ramp_k_per_h: 2,
  recover_k_per_h: 6,
  vacancy_delay_min: 20,
  demand_limit_kw: 0,
  native_check_min: 60,
  zones: {
    'f1-south': {
      mode: 'auto', schedule: SCHEDULE as ControlSettings['zones'][string]['schedule'],
      native_schedule: 'schedule:1', native_calendar: 'calendar:1',
    },
  },
  overrides: { 'f1-south': { until: IN_2H, by: 'olga', reason: 'late meeting' } },
};

const DOC: ControlDoc = {
  building: 'hpo',
  settings: SETTINGS,
  evaluated_at: AGO_5M,
  running: true,
  holidays_imported: 3,
  optimizer: { planned_at: AGO_5M, status: 'optimal' },
  zones: [
    {
      zone: 'f1-south', mode: 'advisory', controlled: true, state: 'unoccupied', winner: 'tenant',
      reason: 'after-hours override by olga: late meeting', until: IN_2H,
      target: { heating: 21, cooling: 24 }, heating_sp: 19.5, cooling_sp: 26,
      flags: [['ramped', 'advisory'], ['advisory']],
      sources: [],
      temp: 22.4, occupied: true,
      points: { heating_sp: 11, cooling_sp: 12, temp: 13, occupancy: 14 },
      last_write: null,
      native_schedule: {
        object: 'schedule:1', calendar: 'calendar:1', state: 'in_sync', why: null, runs_occupancy: true,
        checked_at: AGO_5M, written_at: AGO_5M, in_sync_at: AGO_5M, next_check: IN_2H, present_value: 0,
        exceptions: { written: 2, wanted: 2 }, dates: { written: 1, wanted: 1 },
      },
    },
    {
      zone: 'f2-north', mode: 'advisory', controlled: false, why_not: 'no writable heating or cooling setpoint',
      temp: null, occupied: null, points: { heating_sp: 0, cooling_sp: 0, temp: 0, occupancy: 0 }, last_write: null,
    },
  ],
};

const totals = (o: Partial<Plan['plan']>): Plan['plan'] => ({
  kwh_electric: 100, kwh_fuel: 40, kwh_cooling: 300, kwh_heating: 36, cost: 25, cost_energy: 20, cost_demand: 5, peak_kw: 30, discomfort_kh: 2, ...o,
});

const PLAN: Plan = {
  building: 'hpo',
  issued: '2026-06-01T12:00:00Z',
  status: 'optimal',
  currency: 'USD',
  solve_s: 0.42,
  steps: 4,
  plan: totals({ kwh_electric: 80, cost: 19.5, peak_kw: 22.5, discomfort_kh: 0.5 }),
  baseline: totals({}),
  zones: [{
    zone: 'f1-south',
    points: [0, 1, 2, 3].map((k) => ({
      t: new Date(Date.parse('2026-06-01T12:00:00Z') + k * 900_000).toISOString(), heating_sp: 20, cooling_sp: 25, temperature: 23, hvac_kw: -3,
    })),
  }],
  load: 'HVAC only: the building\'s other loads are not in the peak',
};

type Extra = (c: Call) => Response | undefined;

/** sbems: GET answers DOC; PUT answers the settings as sent (overrides kept), as h_ctl.c does. */
function sbems(roles: string[], extra: Extra = () => undefined) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/zones' && c.query.get('building') === 'hpo') return json(200, page(ZONES));
    if (c.path === '/api/v1/buildings/hpo/control' && c.method === 'GET') return json(200, DOC);
    if (c.path === '/api/v1/buildings/hpo/control' && c.method === 'PUT') {
      return json(200, { building: 'hpo', settings: { ...(c.body as object), overrides: SETTINGS.overrides } });
    }
    if (c.path === '/api/v1/predictions/plan') return json(200, PLAN);
    const m = /^\/api\/v1\/zones\/([^/]+)\/control\/override$/.exec(c.path);
    if (m && c.method === 'POST') {
      const b = c.body as { hours: number; reason?: string };
      return json(200, { zone: m[1], until: new Date(Date.now() + b.hours * 3_600_000).toISOString(), by: 'vic', reason: b.reason ?? '' });
    }
    if (m && c.method === 'DELETE') return empty(204);
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[], extra?: Extra) {
  localStorage.setItem('sbems.tempUnit', 'C');
  const h = makeHarness(sbems(roles, extra));
  await h.client.login('vic', 'pw');
  renderWith(h, <ControlPage />, { path: '/buildings/hpo/control/', route: '/buildings/:building/control' });
  await screen.findByRole('heading', { level: 1, name: 'Control' });
  return h;
}

const writes = (h: { calls: Call[] }) => h.calls.filter((c) => c.method !== 'GET' && c.path !== '/api/v1/auth/login');
const row = (zone: string) => screen.getByTestId(`zone-${zone}`);

describe('planStatus', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  const at = (min: number) => new Date(now - min * 60_000).toISOString();
  it('is off, pending, failed, stale or fresh', () => {
    expect(planStatus({ ...DOC, settings: { ...SETTINGS, optimizer: false } }, now)).toBe('off');
    expect(planStatus({ ...DOC, optimizer: undefined }, now)).toBe('pending');
    expect(planStatus({ ...DOC, optimizer: { planned_at: at(1), error: 'no tariff' } }, now)).toBe('failed');
    expect(planStatus({ ...DOC, optimizer: { planned_at: at(31) } }, now)).toBe('stale');
    expect(planStatus({ ...DOC, optimizer: { planned_at: at(14) } }, now)).toBe('fresh');
  });
});

describe('ControlPage', () => {
  it('shows the mode, each zone\'s state, the winner and why, the override and the schedule', async () => {
    await show(['manager']);
    expect(within(screen.getByRole('region', { name: 'Mode' })).getByText(/writes nothing\. The default/)).toBeInTheDocument(); // advisory explained
    expect(screen.getByText('Fresh: the zones follow the plan')).toBeInTheDocument();
    const south = row('f1-south');
    expect(within(south).getByRole('link', { name: 'Floor 1 south' })).toHaveAttribute('href', '/zones/f1-south/');
    expect(within(south).getByText('Unoccupied')).toBeInTheDocument();
    expect(within(south).getByText('19.5 °C – 26.0 °C')).toBeInTheDocument();
    expect(within(south).getByText('asked: 21.0 °C – 24.0 °C')).toBeInTheDocument();
    expect(within(south).getByText('Tenant override')).toBeInTheDocument();
    expect(within(south).getByText('after-hours override by olga: late meeting')).toBeInTheDocument();
    expect(within(south).getByText(/zone set to automatic, capped by the building/)).toBeInTheDocument();
    expect(within(south).getByText('by olga: late meeting')).toBeInTheDocument();
    const north = row('f2-north');
    expect(within(north).getByText('Not controlled')).toBeInTheDocument();
    expect(within(north).getByText('no writable heating or cooling setpoint')).toBeInTheDocument();

    const week = screen.getByRole('table', { name: 'Weekly schedule of Floor 1 south' });
    const mon = within(week).getByRole('rowheader', { name: 'Monday' }).closest('tr') as HTMLElement;
    expect(mon).toHaveTextContent('07:00-18:00 Occupied (21.0 °C – 24.0 °C)');
    expect(screen.getByText(/Holidays: 2026-12-25\./)).toBeInTheDocument();

    // the settings as the form holds them
    expect(screen.getByRole('radio', { name: /^Advisory/ })).toBeChecked();
    expect(screen.getByRole('spinbutton', { name: 'Longest optimal-start lead (h)' })).toHaveValue(3);
    expect(screen.getByRole('spinbutton', { name: 'Vacancy delay (min)' })).toHaveValue(20);
    expect(screen.getByRole('combobox', { name: 'Mode of Floor 1 south' })).toHaveValue('auto');
    // the controller's own Schedule runs the zone: its state, and the objects in the form
    expect(screen.getByTestId('native-f1-south')).toHaveTextContent('schedule:1: the controller runs it');
    expect(screen.getByRole('textbox', { name: 'Controller\'s Schedule object of Floor 1 south' })).toHaveValue('schedule:1');
    expect(screen.getByRole('textbox', { name: 'Controller\'s Calendar object of Floor 1 south' })).toHaveValue('calendar:1');
  });

  it('checks the native objects before saving: a calendar needs its schedule', async () => {
    const h = await show(['manager']);
    const sched = screen.getByRole('textbox', { name: 'Controller\'s Schedule object of Floor 1 south' });
    await userEvent.clear(sched);
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(screen.getByText('A Calendar needs the Schedule that refers to it.')).toBeInTheDocument();
    expect(writes(h)).toHaveLength(0);
    await userEvent.type(sched, 'analog-value:1');
    expect(screen.getByText('A Schedule object of the controller: "schedule:N".')).toBeInTheDocument();
    await userEvent.clear(sched);
    await userEvent.type(sched, 'schedule:2');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText(/^Saved;/)).toBeInTheDocument();
    expect(writes(h)[0]?.body).toMatchObject({ zones: { 'f1-south': { native_schedule: 'schedule:2', native_calendar: 'calendar:1' } } });
  });

  it('saves a mode change: the PUT holds the whole document without the overrides', async () => {
    const h = await show(['manager']);
    await userEvent.click(screen.getByRole('radio', { name: /^Automatic/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText(/^Saved;/)).toBeInTheDocument();
    const w = writes(h);
    expect(w.map((c) => [c.method, c.path])).toEqual([['PUT', '/api/v1/buildings/hpo/control']]);
    expect(w[0]?.body).toEqual({
      mode: 'auto', optimal_start: true, optimizer: true, max_lead_h: 3, default_rate_k_per_h: 2,
      vacancy_delay_min: 20, ramp_k_per_h: 2, recover_k_per_h: 6, demand_limit_kw: 0, native_check_min: 60,
      zones: { 'f1-south': { mode: 'auto', schedule: SCHEDULE, native_schedule: 'schedule:1', native_calendar: 'calendar:1' } },
    });
    expect(w[0]?.body).not.toHaveProperty('overrides');
  });

  it('starts an override (POST) and ends one (DELETE)', async () => {
    const h = await show(['operator']);
    const form = screen.getByRole('form', { name: 'Start an override' });
    await userEvent.selectOptions(within(form).getByRole('combobox', { name: 'Zone' }), 'f2-north');
    const hours = within(form).getByRole('spinbutton', { name: 'Hours' });
    await userEvent.clear(hours);
    await userEvent.type(hours, '20');
    await userEvent.click(within(form).getByRole('button', { name: 'Start override' }));
    expect(within(form).getByText('Must be between 0.25 and 12 hours.')).toBeInTheDocument();
    expect(writes(h)).toHaveLength(0);

    await userEvent.clear(hours);
    await userEvent.type(hours, '1.5');
    await userEvent.type(within(form).getByRole('textbox', { name: 'Reason (optional)' }), 'board meeting');
    await userEvent.click(within(form).getByRole('button', { name: 'Start override' }));
    expect(await within(form).findByText(/^Override started in Floor 2 north until /)).toBeInTheDocument();

    await userEvent.click(within(row('f1-south')).getByRole('button', { name: 'End override in Floor 1 south' }));
    await waitFor(() => expect(writes(h)).toHaveLength(2));
    expect(writes(h).map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/api/v1/zones/f2-north/control/override', { hours: 1.5, reason: 'board meeting' }],
      ['DELETE', '/api/v1/zones/f1-south/control/override', undefined],
    ]);
    // an operator may override but not change the settings
    expect(screen.queryByRole('button', { name: 'Save settings' })).toBeNull();
  });

  it('shows the API\'s refusals: a bad schedule beside its zone, a bad override, and checks ranges first', async () => {
    const msg = 'zones.f1-south.schedule: exceptions[0].date: 2026-02-30 is not a date';
    const h = await show(['manager'], (c) => {
      if (c.method === 'PUT') return apiError(400, 'invalid', msg, [{ field: 'zones.f1-south.schedule', message: msg }]);
      if (c.method === 'POST') return apiError(400, 'invalid', 'reason: text of at most 150 bytes', [{ field: 'reason', message: 'reason: text of at most 150 bytes' }]);
      return undefined;
    });
    const lead = screen.getByRole('spinbutton', { name: 'Longest optimal-start lead (h)' });
    await userEvent.clear(lead);
    await userEvent.type(lead, '20');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(screen.getByText('Must be between 0.25 and 12 h.')).toBeInTheDocument();
    expect(lead).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByRole('alert')).toHaveTextContent('Not saved: one field needs correcting.');
    expect(writes(h)).toHaveLength(0);

    await userEvent.clear(lead);
    await userEvent.type(lead, '4');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText(`Not saved: ${msg}`)).toBeInTheDocument();
    const zone = screen.getByTestId('zone-settings-f1-south');
    expect(within(zone).getByRole('textbox', { name: 'Schedule of Floor 1 south (JSON)' })).toHaveAttribute('aria-invalid', 'true');
    expect(within(zone).getByText(msg)).toBeInTheDocument();
    expect(writes(h)[0]?.body).toMatchObject({ max_lead_h: 4 });

    const form = screen.getByRole('form', { name: 'Start an override' });
    await userEvent.click(within(form).getByRole('button', { name: 'Start override' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent('Not started: reason: text of at most 150 bytes');
  });

  it('offers a viewer no write control, and says who can', async () => {
    await show(['viewer']);
    expect(within(row('f1-south')).getByText('by olga: late meeting')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Save settings|Start override|End override/ })).toBeNull();
    expect(screen.queryByRole('form')).toBeNull();
    expect(screen.queryByRole('radio')).toBeNull();
    expect(screen.queryByRole('spinbutton')).toBeNull();
    expect(screen.queryByRole('textbox')).toBeNull();
    expect(screen.getByText('Managers can change these settings.')).toBeInTheDocument();
    expect(screen.getByText(/Operators can start and end overrides\./)).toBeInTheDocument();
    expect(screen.getByText('Optimal start').closest('div')).toHaveTextContent('On');
  });

  it('shows the plan\'s totals against the baseline', async () => {
    const h = await show(['viewer']);
    // computed when asked, not on every visit
    expect(h.calls.some((c) => c.path === '/api/v1/predictions/plan')).toBe(false);
    await userEvent.click(await screen.findByRole('button', { name: 'Plan the next 24 hours' }));
    const t = await screen.findByRole('table', { name: /plan against the schedule's baseline/ });
    const cells = (name: string) => within(within(t).getByRole('rowheader', { name }).closest('tr') as HTMLElement)
      .getAllByRole('cell').map((c) => c.textContent);
    expect(cells('Electricity (HVAC)')).toEqual(['80.0 kWh', '100.0 kWh', '−20.0 kWh']);
    expect(cells('Cost')).toEqual(['$19.50', '$25.00', '−$5.50']);
    expect(cells('Peak (HVAC)')).toEqual(['22.5 kW', '30.0 kW', '−7.5 kW']);
    expect(cells('Discomfort')).toEqual(['0.5 K·h', '2.0 K·h', '−1.5 K·h']);
    expect(screen.getByRole('figure', { name: 'Setpoints of Floor 1 south: plan against baseline' })).toBeInTheDocument();
    expect(h.calls.find((c) => c.path === '/api/v1/predictions/plan')?.query.toString()).toBe('building=hpo&hours=24');
  });

  it('says why there is no plan (409)', async () => {
    await show(['viewer'], (c) => (c.path === '/api/v1/predictions/plan'
      ? apiError(409, 'no_model', 'no tariff is assigned to building hpo') : undefined));
    await userEvent.click(await screen.findByRole('button', { name: 'Plan the next 24 hours' }));
    expect(await screen.findByText('No plan: no tariff is assigned to building hpo')).toBeInTheDocument();
  });
});
