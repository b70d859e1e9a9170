import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../api/alerts';
import { conditionWords, durationWords } from '../api/alerts';
import { buildRule, eligiblePoints, emptyValues } from '../components/AlertRuleForm';
import type { Equipment, Point, Zone } from '../api/types';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { AL_EQUIPMENT, AL_POINTS, AL_ZONES, RULES, RULE_SAT, TEMPLATES } from '../test/fixtures-alerts';
import { makeHarness, renderWith } from '../test/render';
import AlertRulesPage from './AlertRulesPage';

type Extra = (c: Call) => Response | undefined;

// A second air handler whose box serves a zone with a schedule (what a schedule rule needs), a meter's
// energy counter, and a schedule and a forecast rule: added to the shared alert fixtures.
const SCHED_ZONE: Zone = { id: 'f2-north', building: 'hpo', name: 'Floor 2 north', floor: 2, schedule: { 'mon-fri': '07:00-19:00' } };
const MODEL = {
  zones: [...AL_ZONES, SCHED_ZONE],
  equipment: [...AL_EQUIPMENT,
    { id: 'ahu-2', building: 'hpo', name: 'AHU-2', type: 'ahu' },
    { id: 'vav-2', building: 'hpo', name: 'VAV 2', type: 'vav', zone: 'f2-north', parent: 'ahu-2' }] as Equipment[],
  points: [...AL_POINTS,
    { id: 'ahu-2.sf-status', equipment: 'ahu-2', name: 'Supply Fan Status', kind: 'status', point_id: 70 },
    { id: 'ahu-2.sf-power', equipment: 'ahu-2', name: 'Supply Fan Power', kind: 'power', unit: 'kW', point_id: 71 },
    { id: 'ahu-2.sat', equipment: 'ahu-2', name: 'Discharge Air Temp', kind: 'temperature', unit: '°C', point_id: 72 },
    { id: 'mtr-main.energy', equipment: 'mtr-main', name: 'Energy', kind: 'energy', unit: 'kWh', point_id: 2 }] as Point[],
};
const RULE_SCHED: AlertRule = {
  id: 'ahu-2-sf-schedule', name: 'AHU-2 fan out of schedule', type: 'schedule', building: 'hpo', point: 'ahu-2.sf-status',
  severity: 'minor', running_above: 0.5, on_delay_s: 3600, off_delay_s: 0, enabled: true, message: null, template: 'fan-schedule',
};
const RULE_FC: AlertRule = {
  id: 'main-off-forecast', name: 'Main meter off forecast', type: 'forecast', building: 'hpo', point: 'mtr-main.power',
  severity: 'major', hours: 3, direction: 'above', enabled: true, message: null, template: null,
};

function sbems(roles: string[], extra: Extra) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/alert-rules' && c.method === 'GET') return json(200, page([...RULES, RULE_SCHED, RULE_FC]));
    if (c.path === '/api/v1/alert-templates') return json(200, TEMPLATES);
    if (c.path === '/api/v1/points') return json(200, page(MODEL.points));
    if (c.path === '/api/v1/equipment') return json(200, page(MODEL.equipment));
    if (c.path === '/api/v1/zones') return json(200, page(MODEL.zones));
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[], extra: Extra = () => undefined) {
  const h = makeHarness(sbems(roles, extra));
  await h.client.login('vic', 'pw');
  renderWith(h, <AlertRulesPage />, { path: '/buildings/hpo/alert-rules/', route: '/buildings/:building/alert-rules' });
  await screen.findByRole('heading', { level: 1, name: 'Alert rules — Harbor Point Office' });
  return h;
}

const sent = (h: { calls: Call[] }, method: string, path?: string) => h.calls.filter((c) => c.method === method && (!path || c.path === path));
const row = (id: string) => screen.getByTestId(`rule-${id}`);
const C = { temp: 'C' as const, energy: 'kWh' as const };
const F = { temp: 'F' as const, energy: 'kWh' as const };
const optionsOf = (select: HTMLElement) => within(select).getAllByRole('option').map((o) => (o as HTMLOptionElement).value).filter(Boolean);
const created = (c: Call) => (c.path === '/api/v1/alert-rules' && c.method === 'POST'
  ? json(201, { ...(c.body as object), building: 'hpo', template: null })
  : undefined);

