import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { delta } from '../api/analytics';
import { hvacRows, outlook, predictionRows } from '../components/ZonePrediction';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, EMPTY_HISTORY, POINTS, ZONE, ZONE_STATUS, page } from '../test/fixtures';
import { MODELS, TEMP_PREDICTION } from '../test/fixtures-analytics';
import { makeHarness, renderWith } from '../test/render';
import ZonePage from './ZonePage';

type Extra = (c: Call) => Response | undefined;

function sbems(roles: string[], extra: Extra = () => undefined) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/zones/f1-south') return json(200, ZONE);
    if (c.path === '/api/v1/zones/f1-south/status') return json(200, ZONE_STATUS);
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/points') return json(200, page(POINTS.filter((p) => p.equipment === c.query.get('equipment'))));
    if (c.path.endsWith('/history')) return json(200, EMPTY_HISTORY);
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[], extra?: Extra) {
  const h = makeHarness(sbems(roles, extra));
  await h.client.login('u', 'pw');
  renderWith(h, <ZonePage />, { path: '/zones/f1-south/', route: '/zones/:zone' });
  await screen.findByRole('heading', { level: 1, name: 'Floor 1 south' });
  await waitFor(() => expect(screen.queryByText(/^Loading/)).toBeNull()); // the charts' history
  return h;
}

describe('ZonePage', () => {
  it('shows setpoints but no controls to a viewer', async () => {
    await show(['viewer']);
    expect(screen.getByRole('heading', { name: 'Heating Setpoint' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /change/i })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /release/i })).not.toBeInTheDocument();
    // who holds the point is information, not a control: viewers may read it
    expect(screen.getByText('Who holds this point')).toBeInTheDocument();
  });

  it('gives an operator the setpoint control', async () => {
    await show(['operator']);
    expect(screen.getByRole('button', { name: 'Change Heating Setpoint' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Release' })).toBeInTheDocument();
  });

  it('shows live values in the user units and marks stale ones', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const h = await show(['viewer']);
    const now = Date.now();
    act(() => h.store.ingest([[55, now, 22, 0], [58, now - 10 * 60_000, 650, 0]])); // CO2: 10 min old, polled each minute
    expect(await screen.findAllByText('71.6 °F')).not.toHaveLength(0);
    const co2 = screen.getAllByText(/650 ppm/)[0] as HTMLElement;
    expect(co2.closest('[data-stale]')).not.toBeNull();
    expect(co2.closest('[data-stale]')).toHaveTextContent('stale');
  });

  it('subscribes to the zone channel', async () => {
    const h = await show(['viewer']);
    expect(h.conn.channels()).toEqual(['zone:f1-south']);
  });
});

/** The analytics service with this zone's model in the given state, and its prediction. */
function engine(status: 'ok' | 'insufficient', temperature: (c: Call) => Response = () => json(200, TEMP_PREDICTION)): Extra {
  const zones = [{ ...(MODELS.zones[status === 'ok' ? 0 : 1] as (typeof MODELS.zones)[number]), zone: 'f1-south' }];
  return (c) => {
    if (c.path === '/api/v1/analytics/models') return json(200, { ...MODELS, zones });
    if (c.path === '/api/v1/predictions/temperature') return temperature(c);
    return undefined;
  };
}

const F = { temp: 'F' as const, energy: 'kWh' as const };
const C = { temp: 'C' as const, energy: 'kWh' as const };
const preds = (h: { calls: Call[] }) => h.calls.filter((c) => c.path === '/api/v1/predictions/temperature');
const section = () => screen.getByRole('heading', { name: 'Temperature prediction, next 24 h' }).closest('section') as HTMLElement;

