import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { FddUnit } from '../api/fdd';
import { fieldProblem, overridesOf } from '../api/fdd';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING } from '../test/fixtures';
import { UNITS, UNIT_AHU } from '../test/fixtures-fdd';
import { makeHarness, renderWith } from '../test/render';
import FddSettingsPage from './FddSettingsPage';

type Extra = (c: Call) => Response | undefined;

/** sbems: PUT answers the unit with the overrides applied, as the contract says. */
function sbems(roles: string[], extra: Extra = () => undefined) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/fdd/units' && c.method === 'GET') return json(200, { units: UNITS });
    const m = /^\/api\/v1\/fdd\/units\/([^/]+)$/.exec(c.path);
    const unit = UNITS.find((u) => u.equipment === decodeURIComponent(m?.[1] ?? ''));
    if (unit && c.method === 'PUT') {
      const overrides = (c.body as { overrides: Record<string, number> }).overrides;
      const next: FddUnit = { ...unit, overrides, params: unit.params.map((p) => ({ ...p, value: overrides[p.name] ?? p.default })) };
      return json(200, next);
    }
    if (unit && c.method === 'DELETE') return empty(204);
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[], extra?: Extra) {
  const h = makeHarness(sbems(roles, extra));
  await h.client.login('vic', 'pw');
  renderWith(h, <FddSettingsPage />, { path: '/buildings/hpo/faults/settings/', route: '/buildings/:building/faults/settings' });
  await screen.findByRole('heading', { level: 1, name: 'Fault detection settings' });
  return h;
}

const card = (eq: string) => screen.getByTestId(`unit-${eq}`);
const writes = (h: { calls: Call[] }) => h.calls.filter((c) => c.method === 'PUT' || c.method === 'DELETE');

