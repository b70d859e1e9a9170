import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { MeterModel, ZoneModel } from '../api/analytics';
import { apiError, json } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { MODELS, engineServer } from '../test/fixtures-analytics';
import type { EngineRoute } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import AnalyticsModelsPage, { meterScores, zoneScores } from './AnalyticsModelsPage';

async function show(roles: string[], extra?: EngineRoute) {
  localStorage.setItem('sbems.tempUnit', 'C');
  const h = makeHarness(engineServer(roles, extra));
  await h.client.login('v', 'pw');
  renderWith(h, <AnalyticsModelsPage />, { path: '/buildings/hpo/models/', route: '/buildings/:building/models' });
  await screen.findByRole('heading', { level: 1, name: 'Analytics models' });
  return h;
}

function cells(table: string, row: string): string[] {
  const th = within(screen.getByRole('table', { name: table })).getByRole('rowheader', { name: new RegExp(`^${row}`) });
  return within(th.closest('tr') as HTMLElement).getAllByRole('cell').map((c) => c.textContent ?? '');
}

const posts = (h: { calls: Call[] }) => h.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/analytics/models/retrain');
const METERS = 'Load forecasters of the meters';
const ZONES = 'Thermal models of the zones';

describe('model scores in words', () => {
  it('says the chosen forecaster\'s pooled backtest, and a zone model\'s errors in the user scale', () => {
    expect(meterScores(MODELS.meters[0] as MeterModel)).toBe('gradient-boosted trees: CV(RMSE) 4.8 % over 1–72 h, 90 % interval held 90.0 %');
    expect(meterScores(MODELS.meters[1] as MeterModel)).toBe('—');
    const z = MODELS.zones[0] as ZoneModel;
    expect(zoneScores(z, { temp: 'C', energy: 'kWh' })).toBe('3R2C network: within 0.6 K over 24 h (worst 2.9 K), 0.1 K 15 min ahead');
    expect(zoneScores(z, { temp: 'F', energy: 'kWh' })).toBe('3R2C network: within 1.0 °F over 24 h (worst 5.2 °F), 0.2 °F 15 min ahead');
    expect(zoneScores(MODELS.zones[1] as ZoneModel, { temp: 'C', energy: 'kWh' })).toBe('—');
  });
});

describe('AnalyticsModelsPage', () => {
  it('lists meters and zones with their status in words, trained time, scores and message; no retrain for a viewer', async () => {
    await show(['viewer']);
    expect(cells(METERS, 'Main meter')).toEqual(['Ready', 'Nov 27, 08:33:49 PM EST', 'gradient-boosted trees: CV(RMSE) 4.8 % over 1–72 h, 90 % interval held 90.0 %', '']);
    expect(cells(METERS, 'HVAC meter')).toEqual(['Not enough data', 'Nov 27, 08:33:49 PM EST', '—', 'needs 90 days with ≥ 90 % coverage, has 0 (no readings yet)']);
    expect(cells(ZONES, 'Floor 1 north')).toEqual(['Ready', 'Nov 27, 08:33:51 PM EST', '3R2C network: within 0.6 K over 24 h (worst 2.9 K), 0.1 K 15 min ahead', '']);
    expect(cells(ZONES, 'Floor 1 east')[3]).toBe('HVAC heat input missing for 672.0 h (gaps longer than 2 h)');
    expect(cells(ZONES, 'f3-core')[0]).toBe('Not enough data'); // a zone the list does not name: its id
    expect(screen.getByRole('heading', { name: /Load forecasters/ })).toHaveTextContent('(1 of 4 ready)');
    expect(screen.getByRole('heading', { name: /Zone thermal models/ })).toHaveTextContent('(1 of 15 ready)');
    expect(screen.queryByRole('button', { name: /^Retrain/ })).toBeNull();
  });

  it('says a model that was never trained is pending', async () => {
    const pending = { status: 'pending', message: 'not trained yet', meter: 'meter-main', building: 'hpo' };
    await show(['viewer'], (c) => (c.path === '/api/v1/analytics/models' ? json(200, { meters: [pending], zones: [] }) : undefined));
    expect(cells(METERS, 'Main meter')).toEqual(['Not trained yet', 'never', '—', 'not trained yet']);
    expect(screen.getByText('None.')).toBeInTheDocument();
  });

  it('lets a manager retrain one model or the whole building now (202: queued)', async () => {
    const h = await show(['manager'], (c) => (c.path === '/api/v1/analytics/models/retrain' && (c.body as { target: string }).target === 'f1-east'
      ? apiError(400, 'invalid', 'the object is not valid', [{ field: 'target', message: 'target must name a meter, a zone or a building in your scope' }])
      : undefined));
    const main = within(screen.getByRole('table', { name: METERS })).getByRole('rowheader', { name: /^Main meter/ }).closest('tr') as HTMLElement;
    await userEvent.click(within(main).getByRole('button', { name: 'Retrain now: Main meter' }));
    expect(await within(main).findByText(/^Queued: it retrains in the background/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Retrain now: every model of Harbor Point Office' }));
    await waitFor(() => expect(posts(h)).toHaveLength(2));
    const east = within(screen.getByRole('table', { name: ZONES })).getByRole('rowheader', { name: /^Floor 1 east/ }).closest('tr') as HTMLElement;
    await userEvent.click(within(east).getByRole('button', { name: 'Retrain now: Floor 1 east' }));
    expect(await within(east).findByText('Not queued: target must name a meter, a zone or a building in your scope')).toBeInTheDocument();
    expect(posts(h).map((c) => c.body)).toEqual([{ target: 'meter-main' }, { target: 'hpo' }, { target: 'f1-east' }]);
  });
});
