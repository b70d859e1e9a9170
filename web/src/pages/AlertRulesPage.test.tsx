import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../api/alerts';
import { conditionWords, durationWords } from '../api/alerts';
import { buildRule, emptyValues } from '../components/AlertRuleForm';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { AL_EQUIPMENT, AL_POINTS, AL_ZONES, RULES, RULE_SAT, TEMPLATES } from '../test/fixtures-alerts';
import { makeHarness, renderWith } from '../test/render';
import AlertRulesPage from './AlertRulesPage';

type Extra = (c: Call) => Response | undefined;

function sbems(roles: string[], extra: Extra) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/alert-rules' && c.method === 'GET') return json(200, page(RULES));
    if (c.path === '/api/v1/alert-templates') return json(200, TEMPLATES);
    if (c.path === '/api/v1/points') return json(200, page(AL_POINTS));
    if (c.path === '/api/v1/equipment') return json(200, page(AL_EQUIPMENT));
    if (c.path === '/api/v1/zones') return json(200, page(AL_ZONES));
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
