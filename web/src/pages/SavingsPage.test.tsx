import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiError, json } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { E_NOW, SAVINGS, engineServer } from '../test/fixtures-analytics';
import type { EngineRoute } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import SavingsPage from './SavingsPage';

async function show(roles: string[], extra?: EngineRoute) {
  localStorage.setItem('sbems.tempUnit', 'C');
  localStorage.setItem('sbems.energyUnit', 'kWh');
  const h = makeHarness(engineServer(roles, extra));
  await h.client.login('v', 'pw');
  renderWith(h, <SavingsPage />, { path: '/buildings/hpo/savings/', route: '/buildings/:building/savings' });
  await screen.findByRole('heading', { level: 1, name: 'Measured savings' });
  return h;
}

const asked = (h: { calls: Call[] }) => h.calls.filter((c) => c.path === '/api/v1/analytics/savings');
const form = () => screen.getByRole('form', { name: 'Savings periods' });
const period = (legend: RegExp) => within(form()).getByRole('group', { name: legend });
const compute = () => userEvent.click(within(form()).getByRole('button', { name: 'Compute savings' }));

function cells(table: string, row: string): string[] {
  const th = within(screen.getByRole('table', { name: table })).getByRole('rowheader', { name: row });
  return within(th.closest('tr') as HTMLElement).getAllByRole('cell').map((c) => c.textContent ?? '');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(E_NOW); // Fri Nov 27, 2026 (local)
});
afterEach(() => vi.useRealTimers());

