import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Call } from '../test/fetchMock';
import { A_NOW, analyticsServer } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import AnalyticsPage from './AnalyticsPage';

async function show(opts: { energy?: 'kWh' | 'MWh' | 'kBtu'; dataFrom?: number } = {}) {
  localStorage.setItem('sbems.tempUnit', 'C');
  localStorage.setItem('sbems.energyUnit', opts.energy ?? 'kWh');
  const h = makeHarness(analyticsServer(opts.dataFrom));
  await h.client.login('v', 'pw');
  renderWith(h, <AnalyticsPage />, { path: '/buildings/hpo/analytics/', route: '/buildings/:building/analytics' });
  await screen.findByRole('heading', { level: 1, name: 'Analytics' });
  await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
  return h;
}

function rowHeader(table: string | RegExp, row: string | RegExp): HTMLElement {
  return within(screen.getByRole('table', { name: table })).getByRole('rowheader', { name: row });
}

/** The cells of a table's row, by the row's header. */
function cells(table: string | RegExp, row: string | RegExp): string[] {
  const th = rowHeader(table, row);
  return within(th.closest('tr') as HTMLElement).getAllByRole('cell').map((c) => c.textContent ?? '');
}

const history = (calls: Call[]) => calls.filter((c) => c.path.endsWith('/history'));
const q = (c: Call) => `${c.path.split('/')[4]} ${c.query.get('resolution')} ${c.query.get('agg')} ${c.query.get('from')}..${c.query.get('to')}`;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(A_NOW); // Fri 2026-11-27 10:37:12 EST
});
afterEach(() => {
  vi.useRealTimers();
  localStorage.clear();
});