describe('ZonePage temperature prediction', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 10, 28, 1, 40));
  });
  afterEach(() => vi.useRealTimers());

  it('maps predicted temperatures and the comfort band to the user scale, and HVAC heat to the power unit', () => {
    const f = predictionRows(TEMP_PREDICTION, F);
    expect(f).toHaveLength(96);
    expect(f[0]?.t).toBe(Date.UTC(2026, 10, 28, 1, 45));
    expect(f[0]?.v.temperature).toBeCloseTo(18.777837976084616 * 1.8 + 32, 9);
    expect(f[0]?.lo).toBeCloseTo(59.9, 9); // 15.5 °C
    expect(f[0]?.hi).toBeCloseTo(85.1, 9); // 29.5 °C
    expect(predictionRows(TEMP_PREDICTION, C)[0]).toEqual({ t: Date.UTC(2026, 10, 28, 1, 45), lo: 15.5, hi: 29.5, v: { temperature: 18.777837976084616 } });
    const p = { ...TEMP_PREDICTION, points: [{ ...(TEMP_PREDICTION.points[0] as (typeof TEMP_PREDICTION.points)[number]), hvac_kw: -2.5 }] };
    expect(hvacRows(p, { temp: 'F', energy: 'MWh' })[0]?.v.hvac).toBeCloseTo(-0.0025, 12);
    expect(delta(0.5775533386051014, F)).toBe('1.0 °F');
    expect(delta(0.5775533386051014, C)).toBe('0.6 K');
  });

  it('says the comfort outlook and the HVAC heat in words', () => {
    expect(outlook(TEMP_PREDICTION, 'America/New_York', C)).toEqual([
      'Below the heating setpoint for 6.5 h, first at Nov 28, 05:30:00 AM EST.',
      'No HVAC heating or cooling predicted.',
    ]);
    const p = { ...TEMP_PREDICTION, points: TEMP_PREDICTION.points.slice(0, 4).map((x, i) => ({ ...x, temperature: 31, hvac_kw: i < 2 ? -4 : 2 })) };
    expect(outlook(p, 'America/New_York', C)).toEqual([
      'Above the cooling setpoint for 1 h, first at Nov 27, 08:45:00 PM EST.',
      'Heating up to 2.0 kW, 1.0 kWh in all.',
      'Cooling up to 4.0 kW, 2.0 kWh in all.',
    ]);
  });

  it('shows the next 24 h in °F against the comfort band, with the model scores in °F', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const h = await show(['viewer'], engine('ok'));
    const fig = await within(section()).findByRole('figure', { name: 'Predicted zone temperature' });
    expect(fig).toHaveTextContent('(°F)');
    expect(fig).toHaveTextContent('Predicted temperature: first 65.8 °F'); // 18.78 °C
    expect(fig).toHaveTextContent('Comfort band: from 59.9 °F to 85.1 °F');
    expect(section()).toHaveTextContent("With the comfort band by schedule: issued Nov 27, 08:30:00 PM EST, outdoor temperature from yesterday's temperatures (no weather forecast).");
    expect(section()).toHaveTextContent('Tested on 144 held-out 24-hour runs, the model was typically within 1.0 °F of the measured temperature (at worst 5.2 °F).');
    expect(preds(h).map((c) => Object.fromEntries(c.query))).toEqual([{ zone: 'f1-south', hours: '24' }]);
  });

  it('tries setpoints typed in °F and sends them in °C', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const h = await show(['viewer'], engine('ok'));
    await within(section()).findByRole('figure', { name: 'Predicted zone temperature' });
    const form = screen.getByRole('form', { name: 'Try setpoints' });
    await userEvent.type(within(form).getByLabelText('Heating setpoint (°F)'), '100');
    await userEvent.type(within(form).getByLabelText('Cooling setpoint (°F)'), '75.2');
    await userEvent.click(within(form).getByRole('button', { name: 'Predict with these' }));
    expect(within(form).getByRole('alert')).toHaveTextContent('Heating must be 41.0 – 95.0 °F.');
    expect(preds(h)).toHaveLength(1);
    await userEvent.clear(within(form).getByLabelText('Heating setpoint (°F)'));
    await userEvent.type(within(form).getByLabelText('Heating setpoint (°F)'), '68');
    await userEvent.click(within(form).getByRole('button', { name: 'Predict with these' }));
    await waitFor(() => expect(preds(h)).toHaveLength(2));
    expect(Object.fromEntries(preds(h)[1]?.query ?? [])).toEqual({ zone: 'f1-south', hours: '24', heating: '20', cooling: '24' });
    expect(await within(section()).findByText(/With setpoints 68\.0 °F – 75\.2 °F/)).toBeInTheDocument();
    await userEvent.click(within(form).getByRole('button', { name: 'Back to the comfort band' }));
    await waitFor(() => expect(preds(h)).toHaveLength(3));
    expect(preds(h)[2]?.query.has('heating')).toBe(false);
  });

  it('shows a 409 and a 400 in words', async () => {
    const msg = 'no thermal model: HVAC heat input missing for 672.0 h (gaps longer than 2 h)';
    localStorage.setItem('sbems.tempUnit', 'C');
    await show(['viewer'], engine('ok', (c) => (c.query.has('heating')
      ? apiError(400, 'invalid', 'zone temperature forecast: the heating setpoint is above the cooling setpoint')
      : apiError(409, 'no_model', msg))));
    expect(await within(section()).findByText('No prediction yet: HVAC heat input missing for 672.0 h (gaps longer than 2 h)')).toBeInTheDocument();
    const form = screen.getByRole('form', { name: 'Try setpoints' });
    await userEvent.type(within(form).getByLabelText('Heating setpoint (°C)'), '21');
    await userEvent.type(within(form).getByLabelText('Cooling setpoint (°C)'), '24');
    await userEvent.click(within(form).getByRole('button', { name: 'Predict with these' }));
    expect(await within(section()).findByText('zone temperature forecast: the heating setpoint is above the cooling setpoint')).toBeInTheDocument();
  });

  it('says why a zone has no model in one line, and asks for no prediction', async () => {
    const h = await show(['viewer'], engine('insufficient'));
    await waitFor(() => expect(section()).toHaveTextContent('Not available (not enough data): HVAC heat input missing for 672.0 h (gaps longer than 2 h).'));
    expect(preds(h)).toHaveLength(0);
    expect(within(section()).queryByRole('form')).toBeNull();
  });

  it('shows no prediction section without the analytics service', async () => {
    const h = await show(['viewer'], (c) => (c.path === '/api/v1/analytics/models' ? apiError(503, 'unavailable', 'analytics is not running') : undefined));
    await waitFor(() => expect(h.calls.some((c) => c.path === '/api/v1/analytics/models')).toBe(true));
    expect(screen.queryByRole('heading', { name: /Temperature prediction/ })).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(preds(h)).toHaveLength(0);
  });
});
