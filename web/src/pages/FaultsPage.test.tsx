import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Findings } from '../api/fdd';
import { costText, evidenceText, summaryText, timeText } from '../api/fdd';
import { FakeWebSocket } from '../test/FakeWebSocket';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { ALERT_42 } from '../test/fixtures-alerts';
import { AHU_POINTS, ALL, EMPTY, F_AHU, F_CHILLER, F_VAV, OPEN, history } from '../test/fixtures-fdd';
import { makeHarness, renderWith } from '../test/render';
import { formatDateTime } from '../lib/time';
import FaultsPage, { EVENT_COALESCE_MS } from './FaultsPage';

function sbems(findings: (c: Call) => Response) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: ['viewer'] }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/fdd/findings') return findings(c);
    if (c.path === '/api/v1/points') return json(200, page(AHU_POINTS.filter((p) => p.equipment === c.query.get('equipment'))));
    const h = /^\/api\/v1\/points\/([^/]+)\/history$/.exec(c.path);
    if (h) return json(200, history(70, Number(c.query.get('from')), [14.8, 15.0, 15.1]));
    return apiError(404, 'not_found');
  };
}

const byState = (c: Call) => json(200, c.query.get('state') === 'all' ? ALL : OPEN);

async function show(opts: { findings?: (c: Call) => Response; temp?: 'C' | 'F'; energy?: string } = {}) {
  localStorage.setItem('sbems.tempUnit', opts.temp ?? 'C');
  if (opts.energy) localStorage.setItem('sbems.energyUnit', opts.energy);
  const h = makeHarness(sbems(opts.findings ?? byState));
  await h.client.login('vic', 'pw');
  renderWith(h, <FaultsPage />, { path: '/buildings/hpo/faults/', route: '/buildings/:building/faults' });
  await screen.findByRole('heading', { level: 1, name: 'Faults' });
  return h;
}

const gets = (h: { calls: Call[] }) => h.calls.filter((c) => c.path === '/api/v1/fdd/findings');
const histories = (h: { calls: Call[] }) => h.calls.filter((c) => c.path.endsWith('/history'));
const table = () => screen.getByRole('table', { name: 'Faults, most costly first' });
const row = (id: string) => within(table()).getByTestId(`finding-${id}`);
const cells = (id: string) => [within(row(id)).getByRole('rowheader'), ...within(row(id)).getAllByRole('cell')].map((c) => c.textContent ?? '');

afterEach(() => FakeWebSocket.reset());

describe('findings in words', () => {
  const C = { temp: 'C', energy: 'kWh' } as const;
  const F = { temp: 'F', energy: 'kWh' } as const;
  it('sums up the open findings, with or without a cost estimate', () => {
    expect(summaryText(OPEN)).toBe('3 open faults, estimated to cost $13.30 a day together; 1 of them without an estimate.');
    expect(summaryText({ ...OPEN, findings: [F_AHU], total_cost_per_day: 12.4 })).toBe('1 open fault, estimated to cost $12.40 a day together.');
    expect(summaryText({ ...OPEN, currency: null, total_cost_per_day: null, findings: [F_CHILLER] }))
      .toBe('1 open fault; no cost estimate (each fault says why).');
    expect(summaryText(EMPTY)).toBe('No open faults.');
  });
  it('formats money, evidence units and times safely', () => {
    expect(costText(1234.5, 'EUR')).toBe('€1,234.50 a day');
    expect(costText(3, null)).toBe('3.00 a day');
    expect(costText(null, 'USD')).toBe('—');
    expect(evidenceText(14.2, 'degC', C)).toBe('14.2 °C');
    expect(evidenceText(14.2, 'degC', F)).toBe('57.6 °F');
    expect(evidenceText(2.2, 'K', C)).toBe('2.2 K'); // a difference, not -270.9 °C
    expect(evidenceText(0.45, '', C)).toBe('0.45');
    expect(evidenceText(250, 'Pa', F)).toBe('250 Pa');
    expect(timeText('not a time', 'UTC')).toBe('—');
    expect(timeText(null, 'UTC')).toBe('—');
  });
});