describe('condition in words', () => {
  it('says a threshold with delays and hysteresis in the user units', () => {
    expect(conditionWords(RULE_SAT, '°C', C)).toBe('above 16.0 °C for 5 min, clears 0.5 K lower after 2 min');
    expect(conditionWords(RULE_SAT, '°C', F)).toBe('above 60.8 °F for 5 min, clears 0.9 °F lower after 2 min');
    const band: AlertRule = { ...RULE_SAT, above: 26, below: 18, hysteresis: 0, on_delay_s: 0, off_delay_s: 0 };
    expect(conditionWords(band, '°C', C)).toBe('above 26.0 °C or below 18.0 °C, clears when back');
    expect(conditionWords({ ...RULE_SAT, point: 'mtr-main.power', above: 500, below: null, hysteresis: 20 }, 'kW', { temp: 'C', energy: 'MWh' }))
      .toBe('above 0.500 MW for 5 min, clears 0.020 MW lower after 2 min');
  });

  it('says rate, stale, offline and comfort rules', () => {
    const rate: AlertRule = { ...RULE_SAT, type: 'rate', above: null, max_rise: 2, max_fall: null, per_s: 600, on_delay_s: 0, off_delay_s: 60 };
    expect(conditionWords(rate, '°C', F)).toBe('rises more than 3.6 °F in 10 min, clears when slower after 1 min');
    expect(conditionWords({ ...RULE_SAT, type: 'stale', after_s: 900 }, '°C', C)).toBe('no good reading for 15 min');
    expect(conditionWords({ ...RULE_SAT, type: 'offline', point: null, equipment: 'ahu-1', on_delay_s: 600 }, '', C)).toBe('every polled point stale for 10 min');
    expect(conditionWords({ ...RULE_SAT, type: 'comfort', zone: 'f1-south', kh_limit: 2, window_s: 86_400 }, '', F))
      .toBe('more than 3.6 °F·h outside the comfort band while occupied, over 24 h');
    expect([90, 300, 3600, 5400, 86_400, 604_800].map(durationWords)).toEqual(['90 s', '5 min', '1 h', '90 min', '24 h', '7 days']);
  });

  it('says schedule and forecast rules, with the server defaults when a field is absent', () => {
    expect(conditionWords(RULE_SCHED, '', C)).toBe('running (above 0.5) while its zones are unoccupied, for 1 h');
    const power: AlertRule = { ...RULE_SCHED, point: 'ahu-2.sf-power', running_above: 2, on_delay_s: 0, off_delay_s: 600 };
    expect(conditionWords(power, 'kW', C)).toBe('running (above 2.0 kW) while its zones are unoccupied, clears 10 min after it stops or a zone is occupied');
    expect(conditionWords({ ...RULE_SCHED, running_above: null, on_delay_s: null }, '', C)).toBe('running (above 0.5) while its zones are unoccupied');
    expect(conditionWords(RULE_FC, 'kW', C)).toBe("3 hours in a row above its forecast's 90 % interval");
    expect(conditionWords({ ...RULE_FC, hours: 5, direction: 'below' }, 'kW', C)).toBe("5 hours in a row below its forecast's 90 % interval");
    expect(conditionWords({ ...RULE_FC, direction: 'both' }, 'kW', C)).toBe("3 hours in a row outside its forecast's 90 % interval");
    expect(conditionWords({ ...RULE_FC, hours: 1 }, 'kW', C)).toBe("1 complete hour above its forecast's 90 % interval");
    expect(conditionWords({ ...RULE_FC, hours: null, direction: null }, 'kW', C)).toBe("2 hours in a row above its forecast's 90 % interval");
  });

  it('offers only the points the server accepts for schedule and forecast rules', () => {
    const ids = (t: Parameters<typeof eligiblePoints>[0], m = MODEL) => eligiblePoints(t, m).map((p) => p.id);
    // AHU-2 serves Floor 2 north through its box; the meter and AHU-1 serve no zone with a schedule
    expect(ids('schedule')).toEqual(['ahu-2.sf-status', 'ahu-2.sf-power']);
    expect(ids('forecast')).toEqual(['mtr-main.power', 'mtr-main.energy']);
    expect(ids('threshold')).toHaveLength(MODEL.points.length);
    // without the zone's schedule, nothing says when AHU-2 should run
    expect(ids('schedule', { ...MODEL, zones: [...AL_ZONES, { ...SCHED_ZONE, schedule: null }] })).toEqual([]);
    // equipment in a scheduled zone itself counts too
    const own = { ...MODEL, equipment: MODEL.equipment.map((e) => (e.id === 'ahu-1' ? { ...e, zone: 'f2-north' } : e)) };
    expect(ids('schedule', own)).toEqual(['ahu-2.sf-status', 'ahu-2.sf-power']);
    expect(ids('schedule', { ...own, points: [...own.points, { id: 'ahu-1.sf-flow', equipment: 'ahu-1', name: 'Flow', kind: 'flow' }] }))
      .toEqual(['ahu-2.sf-status', 'ahu-2.sf-power', 'ahu-1.sf-flow']);
  });

  it('checks the forecast hours and converts a running level to the canonical unit', () => {
    const fc = { ...emptyValues(), id: 'x', name: 'X', type: 'forecast' as const, point: 'mtr-main.power' };
    expect(buildRule({ ...fc, hours: '99' }, 'kW', C, true).errors.hours).toBe('At most 72.');
    expect(buildRule({ ...fc, hours: '0' }, 'kW', C, true).errors.hours).toBe('At least 1.');
    expect(buildRule({ ...fc, hours: '2.5' }, 'kW', C, true).errors.hours).toBe('A whole number.');
    expect(buildRule({ ...fc, hours: '72', direction: 'below' }, 'kW', C, true).rule).toMatchObject({ hours: 72, direction: 'below' });
    const sch = { ...emptyValues(), id: 'x', name: 'X', type: 'schedule' as const, point: 'ahu-2.sf-power', running_above: '0.25' };
    expect(buildRule(sch, 'kW', { temp: 'C', energy: 'MWh' }, true).rule).toMatchObject({ running_above: 250 });
    expect(buildRule({ ...sch, running_above: '-1' }, 'kW', C, true).rule).toMatchObject({ running_above: -1 });
    expect(buildRule({ ...sch, point: '' }, 'kW', C, true).errors.point).toBe('Choose a point.');
  });

  it('converts typed values to the canonical unit exactly', () => {
    const v = { ...emptyValues(), id: 'x', name: 'X', point: 'p', above: '60.8', below: '41', hysteresis: '0.9', on_delay: '1.5' };
    expect(buildRule(v, '°C', F, true).rule).toMatchObject({ above: 16, below: 5, hysteresis: 0.5, on_delay_s: 90 });
    // a pressure point: no conversion, whatever the temperature preference
    expect(buildRule({ ...v, above: '250', below: '', hysteresis: '10' }, 'Pa', F, true).rule).toMatchObject({ above: 250, below: null, hysteresis: 10 });
    expect(buildRule({ ...v, above: '5', below: '41' }, '°C', F, true).errors.above).toBe('Must be more than “below”.');
  });
});