describe('SavingsPage', () => {
  it('proposes the year before the first measure and the days since, and asks only when told', async () => {
    const h = await show(['viewer']);
    expect(within(period(/Baseline/)).getByLabelText('First day')).toHaveValue('2024-11-13');
    expect(within(period(/Baseline/)).getByLabelText('Last day')).toHaveValue('2025-11-12');
    expect(within(period(/Reporting/)).getByLabelText('First day')).toHaveValue('2025-11-13');
    expect(within(period(/Reporting/)).getByLabelText('Last day')).toHaveValue('2026-11-26');
    expect(within(form()).getByLabelText('Meter')).toHaveValue('meter-main');
    expect(asked(h)).toHaveLength(0);
    await compute();
    await screen.findByText('10.0 % saved: 66,812 kWh avoided');
    expect(asked(h).map((c) => Object.fromEntries(c.query))).toEqual([{
      building: 'hpo', baseline: '2024-11-13/2025-11-12', reporting: '2025-11-13/2026-11-26', meter: 'meter-main', method: 'hourly',
    }]);
  });

  it('shows the savings with both ranges explained, the model against Guideline 14, measures, cost and notes', async () => {
    await show(['viewer']);
    await compute();
    await screen.findByText('10.0 % saved: 66,812 kWh avoided');
    expect(screen.getByText(/Reporting period Thu, Nov 13, 2025 – Thu, Nov 12, 2026 against the baseline Wed, Oct 30, 2024 – Wed, Oct 29, 2025, meter meter-main; 8,760 of 8,760 hours used/)).toBeInTheDocument();
    expect(cells('Uncertainty ranges of the energy avoided', 'ASHRAE Guideline 14').slice(0, 2)).toEqual(['66,263 kWh – 67,362 kWh', '10.0 % – 10.1 %']);
    expect(cells('Uncertainty ranges of the energy avoided', 'With drift (realistic)').slice(0, 2)).toEqual(['41,927 kWh – 91,698 kWh', '6.3 % – 13.8 %']);
    expect(screen.getByText(/^Rely on the range with drift/)).toHaveTextContent('19 of 23 cases with drift, and in 1 of 23 for Guideline 14');

    expect(screen.getByText('Passes Guideline 14')).toBeInTheDocument();
    expect(screen.getByText(/CV\(RMSE\) 3\.7 % \(limit 30 %\); NMBE 0\.00 % \(limit ±10 %\); R² 0\.99/)).toBeInTheDocument();
    expect(screen.getByText(/CalTRACK hourly .*, 176 parameters fitted on 8,760 hours/)).toBeInTheDocument();

    expect(cells('Savings per measure', 'Fan VFDs')).toEqual(['Thu, Nov 13, 2025', '34,360 kWh', '10.0 %', '33,955 kWh – 34,766 kWh (9.9 % – 10.1 %)', '25,079 kWh – 43,641 kWh (7.3 % – 12.7 %)']);
    expect(cells('Savings per measure', 'LED retrofit')[1]).toBe('32,452 kWh');

    const cost = screen.getByRole('heading', { name: 'Cost savings through tariff b19' }).closest('div') as HTMLElement;
    expect(cost).toHaveTextContent('$158,914.80');
    expect(cost).toHaveTextContent('$143,704.24');
    expect(cost).toHaveTextContent('$15,210.56');
    expect(cost).toHaveTextContent('hourly data: demand charges use hourly means, which understate 15-minute peaks');
    expect(screen.queryByRole('heading', { name: /Normalised/ })).toBeNull();
    expect(screen.getByText('Normalised savings need two earlier years of outdoor temperature in the store.')).toBeInTheDocument();
    expect(screen.getByText(/^The with_drift interval adds the out-of-sample error of month blocks/)).toBeInTheDocument();

    const chart = screen.getByRole('figure', { name: 'Daily energy: adjusted baseline against actual' });
    expect(chart).toHaveTextContent('Adjusted baseline: first 1,848 kWh, lowest 1,303 kWh, highest 2,024 kWh');
    expect(chart).toHaveTextContent('Actual: first 1,680 kWh');
    // viewers read the measures but may not edit them
    expect(screen.queryByRole('button', { name: 'Edit measures' })).toBeNull();
  });

  it('uses the daily method on request and shows its degree-day model and why cost is missing', async () => {
    const h = await show(['viewer']);
    await userEvent.click(within(form()).getByRole('radio', { name: 'CalTRACK daily' }));
    await compute();
    await screen.findByText('10.2 % saved: 67,737 kWh avoided');
    expect(asked(h)[0]?.query.get('method')).toBe('daily');
    expect(screen.getByText(/Daily use = 1,488 kWh a day \+ 46 kWh per K·day below 12\.2 °C \+ 66 kWh per K·day above 17\.2 °C/)).toBeInTheDocument();
    expect(screen.getByText(/Guideline 14 sets no limits for daily models/)).toBeInTheDocument();
    expect(screen.getByText(/365 of 365 days used/)).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: /Cost savings/ })).toBeNull();
    expect(screen.getByText('Cost savings need the hourly method: a tariff prices hours, the daily model predicts days.')).toBeInTheDocument();
  });

  it('shows normalised savings when sbems could compute them', async () => {
    const normalised = { baseline_kwh: 671000.4, reporting_kwh: 603200.2, savings_kwh: 67800.2, percent: 10.104, years_of_weather: 3 };
    await show(['viewer'], (c) => (c.path === '/api/v1/analytics/savings'
      ? json(200, { ...SAVINGS, normalised, notes: SAVINGS.notes.slice(0, 1) })
      : undefined));
    await compute();
    const box = (await screen.findByRole('heading', { name: 'Normalised to a typical year' })).closest('div') as HTMLElement;
    expect(box).toHaveTextContent('67,800 kWh (10.1 %) a year in the weather of 3 earlier years: 671,000 kWh before, 603,200 kWh after. No uncertainty is given for it.');
  });

  it('says in words what the baseline lacks (409 insufficient_data)', async () => {
    await show(['viewer'], (c) => (c.path === '/api/v1/analytics/savings'
      ? apiError(409, 'insufficient_data', 'needs 365 days with at most 37 missing (>= 90 % coverage), has 281 valid days (77.0 %)')
      : undefined));
    await compute();
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The baseline is not enough for a savings estimate: needs 365 days with at most 37 missing (≥ 90 % coverage), has 281 valid days (77.0 %).');
  });

  it('checks the periods before asking', async () => {
    const h = await show(['viewer']);
    const first = within(period(/Reporting/)).getByLabelText('First day');
    await userEvent.clear(first);
    await userEvent.type(first, '2025-11-01');
    await compute();
    expect(within(form()).getByRole('alert')).toHaveTextContent('The reporting period must start after the baseline ends.');
    expect(asked(h)).toHaveLength(0);
  });

  it('lets a manager edit the measures, sends the whole list after confirming, and shows the server refusal', async () => {
    let refuse = true;
    const h = await show(['manager'], (c) => {
      if (c.path === '/api/v1/buildings/hpo/measures' && c.method === 'PUT' && refuse) {
        refuse = false;
        return apiError(400, 'invalid', 'measures[2]: {"id": slug, "name": "...", "start": "YYYY-MM-DD", "description"?: "..."}');
      }
      return undefined;
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit measures' }));
    const editor = screen.getByRole('form', { name: 'Edit measures' });
    await userEvent.click(within(editor).getByRole('button', { name: 'Add a measure' }));
    const third = within(editor).getByRole('group', { name: 'Measure 3' });
    await userEvent.type(within(third).getByLabelText('Id'), 'bms');
    await userEvent.type(within(third).getByLabelText('Name'), 'BMS tuning');
    await userEvent.type(within(third).getByLabelText('Start day'), '2026-09-01');
    const first = within(editor).getByRole('group', { name: 'Measure 1' });
    await userEvent.type(within(first).getByLabelText('Description (optional)'), 'supply and return fans');
    await userEvent.click(within(editor).getByRole('button', { name: 'Save measures' }));
    const dialog = screen.getByRole('dialog', { name: 'Save the measures?' });
    expect(dialog).toHaveTextContent('BMS tuning (bms) from 2026-09-01');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await within(editor).findByRole('alert')).toHaveTextContent('Not saved: measures[2]: {"id": slug, "name": "...", "start": "YYYY-MM-DD", "description"?: "..."}');

    await userEvent.click(within(editor).getByRole('button', { name: 'Save measures' }));
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Save' }));
    await screen.findByText('Measures saved (3).');
    const puts = h.calls.filter((c) => c.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts[1]?.path).toBe('/api/v1/buildings/hpo/measures');
    expect(puts[1]?.body).toEqual({ measures: [
      { id: 'vfd', name: 'Fan VFDs', start: '2025-11-13', description: 'supply and return fans' },
      { id: 'led', name: 'LED retrofit', start: '2026-05-12', description: 'all floors' },
      { id: 'bms', name: 'BMS tuning', start: '2026-09-01' },
    ] });
    await waitFor(() => expect(screen.getByRole('rowheader', { name: 'BMS tuning' })).toBeInTheDocument());
  });

  it('checks measures before the dialog', async () => {
    await show(['manager']);
    await userEvent.click(await screen.findByRole('button', { name: 'Edit measures' }));
    const editor = screen.getByRole('form', { name: 'Edit measures' });
    await userEvent.click(within(editor).getByRole('button', { name: 'Add a measure' }));
    await userEvent.click(within(editor).getByRole('button', { name: 'Save measures' }));
    expect(within(editor).getByRole('alert')).toHaveTextContent(/^Measure 3: the id is lower-case/);
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});
