import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Tariff } from '../api/analytics';
import { parseTariff } from '../components/TariffEditor';
import { demandWords, energyWords, fixedWords, hoursWords, otherWords, TARIFF_TEMPLATE, whenWords } from '../components/TariffWords';
import { apiError, empty } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { TARIFFS, engineServer } from '../test/fixtures-analytics';
import type { EngineRoute } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import TariffsPage from './TariffsPage';

const B19 = TARIFFS.items[0] as Tariff;

async function show(roles: string[], extra?: EngineRoute) {
  const h = makeHarness(engineServer(roles, extra));
  await h.client.login('v', 'pw');
  renderWith(h, <TariffsPage />, { path: '/tariffs/', route: '/tariffs' });
  await screen.findByRole('heading', { level: 1, name: 'Tariffs' });
  await screen.findByRole('heading', { level: 2, name: 'B-19 style (illustrative)' });
  return h;
}

const card = (name: string) => screen.getByRole('heading', { level: 2, name }).closest('section') as HTMLElement;
const writes = (h: { calls: Call[] }) => h.calls.filter((c) => c.method !== 'GET' && c.path !== '/api/v1/auth/login');
/** Type into a textarea: userEvent would read braces as key names. */
async function setText(el: HTMLElement, text: string) {
  await userEvent.clear(el);
  await userEvent.click(el);
  await userEvent.paste(text);
}

describe('tariff words', () => {
  it('says hours, days and seasons', () => {
    expect(hoursWords([16, 21])).toBe('16:00–21:00');
    expect(hoursWords([[14, 16], [21, 23]])).toBe('14:00–16:00 and 21:00–23:00');
    expect(hoursWords([21, 24])).toBe('21:00–00:00');
    expect(whenWords({ seasons: ['winter', 'spring'], days: ['weekday'], hours: [16, 21] })).toBe('winter and spring, weekdays 16:00–21:00');
    expect(whenWords({ days: ['weekend', 'holiday'] })).toBe('weekends and holidays');
    expect(whenWords({})).toBe('');
  });

  it('says every part of the captured tariff', () => {
    expect(B19.energy.map((r) => energyWords(r, 'USD'))).toEqual([
      'peak: $0.35/kWh, weekdays 16:00–21:00',
      'off_peak: $0.15/kWh, weekdays 21:00–16:00',
      'off_peak: $0.15/kWh, weekends and holidays',
    ]);
    expect(demandWords(B19.demand?.[0] ?? { name: '', price_per_kw: 0 }, B19)).toBe('max_demand: $20.00/kW of the highest 15-minute demand (any time)');
    expect(demandWords({ name: 'summer_peak', seasons: ['summer'], hours: [16, 21], price_per_kw: 22 }, B19)).toBe('summer_peak: $22.00/kW of the highest 15-minute demand in summer, 16:00–21:00');
    expect(fixedWords({ name: 'customer', per_day: 3 }, 'USD')).toBe('customer: $3.00 a day');
    expect(fixedWords({ name: 'standing_charge', per_period: 25 }, 'EUR')).toBe('standing_charge: €25.00 a billing period');
    expect(otherWords(B19)).toEqual([
      'Bills run from day 1 of each month; demand over 15-minute clock windows.',
      'Seasons: summer 06-01 to 09-30 and winter 10-01 to 05-31.',
      'No credit for exported energy.',
    ]);
    const t: Tariff = { ...B19, export: { mode: 'flat', price_per_kwh: 0.04 }, tax_pct: 7.5, demand_method: 'rolling', billing_cycle_day: 15,
      tiers: [{ up_to_kwh: 10000, price_per_kwh: 0 }, { price_per_kwh: 0.02 }], holidays: ['01-01', '2025-05-26'] };
    expect(otherWords(t)).toEqual([
      'Bills run from day 15 of each month; demand over 15-minute rolling windows.',
      'Seasons: summer 06-01 to 09-30 and winter 10-01 to 05-31.',
      'Export credited at $0.04/kWh.',
      'Blocks on top of the energy price: up to 10,000 kWh +$0.00 and beyond +$0.02 per kWh.',
      'Tax 7.5 % of the subtotal.',
      'Its own holidays: 01-01, 2025-05-26.',
    ]);
  });

  it('checks the JSON before sending', () => {
    expect(parseTariff('{"id": "x"')).toMatchObject({ error: expect.stringMatching(/^This is not valid JSON: /) });
    expect(parseTariff('[1]')).toEqual({ error: 'A tariff is one JSON object { ... }.' });
    expect(parseTariff('{"name": "no id"}')).toMatchObject({ error: expect.stringMatching(/^id: give the tariff an id/) });
    expect(parseTariff('{"id": "Peak"}')).toMatchObject({ error: expect.stringMatching(/^id:/) });
    expect(parseTariff(TARIFF_TEMPLATE)).toMatchObject({ id: 'pge-b19-illustrative' });
  });
});

