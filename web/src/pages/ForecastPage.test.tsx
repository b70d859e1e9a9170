import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import type { Equipment } from '../api/types';
import { accuracyRows, coverageWords } from '../components/ForecastAccuracy';
import { toCsv } from '../components/ForecastExport';
import { forecastRows } from '../components/ForecastMeter';
import { backtestWords, horizonWords } from '../components/ForecastWords';
import { apiError, json } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { ACCURACY, E_METERS, E_NOW, FORECAST_REPORT, LOAD_FORECAST, MODELS, NO_MODEL, engineServer } from '../test/fixtures-analytics';
import type { EngineRoute } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import ForecastPage, { meterChoices } from './ForecastPage';

const KWH = { temp: 'C' as const, energy: 'kWh' as const };
const KBTU = { temp: 'C' as const, energy: 'kBtu' as const };

async function show(extra?: EngineRoute, energy = 'kWh') {
  localStorage.setItem('sbems.energyUnit', energy);
  const h = makeHarness(engineServer(['viewer'], extra));
  await h.client.login('v', 'pw');
  renderWith(h, <ForecastPage />, { path: '/buildings/hpo/forecast/', route: '/buildings/:building/forecast' });
  await screen.findByRole('heading', { level: 1, name: 'Load forecast' });
  await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull());
  return h;
}

const sent = (h: { calls: Call[] }, path: string) => h.calls.filter((c) => c.path === path);
const figure = (name: RegExp) => screen.getByRole('figure', { name });

