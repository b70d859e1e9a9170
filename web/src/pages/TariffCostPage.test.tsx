import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lastFullMonth } from '../components/TariffBills';
import { checkHolidays } from '../components/TariffHolidays';
import { apiError, json } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { E_NOW, engineServer } from '../test/fixtures-analytics';
import type { EngineRoute } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import TariffCostPage from './TariffCostPage';

async function show(roles: string[], extra?: EngineRoute) {
  const h = makeHarness(engineServer(roles, extra));
  await h.client.login('v', 'pw');
  renderWith(h, <TariffCostPage />, { path: '/buildings/hpo/cost/', route: '/buildings/:building/cost' });
  await screen.findByRole('heading', { level: 1, name: 'Cost and bills' });
  return h;
}

const costs = (h: { calls: Call[] }) => h.calls.filter((c) => c.path === '/api/v1/analytics/cost');
const puts = (h: { calls: Call[] }) => h.calls.filter((c) => c.method === 'PUT');
const bill = (name: RegExp) => screen.getByRole('heading', { level: 3, name }).closest('section') as HTMLElement;

function cells(table: RegExp, row: string | RegExp): string[] {
  const th = within(screen.getByRole('table', { name: table })).getByRole('rowheader', { name: row });
  return within(th.closest('tr') as HTMLElement).getAllByRole('cell').map((c) => c.textContent ?? '');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(E_NOW); // Fri Nov 27, 2026 in New York
});
afterEach(() => vi.useRealTimers());

describe('bill periods and holidays', () => {
  it('defaults to the last full month', () => {
    expect(lastFullMonth('2026-11-27')).toEqual({ start: '2026-10-01', end: '2026-10-31' });
    expect(lastFullMonth('2026-01-05')).toEqual({ start: '2025-12-01', end: '2025-12-31' });
    expect(lastFullMonth('2028-03-01')).toEqual({ start: '2028-02-01', end: '2028-02-29' });
  });
  it('checks holiday rows', () => {
    expect(checkHolidays([{ date: '2026-12-25', name: 'Christmas Day' }])).toBeNull();
    expect(checkHolidays([{ date: '', name: 'X' }])).toBe('Holiday 1: give its day.');
    expect(checkHolidays([{ date: '2026-12-25', name: ' ' }])).toBe('Holiday 1: give it a name.');
    expect(checkHolidays([{ date: '2026-12-25', name: 'A' }, { date: '2026-12-25', name: 'B' }])).toBe('Holiday 2: 2026-12-25 is listed twice.');
  });
});