describe('TariffsPage', () => {
  it('lists each tariff in words, with no editing for a viewer', async () => {
    const h = await show(['viewer']);
    const c = card('B-19 style (illustrative)');
    expect(c).toHaveTextContent('b19 · USD');
    expect(within(c).getByText('peak: $0.35/kWh, weekdays 16:00–21:00')).toBeInTheDocument();
    expect(within(c).getByText('max_demand: $20.00/kW of the highest 15-minute demand (any time)')).toBeInTheDocument();
    expect(within(c).getByText('customer: $3.00 a day')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'New tariff' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^(Edit|Delete) / })).toBeNull();
    expect(h.calls.filter((x) => x.path !== '/api/v1/auth/login').map((x) => `${x.method} ${x.path}`)).toEqual(['GET /api/v1/tariffs']);
  });

  it('creates a tariff from the documented example, showing the server validation message as is', async () => {
    let refuse = true;
    const h = await show(['manager'], (c) => {
      if (c.method === 'PUT' && refuse) {
        refuse = false;
        return apiError(400, 'invalid', 'energy[0].price_per_kwh: 5000 out of -1000..1000');
      }
      return undefined;
    });
    await userEvent.click(screen.getByRole('button', { name: 'New tariff' }));
    const editor = screen.getByRole('form', { name: 'Tariff editor' });
    const text = within(editor).getByLabelText('Tariff JSON') as HTMLTextAreaElement;
    expect(JSON.parse(text.value)).toEqual(JSON.parse(TARIFF_TEMPLATE));

    await setText(text, '{"id": "x", ');
    await userEvent.click(within(editor).getByRole('button', { name: 'Save tariff' }));
    expect(within(editor).getByRole('alert')).toHaveTextContent(/^This is not valid JSON: /);
    expect(writes(h)).toHaveLength(0);

    await setText(text, TARIFF_TEMPLATE);
    await userEvent.click(within(editor).getByRole('button', { name: 'Save tariff' }));
    const dialog = screen.getByRole('dialog', { name: 'Save tariff pge-b19-illustrative?' });
    expect(dialog).toHaveTextContent('This creates tariff pge-b19-illustrative.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await within(editor).findByRole('alert')).toHaveTextContent('The server refused it: energy[0].price_per_kwh: 5000 out of -1000..1000');

    await userEvent.click(within(editor).getByRole('button', { name: 'Save tariff' }));
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Tariff pge-b19-illustrative created.')).toBeInTheDocument();
    const puts = writes(h);
    expect(puts.map((c) => `${c.method} ${c.path}`)).toEqual(['PUT /api/v1/tariffs/pge-b19-illustrative', 'PUT /api/v1/tariffs/pge-b19-illustrative']);
    expect(puts[1]?.body).toEqual(JSON.parse(TARIFF_TEMPLATE));
    expect(screen.getByRole('heading', { level: 2, name: 'PG&E B-19 structure, secondary voltage (illustrative prices)' })).toBeInTheDocument();
  });

  it('edits a stored tariff, saying it replaces it', async () => {
    await show(['manager']);
    await userEvent.click(screen.getByRole('button', { name: 'Edit tariff B-19 style (illustrative)' }));
    const text = screen.getByLabelText('Tariff JSON') as HTMLTextAreaElement;
    expect(JSON.parse(text.value)).toEqual(B19);
    await userEvent.click(screen.getByRole('button', { name: 'Save tariff' }));
    expect(screen.getByRole('dialog', { name: 'Save tariff b19?' })).toHaveTextContent('This replaces tariff b19: the bills and cost savings of every building using it change.');
  });

  it('deletes only after confirming, and says in words why sbems refused (409)', async () => {
    let used = true;
    const h = await show(['manager'], (c) => {
      if (c.method !== 'DELETE') return undefined;
      if (used) {
        used = false;
        return apiError(409, 'conflict', 'the tariff is assigned to building hpo: assign another first');
      }
      return empty(204);
    });
    await userEvent.click(screen.getByRole('button', { name: 'Delete tariff B-19 style (illustrative)' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete tariff b19?' });
    expect(writes(h)).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('Tariff b19 not deleted: the tariff is assigned to building hpo: assign another first.')).toBeInTheDocument();
    expect(card('B-19 style (illustrative)')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Delete tariff B-19 style (illustrative)' }));
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('Tariff b19 deleted.')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('heading', { level: 2, name: 'B-19 style (illustrative)' })).toBeNull());
    expect(writes(h).map((c) => `${c.method} ${c.path}`)).toEqual(['DELETE /api/v1/tariffs/b19', 'DELETE /api/v1/tariffs/b19']);
  });
});