let clicked: string[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(E_NOW);
  clicked = [];
  URL.createObjectURL = vi.fn(() => 'blob:x');
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    clicked.push(this.download);
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('forecast words and rows', () => {
  it('says the chosen model\'s backtest per horizon and its interval coverage', () => {
    const w = backtestWords(FORECAST_REPORT);
    expect(w?.buckets).toEqual([
      'typically within 4.7 % (CV(RMSE)) in the next 6 hours',
      'typically within 4.8 % (CV(RMSE)) a day ahead (7–24 h)',
      'typically within 4.8 % (CV(RMSE)) two days ahead (25–48 h)',
      'typically within 4.8 % (CV(RMSE)) three days ahead (49–72 h)',
    ]);
    expect(w?.coverage).toBe('its 90 % interval held 90.0 % of the 11,926 hours tested');
    expect(horizonWords([1, 6])).toBe('in the next 6 hours');
    // an untrained report (zeros, n = 0) says nothing rather than "within 0.0 %"
    expect(backtestWords(MODELS.meters[1]?.report ?? FORECAST_REPORT)).toBeNull();
  });

  it('maps the forecast to chart rows in the user energy unit, cut to the horizon', () => {
    const rows = forecastRows(LOAD_FORECAST, 24, KWH);
    expect(rows).toHaveLength(24);
    expect(rows[0]).toEqual({ t: Date.UTC(2026, 10, 28, 1), lo: 51.31373721595073, hi: 61.03364812293644, v: { kwh: 56.61029211506388 } });
    const btu = forecastRows(LOAD_FORECAST, 72, KBTU);
    expect(btu).toHaveLength(72);
    expect(btu[0]?.v.kwh).toBeCloseTo(56.61029211506388 * 3.412142, 6);
    expect(btu[0]?.hi).toBeCloseTo(61.03364812293644 * 3.412142, 6);
    // a null from the server stays a gap, never 0
    const gap = forecastRows({ ...LOAD_FORECAST, points: [{ t: '2026-11-28T01:00:00.000Z', kwh: null, lo: null, hi: null }] }, 24, KWH);
    expect(gap[0]).toMatchObject({ lo: null, hi: null, v: { kwh: null } });
  });

  it('maps forecast against actual, and says coverage against the level', () => {
    const rows = accuracyRows(ACCURACY, KWH);
    expect(rows[0]).toEqual({ t: Date.UTC(2026, 10, 28, 1), lo: 51.31373721595073, hi: 61.03364812293644, v: { forecast: 56.61029211506388, actual: null } });
    expect(coverageWords(0.9, 0.9)).toBe('the 90 % interval held the measured value in 90.0 % of the hours');
    expect(coverageWords(0.62, 0.9)).toMatch(/62\.0 % of the hours — fewer than it should/);
  });

  it('writes CSV by RFC 4180', () => {
    expect(toCsv(['time', 'a, b'], [['x', 1.5], ['y "q"', null]])).toBe('time,"a, b"\r\nx,1.5\r\n"y ""q""",\r\n');
  });

  it('puts main meters first and keeps only meters the service forecasts', () => {
    const extra: Equipment = { ...(E_METERS[0] as Equipment), id: 'meter-gas', name: 'Gas meter', parent: null };
    const list = meterChoices('hpo', [...E_METERS, extra], MODELS.meters);
    expect(list.map((m) => m.id)).toEqual(['meter-main', 'meter-hvac', 'meter-lighting', 'meter-plugs']);
    expect(meterChoices('hpo', [...E_METERS, extra], null).map((m) => m.id)).toEqual(['meter-main', 'meter-gas', 'meter-hvac', 'meter-lighting', 'meter-plugs']);
  });
});

describe('ForecastPage', () => {
  it('shows the main meter\'s forecast with its interval, model, sources and backtest in words', async () => {
    const h = await show();
    const select = screen.getByLabelText('Meter') as HTMLSelectElement;
    expect(select.value).toBe('meter-main');
    expect(within(select).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'Main meter (main) — ready', 'HVAC meter — not enough data', 'Lighting meter — not enough data', 'Plug loads meter — not enough data',
    ]);
    expect(screen.getByText('gradient-boosted trees')).toBeInTheDocument();
    expect(screen.getByText("yesterday's temperatures (no weather forecast)")).toBeInTheDocument();
    expect(screen.getByText('Nov 27, 08:00:00 PM EST')).toBeInTheDocument(); // issued 01:00 UTC
    expect(screen.getByText('Nov 27, 08:33:49 PM EST')).toBeInTheDocument(); // trained
    expect(screen.getByText('typically within 4.8 % (CV(RMSE)) a day ahead (7–24 h)')).toBeInTheDocument();
    expect(screen.getByText(/Learned from Oct 28, 2024 to Nov 27, 2026: 759 of 761 days usable, 11 hours left out/)).toBeInTheDocument();
    expect(screen.getByText(/Why this model: chose gbm by backtest CV\(RMSE\) over 1-72 h/)).toBeInTheDocument();
    const chart = figure(/Forecast energy per hour — Main meter, next 72 h/);
    expect(chart).toHaveTextContent('Forecast: first 56.6 kWh');
    expect(chart).toHaveTextContent(/90 % interval: from \d/);

    // asked: the building, its meters, the status, then the main meter only (72 h) and its last week one hour ahead
    expect(h.calls.filter((c) => c.path !== '/api/v1/auth/login').map((c) => c.path)).toEqual(expect.arrayContaining([
      '/api/v1/buildings/hpo', '/api/v1/equipment', '/api/v1/analytics/models', '/api/v1/predictions/load', '/api/v1/predictions/load/accuracy']));
    const load = sent(h, '/api/v1/predictions/load');
    expect(load.map((c) => `${c.query.get('meter')} ${c.query.get('horizon_h')}`)).toEqual(['meter-main 72']);
    const acc = sent(h, '/api/v1/predictions/load/accuracy');
    expect(acc).toHaveLength(1);
    expect(Object.fromEntries(acc[0]?.query ?? [])).toEqual({ meter: 'meter-main', horizon_h: '1', from: String(E_NOW - 7 * 86_400_000), to: String(E_NOW) });
    expect(sent(h, '/api/v1/analytics/models')[0]?.query.get('building')).toBe('hpo');
  });

  it('cuts the horizon without asking again, and follows the energy unit', async () => {
    const h = await show(undefined, 'kBtu');
    const before = h.calls.length;
    await userEvent.click(screen.getByRole('button', { name: '24 h' }));
    expect(screen.getByRole('button', { name: '24 h', pressed: true })).toBeInTheDocument();
    const chart = figure(/next 24 h/);
    expect(chart).toHaveTextContent('(kBtu)');
    expect(chart).toHaveTextContent('Forecast: first 193 kBtu'); // 56.61 kWh
    expect(h.calls.length).toBe(before);
  });

  it('exports the forecast rows it shows as CSV', async () => {
    await show();
    await userEvent.click(screen.getByRole('button', { name: /Export Forecast energy per hour — Main meter, next 72 h as CSV/ }));
    expect(clicked).toEqual(['forecast-meter-main-72h.csv']);
    expect(screen.getByText('Saved forecast-meter-main-72h.csv')).toBeInTheDocument();
  });

  it('says why a meter has no forecast, without asking for one', async () => {
    const h = await show();
    await userEvent.selectOptions(screen.getByLabelText('Meter'), 'meter-hvac');
    expect(screen.getByRole('heading', { level: 2, name: 'HVAC meter' })).toBeInTheDocument();
    expect(screen.getByText('Not enough data')).toBeInTheDocument();
    expect(screen.getByText('No forecast yet: needs 90 days with ≥ 90 % coverage, has 0 (no readings yet)')).toBeInTheDocument();
    expect(sent(h, '/api/v1/predictions/load').map((c) => c.query.get('meter'))).toEqual(['meter-main']);
  });

  it('shows a 409 no_model refusal in words', async () => {
    await show((c) => (c.path === '/api/v1/predictions/load' ? json(409, { error: NO_MODEL }) : undefined));
    expect(screen.getByText('No forecast yet: needs 90 days with ≥ 90 % coverage, has 0 (no readings yet)')).toBeInTheDocument();
    expect(screen.queryByRole('figure')).toBeNull();
    expect(new ApiError(409, NO_MODEL.code, NO_MODEL.message).message).toMatch(/^no forecast:/); // the shape relied on
  });

  it('shows past accuracy with CV(RMSE) and coverage when hours were measured', async () => {
    const rows = [
      { ...ACCURACY.rows[0], t: '2026-11-27T20:00:00.000Z', issued: '2026-11-27T19:00:00.000Z', actual: 60.1 },
      { ...ACCURACY.rows[0], t: '2026-11-27T21:00:00.000Z', issued: '2026-11-27T20:00:00.000Z', actual: 70.2 },
    ];
    await show((c) => (c.path === '/api/v1/predictions/load/accuracy'
      ? json(200, { ...ACCURACY, summary: { pairs: 2, cvrmse: 0.061, nmbe: -0.012, coverage: 0.5 }, rows })
      : undefined));
    const stats = screen.getByRole('heading', { name: /Past accuracy: the last 7 days, one hour ahead/ }).closest('section') as HTMLElement;
    expect(within(stats).getByText('6.1 %')).toBeInTheDocument();
    expect(within(stats).getByText('-1.2 %')).toBeInTheDocument();
    expect(within(stats).getByText('50.0 %')).toBeInTheDocument();
    expect(stats).toHaveTextContent('Over 2 hours, the 90 % interval held the measured value in 50.0 % of the hours — fewer than it should');
    expect(figure(/Forecast one hour ahead against measured/)).toHaveTextContent('Measured: first 60.1 kWh, lowest 60.1 kWh, highest 70.2 kWh');
  });

  it('still lists the meters when the analytics service is off, and says so', async () => {
    await show((c) => (c.path === '/api/v1/analytics/models'
      ? apiError(503, 'unavailable', 'analytics is not running (analytics.enabled)')
      : c.path === '/api/v1/predictions/load' ? apiError(503, 'unavailable', 'analytics is not running (analytics.enabled)') : undefined));
    expect(screen.getAllByText(/analytics is not running/).length).toBeGreaterThan(0);
    expect((screen.getByLabelText('Meter') as HTMLSelectElement).value).toBe('meter-main');
  });
});