describe('FaultsPage', () => {
  it('ranks the findings in the order given, with cost, energy, severity, faults and time in the building zone', async () => {
    const h = await show();
    expect(await screen.findByText('3 open faults, estimated to cost $13.30 a day together; 1 of them without an estimate.')).toBeInTheDocument();
    expect(Object.fromEntries(gets(h)[0]?.query ?? [])).toEqual({ building: 'hpo' });
    const rows = within(table()).getAllByTestId(/^finding-/);
    expect(rows.map((r) => r.getAttribute('data-testid'))).toEqual([`finding-${F_AHU.id}`, `finding-${F_VAV.id}`, `finding-${F_CHILLER.id}`]);
    // rank, fault (row header), equipment, severity, since, impact, details
    const [title, rank, equipment, severity, since, impact] = cells(F_AHU.id);
    expect(rank).toBe('1');
    expect(title).toBe('Supply air too warm in mechanical cooling (APAR 13)Likely: cooling coil valve stuck or cooling capacity');
    expect(equipment).toBe('AHU-1Air handler');
    expect(severity).toBe('Major');
    expect(since).toBe(formatDateTime(Date.parse(F_AHU.since), 'America/New_York'));
    expect(since).toMatch(/EST$/);
    expect(impact).toBe('$12.40 a day48.0 kWh a day');
    expect(within(row(F_AHU.id)).getByRole('link', { name: 'AHU-1' })).toHaveAttribute('href', '/equipment/ahu-1/');
    expect(cells(F_VAV.id).slice(1, 2)).toEqual(['2']);
    expect(cells(F_VAV.id)[5]).toBe('$0.90 a day3.5 kWh a day');
    expect(within(row(F_CHILLER.id)).getByText('Critical')).toBeInTheDocument();
    // the phone's cards, in the same order
    const cards = within(screen.getByRole('list', { name: 'Faults, most costly first' })).getAllByRole('listitem');
    expect(cards.map((c) => within(c).getByRole('heading').textContent?.split('Likely')[0])).toEqual([F_AHU.title, F_VAV.title, F_CHILLER.title]);
    expect(cards[2]).toHaveTextContent('Rank 3');
    expect(cards[2]).toHaveTextContent('No estimate: the chiller has no power meter.');
    // no chart is read until a finding is opened
    expect(histories(h)).toHaveLength(0);
  });

  it('shows the basis sentence where there is no estimate, and energy in the user unit', async () => {
    await show({ energy: 'kBtu' });
    await screen.findByRole('table', { name: 'Faults, most costly first' });
    expect(cells(F_CHILLER.id)[5]).toBe('No estimate: the chiller has no power meter.');
    expect(cells(F_AHU.id)[5]).toBe('$12.40 a day164 kBtu a day'); // 48 kWh
  });

  it('asks for all findings, cleared ones too, with state=all, and says which are cleared', async () => {
    const h = await show();
    await screen.findByRole('table', { name: 'Faults, most costly first' });
    const all = screen.getByRole('button', { name: 'All, including cleared' });
    expect(all).toHaveAttribute('aria-pressed', 'false');
    await userEvent.click(all);
    await waitFor(() => expect(gets(h)).toHaveLength(2));
    expect(Object.fromEntries(gets(h)[1]?.query ?? [])).toEqual({ building: 'hpo', state: 'all' });
    expect(await within(await screen.findByRole('table')).findByTestId('finding-ahu-2/apar-26')).toHaveTextContent('Cleared');
    expect(screen.getByRole('button', { name: 'All, including cleared' })).toHaveAttribute('aria-pressed', 'true');
    expect(within(table()).getAllByTestId(/^finding-/)).toHaveLength(4);
    // the summary still counts the open ones only
    expect(screen.getByText(/^3 open faults/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Open faults' }));
    await waitFor(() => expect(gets(h)).toHaveLength(3));
    expect(gets(h)[2]?.query.has('state')).toBe(false);
  });

  it('opens a finding: evidence in the user units, action, alert link, and the history of its points over its window', async () => {
    const h = await show({ temp: 'F' });
    await screen.findByRole('table', { name: 'Faults, most costly first' });
    const btn = within(row(F_AHU.id)).getByRole('button', { name: /^Details/ });
    expect(btn).toHaveAttribute('aria-expanded', 'false');
    await userEvent.click(btn);
    expect(btn).toHaveAttribute('aria-expanded', 'true');
    const details = document.getElementById(btn.getAttribute('aria-controls') ?? '') as HTMLElement;
    expect(details).toHaveTextContent('Supply air temperature57.6 °F'); // 14.2 °C
    expect(details).toHaveTextContent('Error above threshold4.0 °F'); // 2.2 K is a difference
    expect(details).toHaveTextContent('Check the cooling valve actuator and the chilled water supply temperature.');
    expect(within(details).getByRole('link', { name: 'Open the alert (#12)' })).toHaveAttribute('href', '/alerts/12/');
    await waitFor(() => expect(histories(h)).toHaveLength(3));
    const from = String(Date.parse(F_AHU.chart.from));
    const to = String(Date.parse(F_AHU.chart.to));
    expect(histories(h).map((c) => [c.path, c.query.get('from'), c.query.get('to'), c.query.get('resolution')])).toEqual([
      ['/api/v1/points/ahu-1.sat/history', from, to, '1m'],
      ['/api/v1/points/ahu-1.sat-sp/history', from, to, '1m'],
      ['/api/v1/points/ahu-1.ccv/history', from, to, '1m'],
    ]);
    // the valve is not in the evidence: its unit comes from the equipment's points
    expect(h.calls.find((c) => c.path === '/api/v1/points')?.query.get('equipment')).toBe('ahu-1');
    // temperatures share a chart in °F; the valve (%) gets its own
    const temps = await within(details).findByRole('figure', { name: 'Supply air temperature, Supply air setpoint' });
    expect(temps).toHaveTextContent('Supply air temperature: latest 59.2 °F'); // 15.1 °C
    expect(within(details).getByRole('figure', { name: 'Cooling Valve' })).toHaveTextContent('Cooling Valve: latest 15 %') // 15.1, whole percent;
    await userEvent.click(btn);
    expect(btn).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByRole('link', { name: 'Open the alert (#12)' })).toBeNull();
  });

  it('says so when nothing is found', async () => {
    await show({ findings: () => json(200, EMPTY) });
    expect(await screen.findByText('No open faults.')).toBeInTheDocument();
    expect(screen.getByText(/^No open faults found: no check is failing/)).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows a refused request in words', async () => {
    await show({ findings: () => apiError(403, 'forbidden', 'not your building') });
    expect(await screen.findByText('Your role does not allow this.')).toBeInTheDocument();
  });

  it('reads the list again on an alert event of this building, not of another', async () => {
    let answer: Findings = OPEN;
    const h = await show({ findings: () => json(200, answer) });
    await screen.findByRole('table', { name: 'Faults, most costly first' });
    act(() => h.conn.start());
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    act(() => ws.receive({ type: 'ready', user: 'vic', expires_in: 900 }));
    expect(ws.ofType('subscribe').flatMap((m) => m.channels as string[])).toContain('alerts');

    answer = { ...OPEN, findings: [F_CHILLER, F_AHU, F_VAV] };
    act(() => {
      ws.receive({ type: 'event', channel: 'alerts', data: { event: 'raised', alert: ALERT_42 } });
      ws.receive({ type: 'event', channel: 'alerts', data: { event: 're-raised', alert: ALERT_42 } });
    });
    await waitFor(() => expect(within(table()).getAllByTestId(/^finding-/)[0]).toHaveAttribute('data-testid', `finding-${F_CHILLER.id}`));
    // another building's event reads nothing
    act(() => ws.receive({ type: 'event', channel: 'alerts', data: { event: 'raised', alert: { ...ALERT_42, building: 'lab' } } }));
    await act(() => new Promise((r) => setTimeout(r, EVENT_COALESCE_MS + 100)));
    expect(gets(h)).toHaveLength(2); // the first read, and one for the two events
  });
});