describe('TariffCostPage', () => {
  it('shows the tariff, the bills of the last full month with line items, peak and notes, and the holidays, read only', async () => {
    const h = await show(['viewer']);
    expect(screen.getByText('B-19 style (illustrative)')).toBeInTheDocument();
    expect(screen.getByText('peak: $0.35/kWh, weekdays 16:00–21:00')).toBeInTheDocument();
    await screen.findByText(/^\$13,709\.51 for/);
    expect(costs(h).map((c) => Object.fromEntries(c.query))).toEqual([{ building: 'hpo', period: '2026-10-01/2026-10-31' }]);
    expect(screen.getByText(/^\$13,709\.51 for/)).toHaveTextContent('$13,709.51 for Tue, Oct 27, 2026 – Wed, Nov 25, 2026: 2 bills, meter meter-main, tariff b19.');

    const oct = bill(/^Billing period Thu, Oct 1, 2026 – Sat, Oct 31, 2026/);
    expect(oct).toHaveTextContent('Priced Tue, Oct 27, 2026 – Sat, Oct 31, 2026 (16 % of the period); 7,613 kWh imported; 0 of 480 intervals without data.');
    expect(oct).toHaveTextContent('Peak demand: 106.5 kW, set at Oct 27, 07:00:00 AM EDT.');
    const items = /^Line items, Billing period Thu, Oct 1/;
    expect(cells(items, 'winter peak energy')).toEqual(['1,416.9 kWh', '$0.35/kWh', '$495.91']);
    expect(cells(items, /^max_demand demand/)).toEqual(['106.5 kW', '$20.00/kW', '$2,129.68']);
    expect(within(oct).getByText('peak Oct 27, 07:00:00 AM EDT')).toBeInTheDocument();
    expect(cells(items, 'customer (per day)')).toEqual(['5 days', '$3.00/day', '$15.00']);
    expect(cells(items, 'Tax')).toEqual(['$0.00']);
    expect(cells(items, 'Total')).toEqual(['$3,569.97']);
    expect(within(oct).getByText('Notes: the data covers part of the period; fixed charges pro-rated.')).toBeInTheDocument();
    expect(bill(/^Billing period Sun, Nov 1, 2026 – Mon, Nov 30, 2026/)).toHaveTextContent('Peak demand: 121.3 kW, set at Nov 24, 07:15:00 AM EST.');

    expect(within(screen.getByRole('table', { name: 'Holidays of the building' })).getByRole('rowheader', { name: 'Fri, Dec 25, 2026' })).toBeInTheDocument();
    expect(screen.getByText('Christmas Day')).toBeInTheDocument();
    expect(screen.queryByRole('form', { name: 'Assign a tariff' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit holidays' })).toBeNull();
  });

  it('asks for the bills of the days chosen, and checks them first', async () => {
    const h = await show(['viewer']);
    await screen.findByText(/^\$13,709\.51 for/);
    const form = screen.getByRole('form', { name: 'Billing days' });
    const first = within(form).getByLabelText('First day');
    await userEvent.clear(first);
    await userEvent.type(first, '2026-11-30');
    await userEvent.click(within(form).getByRole('button', { name: 'Show bills' }));
    expect(within(form).getByRole('alert')).toHaveTextContent('The first day is after the last day.');
    expect(costs(h)).toHaveLength(1);
    await userEvent.clear(first);
    await userEvent.type(first, '2026-09-15');
    await userEvent.click(within(form).getByRole('button', { name: 'Show bills' }));
    await waitFor(() => expect(costs(h)).toHaveLength(2));
    expect(costs(h)[1]?.query.get('period')).toBe('2026-09-15/2026-10-31');
  });

  it('asks for no bills without a tariff, and says a refusal in words', async () => {
    const none = await show(['viewer'], (c) => (c.path === '/api/v1/buildings/hpo/tariff' ? json(200, { tariff: null }) : undefined));
    expect(screen.getByText('No tariff is assigned: there are no bills or cost savings.')).toBeInTheDocument();
    expect(screen.getByText('Bills need a tariff; a manager can assign one.')).toBeInTheDocument();
    expect(costs(none)).toHaveLength(0);
  });

  it('says why sbems could not bill (409 no_tariff)', async () => {
    await show(['viewer'], (c) => (c.path === '/api/v1/analytics/cost' ? apiError(409, 'no_tariff', "the building's tariff b19 no longer exists") : undefined));
    expect(await screen.findByText("No bills: the building's tariff b19 no longer exists.")).toBeInTheDocument();
  });

  it('lets a manager change the tariff after confirming', async () => {
    const h = await show(['manager']);
    const form = screen.getByRole('form', { name: 'Assign a tariff' });
    expect(within(form).getByRole('button', { name: 'Assign' })).toBeDisabled(); // nothing changed yet
    await userEvent.selectOptions(within(form).getByLabelText('Tariff of this building'), '');
    await userEvent.click(within(form).getByRole('button', { name: 'Assign' }));
    const dialog = screen.getByRole('dialog', { name: 'Remove the tariff?' });
    expect(puts(h)).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    expect(await screen.findByText('The building has no tariff now.')).toBeInTheDocument();
    expect(puts(h).map((c) => [c.path, c.body])).toEqual([['/api/v1/buildings/hpo/tariff', { tariff: null }]]);
    expect(screen.getByText('Bills need a tariff: assign one above.')).toBeInTheDocument();
  });

  it('lets a manager edit the holidays, sent whole and sorted, with the server refusal shown', async () => {
    let refuse = true;
    const h = await show(['manager'], (c) => {
      if (c.path === '/api/v1/buildings/hpo/holidays' && c.method === 'PUT' && refuse) {
        refuse = false;
        return apiError(400, 'invalid', 'days[0]: {"date": "YYYY-MM-DD", "name": "..."}');
      }
      return undefined;
    });
    await userEvent.click(screen.getByRole('button', { name: 'Edit holidays' }));
    const editor = screen.getByRole('form', { name: 'Edit holidays' });
    await userEvent.click(within(editor).getByRole('button', { name: 'Add a holiday' }));
    const row = within(editor).getByRole('group', { name: 'Holiday 3' });
    await userEvent.type(within(row).getByLabelText('Day'), '2026-11-26');
    await userEvent.type(within(row).getByLabelText('Name'), 'Thanksgiving');
    await userEvent.click(within(editor).getByRole('button', { name: 'Save holidays' }));
    await userEvent.click(within(screen.getByRole('dialog', { name: 'Save the holidays?' })).getByRole('button', { name: 'Save' }));
    expect(await within(editor).findByRole('alert')).toHaveTextContent('Not saved: days[0]: {"date": "YYYY-MM-DD", "name": "..."}');
    await userEvent.click(within(editor).getByRole('button', { name: 'Save holidays' }));
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Holidays saved (3).')).toBeInTheDocument();
    expect(puts(h)[1]?.body).toEqual({ days: [
      { date: '2026-11-26', name: 'Thanksgiving' }, { date: '2026-12-25', name: 'Christmas Day' }, { date: '2027-01-01', name: 'New Year' },
    ] });
    expect(screen.getByRole('rowheader', { name: 'Thu, Nov 26, 2026' })).toBeInTheDocument();
  });
});