async function openParams(eq: string) {
  await userEvent.click(within(card(eq)).getByText(/^Parameters \(/));
}

describe('overrides of a form', () => {
  const params = UNIT_AHU.params;
  it('keeps only numbers other than their defaults; empty means the default', () => {
    expect(overridesOf(params, { eps_t: '2.5', on_delay_s: '3600' })).toEqual({ eps_t: 2.5 });
    expect(overridesOf(params, { eps_t: '', on_delay_s: ' 1800 ' })).toEqual({ on_delay_s: 1800 });
    expect(overridesOf(params, { eps_t: '2' })).toEqual({});
  });
  it('says what is wrong with a field in words', () => {
    const eps = params[0] as FddUnit['params'][number];
    expect(fieldProblem(eps, 'abc')).toBe('Enter a number.');
    expect(fieldProblem(eps, '0.05')).toBe('Must be between 0.1 and 10 K.');
    expect(fieldProblem(eps, '10')).toBeNull();
    expect(fieldProblem(eps, '')).toBeNull();
  });
});

describe('FddSettingsPage', () => {
  it('lists the units, watched or why not, with values read-only for a viewer', async () => {
    await show(['viewer']);
    expect(screen.getByText('1 of 2 units are watched.', { exact: false })).toBeInTheDocument();
    const ahu = card('ahu-1');
    expect(within(ahu).getByRole('heading', { name: 'AHU-1' })).toBeInTheDocument();
    expect(within(ahu).getByText('Watched')).toBeInTheDocument();
    expect(within(ahu).getByText('Parameters (2; 1 changed from the defaults)')).toBeInTheDocument();
    const vav = card('vav-3');
    expect(within(vav).getByText('Not watched')).toBeInTheDocument();
    expect(within(vav).getByText('no damper position point')).toBeInTheDocument();

    await openParams('ahu-1');
    const t = within(ahu).getByRole('table', { name: 'Parameters of AHU-1' });
    const eps = within(t).getByRole('rowheader', { name: /^eps_t/ }).closest('tr') as HTMLElement;
    expect(within(eps).getAllByRole('cell').map((c) => c.textContent)).toEqual(['2.5 K Changed from the default (2 K)', '2 K']);
    const delay = within(t).getByRole('rowheader', { name: /^on_delay_s/ }).closest('tr') as HTMLElement;
    expect(within(delay).getAllByRole('cell')[0]).toHaveTextContent('3,600 s default');
    expect(screen.queryByRole('button', { name: /^Save/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Reset to defaults/ })).toBeNull();
    expect(screen.queryByRole('spinbutton')).toBeNull();
    expect(screen.getByText(/Managers can change these values\./)).toBeInTheDocument();
  });

  it('lets a manager save: the PUT holds only the values that differ from their defaults', async () => {
    const h = await show(['manager']);
    await openParams('ahu-1');
    const ahu = card('ahu-1');
    const eps = within(ahu).getByRole('spinbutton', { name: 'eps_t (K)' });
    expect(eps).toHaveValue(2.5);
    expect(eps).toHaveAccessibleDescription('temperature threshold. Default 2 K; allowed 0.1 to 10 K.');
    const delay = within(ahu).getByRole('spinbutton', { name: 'on_delay_s (s)' });
    await userEvent.clear(eps);
    await userEvent.type(eps, '3');
    await userEvent.clear(delay);
    await userEvent.type(delay, '1800');
    // typed back to the default: not an override
    await userEvent.clear(delay);
    await userEvent.type(delay, '3600');
    await userEvent.click(within(ahu).getByRole('button', { name: 'Save AHU-1' }));
    expect(await within(ahu).findByText('Saved: 1 changed from the defaults.')).toBeInTheDocument();
    expect(writes(h).map((c) => [c.method, c.path, c.body])).toEqual([
      ['PUT', '/api/v1/fdd/units/ahu-1', { overrides: { eps_t: 3 } }],
    ]);
    expect(within(ahu).getByText('Parameters (2; 1 changed from the defaults)')).toBeInTheDocument();
  });

  it('shows the server\'s 400 message next to the form, and checks the range before sending', async () => {
    const h = await show(['manager'], (c) => (c.method === 'PUT'
      ? apiError(400, 'bad_request', 'eps_t: must not exceed eps_f when both are set') : undefined));
    await openParams('ahu-1');
    const ahu = card('ahu-1');
    const eps = within(ahu).getByRole('spinbutton', { name: 'eps_t (K)' });
    await userEvent.clear(eps);
    await userEvent.type(eps, '20');
    await userEvent.click(within(ahu).getByRole('button', { name: 'Save AHU-1' }));
    expect(within(ahu).getByText('Must be between 0.1 and 10 K.')).toBeInTheDocument();
    expect(eps).toHaveAttribute('aria-invalid', 'true');
    expect(writes(h)).toHaveLength(0);

    await userEvent.clear(eps);
    await userEvent.type(eps, '9');
    await userEvent.click(within(ahu).getByRole('button', { name: 'Save AHU-1' }));
    expect(await within(ahu).findByRole('alert')).toHaveTextContent('Not saved: eps_t: must not exceed eps_f when both are set');
    expect(writes(h)[0]?.body).toEqual({ overrides: { eps_t: 9 } });
    expect(eps).toHaveValue(9); // the typed value stays to correct
  });

  it('resets a unit to its defaults only after the confirmation (DELETE)', async () => {
    const h = await show(['manager']);
    await openParams('ahu-1');
    const ahu = card('ahu-1');
    // the VAV has no overrides: nothing to reset
    await openParams('vav-3');
    expect(within(card('vav-3')).getByRole('button', { name: 'Reset to defaults (VAV 3)' })).toBeDisabled();

    await userEvent.click(within(ahu).getByRole('button', { name: 'Reset to defaults (AHU-1)' }));
    let dialog = screen.getByRole('dialog', { name: 'Reset AHU-1 to the defaults?' });
    expect(dialog).toHaveTextContent('eps_t: 2.5 K → 2 K');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(writes(h)).toHaveLength(0);

    await userEvent.click(within(ahu).getByRole('button', { name: 'Reset to defaults (AHU-1)' }));
    dialog = screen.getByRole('dialog', { name: 'Reset AHU-1 to the defaults?' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Reset to defaults' }));
    expect(await within(ahu).findByText('Back to the defaults.')).toBeInTheDocument();
    expect(writes(h).map((c) => [c.method, c.path, c.body])).toEqual([['DELETE', '/api/v1/fdd/units/ahu-1', undefined]]);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(within(ahu).getByRole('spinbutton', { name: 'eps_t (K)' })).toHaveValue(2);
    expect(within(ahu).getByText('Parameters (2; all defaults)')).toBeInTheDocument();
    expect(UNIT_AHU.overrides).toEqual({ eps_t: 2.5 }); // the fixture is untouched
  });
});