describe('AlertRulesPage', () => {
  it('lists the rules with what they watch and their condition in words, read only for a viewer', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    await show(['viewer']);
    const sat = row('ahu-1-sat-high');
    expect(within(sat).getByRole('link', { name: 'Discharge Air Temp (AHU-1)' })).toHaveAttribute('href', '/equipment/ahu-1/');
    expect(within(sat).getByText('Major')).toBeInTheDocument();
    expect(sat).toHaveTextContent('above 60.8 °F for 5 min, clears 0.9 °F lower after 2 min');
    expect(sat).toHaveTextContent('Enabled');
    expect(row('ahu-1-offline')).toHaveTextContent('Disabled');
    expect(within(row('f1-south-comfort')).getByRole('link', { name: 'Floor 1 south' })).toHaveAttribute('href', '/zones/f1-south/');
    // nothing to change
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Edit|Delete|New rule|Add recommended/ })).not.toBeInTheDocument();
  });

  it('shows stored schedule and forecast rules with their type, point and condition in words', async () => {
    await show(['viewer']);
    const sched = row('ahu-2-sf-schedule');
    expect(sched).toHaveTextContent('Running out of schedule · ahu-2-sf-schedule');
    expect(within(sched).getByRole('link', { name: 'Supply Fan Status (AHU-2)' })).toHaveAttribute('href', '/equipment/ahu-2/');
    expect(sched).toHaveTextContent('running (above 0.5) while its zones are unoccupied, for 1 h');
    const fc = row('main-off-forecast');
    expect(fc).toHaveTextContent('Energy off its forecast · main-off-forecast');
    expect(within(fc).getByRole('link', { name: 'Power (Main meter)' })).toHaveAttribute('href', '/equipment/mtr-main/');
    expect(fc).toHaveTextContent("3 hours in a row above its forecast's 90 % interval");
  });

  it('creates a schedule rule on a fan status point', async () => {
    const h = await show(['manager'], created);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'New rule' }));
    const form = screen.getByRole('form', { name: 'New alert rule' });
    // a temperature point chosen first does not survive the change of type
    await user.selectOptions(within(form).getByLabelText('Point watched'), 'ahu-1.discharge-air-temp');
    await user.selectOptions(within(form).getByLabelText('Type'), 'Running out of schedule');
    const picker = within(form).getByLabelText('Point watched');
    expect(picker).toHaveValue('');
    expect(optionsOf(picker)).toEqual(['ahu-2.sf-status', 'ahu-2.sf-power']);
    expect(within(form).queryByLabelText(/^Above/)).not.toBeInTheDocument();
    await user.type(within(form).getByLabelText('Rule id'), 'ahu-2-sf-night');
    await user.type(within(form).getByLabelText('Name'), 'AHU-2 fan at night');
    await user.selectOptions(picker, 'ahu-2.sf-status');
    expect(within(form).getByLabelText('Running when above')).toHaveValue('0.5');
    const on = within(form).getByLabelText('Raise after it holds for (minutes)');
    await user.clear(on);
    await user.type(on, '60');
    const off = within(form).getByLabelText('Clear after it has stopped or a zone is occupied for (minutes)');
    await user.clear(off);
    await user.click(within(form).getByRole('button', { name: 'Create rule' }));
    expect(await screen.findByText('Created “AHU-2 fan at night”.')).toBeInTheDocument();
    expect(sent(h, 'POST', '/api/v1/alert-rules')[0]?.body).toEqual({
      id: 'ahu-2-sf-night', name: 'AHU-2 fan at night', type: 'schedule', severity: 'major', enabled: true,
      point: 'ahu-2.sf-status', running_above: 0.5, on_delay_s: 3600,
    });
    expect(row('ahu-2-sf-night')).toHaveTextContent('running (above 0.5) while its zones are unoccupied, for 1 h');
  });

  it('creates a forecast rule on a meter point, refusing hours the server would refuse', async () => {
    const h = await show(['manager'], created);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'New rule' }));
    const form = screen.getByRole('form', { name: 'New alert rule' });
    await user.selectOptions(within(form).getByLabelText('Type'), 'Energy off its forecast');
    const picker = within(form).getByLabelText('Point watched');
    expect(optionsOf(picker)).toEqual(['mtr-main.power', 'mtr-main.energy']);
    expect(within(form).queryByLabelText(/Raise after/)).not.toBeInTheDocument();
    await user.type(within(form).getByLabelText('Rule id'), 'main-dev');
    await user.type(within(form).getByLabelText('Name'), 'Main meter off forecast');
    await user.selectOptions(picker, 'mtr-main.energy');
    const hours = within(form).getByLabelText('Hours in a row outside the interval');
    expect(hours).toHaveValue('2');
    await user.clear(hours);
    await user.type(hours, '99');
    await user.click(within(form).getByRole('button', { name: 'Create rule' }));
    expect(within(form).getByText('At most 72.')).toBeInTheDocument();
    expect(hours).toHaveAttribute('aria-invalid', 'true');
    expect(sent(h, 'POST', '/api/v1/alert-rules')).toHaveLength(0);

    await user.clear(hours);
    await user.type(hours, '3');
    await user.selectOptions(within(form).getByLabelText('Side of the forecast’s 90 % interval'), 'Either side');
    await user.click(within(form).getByRole('button', { name: 'Create rule' }));
    expect(await screen.findByText('Created “Main meter off forecast”.')).toBeInTheDocument();
    expect(sent(h, 'POST', '/api/v1/alert-rules')[0]?.body).toEqual({
      id: 'main-dev', name: 'Main meter off forecast', type: 'forecast', severity: 'major', enabled: true,
      point: 'mtr-main.energy', hours: 3, direction: 'both',
    });
    expect(row('main-dev')).toHaveTextContent("3 hours in a row outside its forecast's 90 % interval");
  });

  it('shows the server refusing a schedule rule on its point field', async () => {
    await show(['manager'], (c) => (c.path === '/api/v1/alert-rules' && c.method === 'POST'
      ? apiError(400, 'invalid', 'invalid', [{ field: 'point', message: 'the point\'s equipment serves no zone with a schedule' }])
      : undefined));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'New rule' }));
    const form = screen.getByRole('form', { name: 'New alert rule' });
    await user.selectOptions(within(form).getByLabelText('Type'), 'Running out of schedule');
    await user.type(within(form).getByLabelText('Rule id'), 'x');
    await user.type(within(form).getByLabelText('Name'), 'X');
    await user.selectOptions(within(form).getByLabelText('Point watched'), 'ahu-2.sf-power');
    await user.click(within(form).getByRole('button', { name: 'Create rule' }));
    expect(await within(form).findByText('the point\'s equipment serves no zone with a schedule')).toBeInTheDocument();
    expect(within(form).getByLabelText('Point watched')).toHaveAttribute('aria-invalid', 'true');
  });

  it('edits a forecast rule with a merge patch of its fields', async () => {
    const h = await show(['manager'], (c) => (c.method === 'PATCH' ? json(200, { ...RULE_FC, ...(c.body as object) }) : undefined));
    const user = userEvent.setup();
    await user.click(within(row('main-off-forecast')).getByRole('button', { name: 'Edit Main meter off forecast' }));
    const form = screen.getByRole('form', { name: 'Edit Main meter off forecast' });
    expect(within(form).getByLabelText('Hours in a row outside the interval')).toHaveValue('3');
    await user.selectOptions(within(form).getByLabelText('Side of the forecast’s 90 % interval'), 'below');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await screen.findByText('Saved “Main meter off forecast”.');
    expect(sent(h, 'PATCH', '/api/v1/alert-rules/main-off-forecast')[0]?.body).toEqual({
      name: 'Main meter off forecast', severity: 'major', enabled: true, message: null,
      point: 'mtr-main.power', hours: 3, direction: 'below',
    });
    expect(row('main-off-forecast')).toHaveTextContent("3 hours in a row below its forecast's 90 % interval");
  });

  it('creates a rule from °F input, shows a 400 detail on its field, then saves', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    let n = 0;
    const h = await show(['manager'], (c) => {
      if (c.path !== '/api/v1/alert-rules' || c.method !== 'POST') return undefined;
      return ++n === 1
        ? apiError(400, 'invalid', 'invalid', [{ field: 'above', message: 'above is outside what this sensor can read' }])
        : json(201, { ...(c.body as object), building: 'hpo', template: null });
    });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'New rule' }));
    const form = screen.getByRole('form', { name: 'New alert rule' });
    expect(within(form).getByRole('heading', { name: 'New alert rule' })).toHaveFocus();
    await user.type(within(form).getByLabelText('Rule id'), 'ahu-1-sat-hot');
    await user.type(within(form).getByLabelText('Name'), 'AHU-1 discharge too hot');
    await user.selectOptions(within(form).getByLabelText('Point watched'), 'ahu-1.discharge-air-temp');
    await user.type(within(form).getByLabelText('Above (°F)'), '60.8');
    await user.type(within(form).getByLabelText('Clears this much back inside (°F)'), '0.9');
    await user.click(within(form).getByRole('button', { name: 'Create rule' }));

    expect(await within(form).findByText('above is outside what this sensor can read')).toBeInTheDocument();
    expect(within(form).getByLabelText('Above (°F)')).toHaveAttribute('aria-invalid', 'true');
    expect(sent(h, 'POST', '/api/v1/alert-rules')[0]?.body).toEqual({
      id: 'ahu-1-sat-hot', name: 'AHU-1 discharge too hot', type: 'threshold', severity: 'major', enabled: true,
      point: 'ahu-1.discharge-air-temp', above: 16, hysteresis: 0.5, on_delay_s: 300, off_delay_s: 120,
    });

    await user.click(within(form).getByRole('button', { name: 'Create rule' }));
    expect(await screen.findByText('Created “AHU-1 discharge too hot”.')).toBeInTheDocument();
    expect(row('ahu-1-sat-hot')).toHaveTextContent('above 60.8 °F for 5 min, clears 0.9 °F lower after 2 min');
    expect(screen.queryByRole('form')).not.toBeInTheDocument();
  });

  it('edits a rule with a merge patch of its fields, the values shown in the user units', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const h = await show(['manager'], (c) => (c.method === 'PATCH' ? json(200, { ...RULE_SAT, ...(c.body as object) }) : undefined));
    const user = userEvent.setup();
    await user.click(within(row('ahu-1-sat-high')).getByRole('button', { name: 'Edit AHU-1 discharge air too warm' }));
    const form = screen.getByRole('form', { name: 'Edit AHU-1 discharge air too warm' });
    const above = within(form).getByLabelText('Above (°F)');
    expect(above).toHaveValue('60.8');
    await user.clear(above);
    await user.type(above, '62.6');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await screen.findByText('Saved “AHU-1 discharge air too warm”.');
    expect(sent(h, 'PATCH', '/api/v1/alert-rules/ahu-1-sat-high')[0]?.body).toEqual({
      name: 'AHU-1 discharge air too warm', severity: 'major', enabled: true, message: null,
      point: 'ahu-1.discharge-air-temp', above: 17, below: null, hysteresis: 0.5, on_delay_s: 300, off_delay_s: 120,
    });
    expect(row('ahu-1-sat-high')).toHaveTextContent('above 62.6 °F');
  });

  it('switches a rule off with PATCH and deletes one after confirmation', async () => {
    const h = await show(['manager'], (c) => {
      if (c.method === 'PATCH') return json(200, { ...RULE_SAT, enabled: false });
      if (c.method === 'DELETE') return empty(204);
      return undefined;
    });
    const user = userEvent.setup();
    await user.click(screen.getByRole('checkbox', { name: 'AHU-1 discharge air too warm enabled' }));
    await waitFor(() => expect(row('ahu-1-sat-high')).toHaveTextContent('Disabled'));
    expect(sent(h, 'PATCH')[0]?.body).toEqual({ enabled: false });

    await user.click(screen.getByRole('button', { name: 'Delete AHU-1 offline' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete the rule “AHU-1 offline”?' });
    expect(sent(h, 'DELETE')).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Delete rule' }));
    await waitFor(() => expect(screen.queryByTestId('rule-ahu-1-offline')).not.toBeInTheDocument());
    expect(sent(h, 'DELETE')[0]?.path).toBe('/api/v1/alert-rules/ahu-1-offline');
    expect(screen.getByText('Deleted “AHU-1 offline”.')).toBeInTheDocument();
  });

  it('applies the chosen templates and says what was created and skipped', async () => {
    const h = await show(['manager'], (c) => (c.path === '/api/v1/alert-templates/apply'
      ? json(201, { created: ['f1-south-comfort-2', 'vav-1-offline'], skipped: [{ id: 'ahu-1-offline', reason: 'exists' }] })
      : undefined));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Add recommended rules' }));
    await user.click(await screen.findByRole('checkbox', { name: /Device offline/ }));
    await user.click(screen.getByRole('checkbox', { name: /Zone comfort/ }));
    await user.click(screen.getByRole('button', { name: 'Add 2 templates' }));
    expect(await screen.findByText('Created 2 rules: f1-south-comfort-2, vav-1-offline. Skipped 1: ahu-1-offline (already there).')).toBeInTheDocument();
    expect(sent(h, 'POST', '/api/v1/alert-templates/apply')[0]?.body).toEqual({ building: 'hpo', templates: ['zone-comfort', 'device-offline'] });
    await waitFor(() => expect(sent(h, 'GET', '/api/v1/alert-rules')).toHaveLength(2)); // the list read again
  });
});