describe('AnalyticsPage', () => {
  it('shows consumption per day by end use in kWh, with other = main - sub-meters, from the requests it needs', async () => {
    const h = await show();
    const table = /Energy per day by end use, in kWh/;
    const heads = within(screen.getByRole('table', { name: table })).getAllByRole('columnheader').map((c) => c.textContent);
    expect(heads).toEqual(['Day', 'Lighting sub-meter', 'Plug loads sub-meter', 'HVAC sub-meter', 'of which Chiller sub-meter', 'Other / unmetered', 'Total']);
    expect(cells(table, 'Fri, Nov 27')).toEqual(['400 kWh', '300 kWh', '900 kWh', '500 kWh', '400 kWh', '2,000 kWh']);
    expect(cells(table, 'Sat, Nov 14')).toEqual(['400 kWh', '300 kWh', '900 kWh', '500 kWh', '400 kWh', '2,000 kWh']);
    expect(within(screen.getByRole('table', { name: table })).getAllByRole('row')).toHaveLength(1 + 14 + 1);
    expect(cells(table, 'Whole range')).toEqual(['5,600 kWh', '4,200 kWh', '12,600 kWh', '7,000 kWh', '5,600 kWh', '28,000 kWh']);

    // on load: building, equipment, points; per meter a daily history and two hourly
    // ones (comparisons); one 15-minute history of the main meter's power
    const others = h.calls.filter((c) => c.path !== '/api/v1/auth/login');
    expect(others).toHaveLength(19);
    expect(others.filter((c) => c.path.startsWith('/api/v1/analytics/') || c.path.startsWith('/api/v1/predictions/'))).toEqual([]);
    const hist = history(h.calls);
    const from14 = String(Date.UTC(2026, 10, 14, 5)); // Sat Nov 14, 00:00 EST
    expect(hist.filter((c) => c.query.get('resolution') === '1d').map(q).sort()).toEqual(
      ['mtr-chiller.energy', 'mtr-hvac.energy', 'mtr-lighting.energy', 'mtr-main.energy', 'mtr-plugs.energy']
        .map((p) => `${p} 1d counter ${from14}..${A_NOW}`));
    expect(hist.filter((c) => c.query.get('resolution') === '15m').map(q)).toEqual([`mtr-main.power 15m rate ${from14}..${A_NOW}`]);
    const hourly = hist.filter((c) => c.query.get('resolution') === '1h');
    expect(hourly).toHaveLength(10);
    // last week and this month in one; the same part of November 2025 in the other; up to 10:00 EST
    expect(new Set(hourly.map((c) => `${c.query.get('agg')} ${c.query.get('from')}..${c.query.get('to')}`))).toEqual(new Set([
      `counter ${Date.UTC(2026, 10, 1, 4)}..${Date.UTC(2026, 10, 27, 15)}`,
      `counter ${Date.UTC(2025, 10, 1, 4)}..${Date.UTC(2025, 10, 27, 15)}`,
    ]));
  });

  it('follows the energy unit preference (kBtu)', async () => {
    await show({ energy: 'kBtu' });
    const table = /Energy per day by end use, in kBtu/;
    // 1 kWh = 3.412142 kBtu
    expect(cells(table, 'Fri, Nov 27')).toEqual(['1,365 kBtu', '1,024 kBtu', '3,071 kBtu', '1,706 kBtu', '1,365 kBtu', '6,824 kBtu']);
    expect(cells(/This week against last week/, 'Total')[0]).toBe('30,141 kBtu'); // 8,833.3 kWh
  });

  it('regroups into Monday-to-Sunday weeks without asking the server again', async () => {
    const h = await show();
    const before = h.calls.length;
    await userEvent.click(within(screen.getByRole('group', { name: 'Granularity' })).getByRole('button', { name: 'Week' }));
    const table = /Energy per week by end use/;
    expect(cells(table, /Nov 9 – 15/)).toEqual(['800 kWh', '600 kWh', '1,800 kWh', '1,000 kWh', '800 kWh', '4,000 kWh']);
    expect(rowHeader(table, /Nov 9 – 15/)).toHaveTextContent('2 of 7 days');
    expect(cells(table, /Nov 16 – 22/)[5]).toBe('14,000 kWh');
    expect(cells(table, /Nov 23 – 29/)[5]).toBe('10,000 kWh');
    expect(rowHeader(table, /Nov 23 – 29/)).toHaveTextContent('5 of 7 days');
    await userEvent.click(within(screen.getByRole('group', { name: 'Granularity' })).getByRole('button', { name: 'Month' }));
    expect(cells(/Energy per month by end use/, /Nov 2026/)[5]).toBe('28,000 kWh');
    expect(h.calls.length).toBe(before);
  });

  it('asks again only for the daily and peak histories when the range changes', async () => {
    const h = await show();
    let before = h.calls.length;
    await userEvent.click(screen.getByRole('button', { name: 'Last 8 weeks' }));
    await waitFor(() => expect(rowHeader(/Energy per week/, /Oct 5 – 11/)).toBeInTheDocument());
    await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
    let added = h.calls.slice(before);
    const from8w = Date.UTC(2026, 9, 5, 4); // Mon Oct 5, 00:00 EDT
    expect(added.map(q).sort()).toEqual([
      ...['mtr-chiller.energy', 'mtr-hvac.energy', 'mtr-lighting.energy', 'mtr-main.energy', 'mtr-plugs.energy'].map((p) => `${p} 1d counter ${from8w}..${A_NOW}`),
      `mtr-main.power 15m rate ${from8w}..${A_NOW}`,
    ].sort());

    before = h.calls.length;
    await userEvent.click(screen.getByRole('button', { name: 'Last 12 months' }));
    await waitFor(() => expect(rowHeader(/Energy per month/, 'Dec 2025')).toBeInTheDocument());
    await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
    added = h.calls.slice(before);
    const from12 = Date.UTC(2025, 11, 1, 5);
    // 12 months of 15-minute buckets would be 35,000 a meter: the daily rollups' peak instead
    expect(added.map(q).sort()).toEqual([
      ...['mtr-chiller.energy', 'mtr-hvac.energy', 'mtr-lighting.energy', 'mtr-main.energy', 'mtr-plugs.energy'].map((p) => `${p} 1d counter ${from12}..${A_NOW}`),
      `mtr-main.power 1d rate ${from12}..${A_NOW}`,
    ].sort());
    expect(screen.getByRole('button', { name: 'Month', pressed: true })).toBeInTheDocument();
  });

  it('asks for a custom range of local days', async () => {
    const h = await show();
    const before = h.calls.length;
    const form = screen.getByRole('form', { name: 'Custom range' });
    const first = within(form).getByLabelText('First day');
    await userEvent.clear(first);
    await userEvent.type(first, '2026-11-30');
    await userEvent.click(within(form).getByRole('button', { name: 'Show custom range' }));
    expect(screen.getByRole('alert')).toHaveTextContent('The first day is after the last day.');
    expect(h.calls.length).toBe(before);
    await userEvent.clear(first);
    await userEvent.type(first, '2026-11-01');
    await userEvent.click(within(form).getByRole('button', { name: 'Show custom range' }));
    await waitFor(() => expect(rowHeader(/Energy per day/, 'Sun, Nov 1')).toBeInTheDocument());
    await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
    const added = h.calls.slice(before);
    expect(added).toHaveLength(6);
    expect(new Set(added.map((c) => c.query.get('from')))).toEqual(new Set([String(Date.UTC(2026, 10, 1, 4))]));
    expect(cells(/Energy per day by end use/, 'Sun, Nov 1')[5]).toBe('2,000 kWh');
  });

  it('shows the highest 15-minute mean per period and when it began, local time', async () => {
    await show();
    const table = /Peak demand: Main electricity meter/;
    expect(cells(table, 'Tue, Nov 24')).toEqual(['400.0 kW', 'Tue, Nov 24, 14:15–14:30 EST']);
    expect(cells(table, 'Wed, Nov 25')).toEqual(['175.0 kW', 'Wed, Nov 25, 14:00–14:15 EST']);
    expect(screen.getByText(/Highest in the range:/)).toHaveTextContent('Highest in the range: 400.0 kW, Tue, Nov 24, 14:15–14:30 EST.');
    expect(screen.getByText(/what utilities bill as demand charges/)).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Last 12 months' }));
    await waitFor(() => expect(rowHeader(table, 'Dec 2025')).toBeInTheDocument());
    await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
    expect(cells(table, 'Nov 2026')).toEqual(['400.0 kW', 'Tue, Nov 24 (time of day not known)']);
    expect(cells(table, 'Dec 2025')).toEqual(['181.0 kW', 'Wed, Dec 31 (time of day not known)']);
    expect(screen.getByText(/daily rollups keep the day's highest 15-minute mean, not when it occurred/)).toBeInTheDocument();
  });

  it('compares this week with last week like-for-like, per end use and in words', async () => {
    await show();
    const week = /This week against last week/;
    // Mon 00:00 to Fri 10:00 of each: 106 hours of 2000/24 kWh this week, 25 % more per hour last week
    expect(cells(week, 'Total')).toEqual(['8,833 kWh', '11,042 kWh', '-2,208 kWh', '20 % less']);
    expect(cells(week, 'Lighting sub-meter')).toEqual(['1,767 kWh', '2,208 kWh', '-442 kWh', '20 % less']);
    expect(cells(week, 'Other / unmetered')).toEqual(['1,767 kWh', '2,208 kWh', '-442 kWh', '20 % less']);
    expect(screen.getByText(/the same 4 days 10 hours of each, Mon, Nov 23, 00:00 – Fri, Nov 27, 10:00 against Mon, Nov 16, 00:00 – Fri, Nov 20, 10:00/)).toBeInTheDocument();
    // the month: Nov 1-27 10:00 in 2026 (before this week 25 % more) against the same span of 2025
    expect(cells(/This month against the same month last year/, 'Total')[3]).toBe('21 % more');
    expect(screen.getByText(/same month last year rather than the previous month/)).toBeInTheDocument();
  });

  it('says so when the history is too short for a comparison, and shows no numbers for it', async () => {
    await show({ dataFrom: Date.UTC(2026, 10, 10, 5) }); // history from Tue Nov 10, 2026
    const month = screen.getByRole('region', { name: 'This month against the same month last year' });
    expect(within(month).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Every meter: no data for the same month last year.',
      'Every meter: data for 418 of 635 hours of this month.', // from Nov 10, 00:00 to Nov 27, 10:00
    ]);
    expect(cells(/This month against the same month last year/, 'Total')).toEqual([expect.stringMatching(/ kWh$/), '—', '—', 'not comparable: data missing']);
    // this week is complete, and the days before Nov 10 are "no data" in the consumption table
    expect(cells(/This week against last week/, 'Total')[3]).toBe('20 % less');
  });

  it('links the analytics engine\'s pages of the building, and logs nothing', async () => {
    const spies = (['log', 'warn', 'error', 'info'] as const).map((k) => vi.spyOn(console, k));
    await show();
    const panel = screen.getByRole('heading', { name: 'Forecasts, savings and costs' }).closest('section') as HTMLElement;
    expect(within(panel).getAllByRole('link').map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Load forecast', '/buildings/hpo/forecast/'],
      ['Measured savings', '/buildings/hpo/savings/'],
      ['Cost and bills', '/buildings/hpo/cost/'],
      ['Analytics models', '/buildings/hpo/models/'],
      ['Tariffs', '/tariffs/'],
    ]);
    expect(screen.queryByText(/not yet available/)).toBeNull();
    // Recharts's warning that jsdom lays nothing out (0 x 0 charts) is not the page's
    const jsdomChart = /width\(0\) and height\(0\) of chart/;
    for (const s of spies) {
      expect(s.mock.calls.filter((c) => !jsdomChart.test(String(c[0])))).toEqual([]);
      s.mockRestore();
    }
  });
});
