import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, EQUIPMENT, POINTS, page } from '../test/fixtures';
import { makeHarness, renderWith } from '../test/render';
import ExportPage, { formatLocal, parseLocal, presetRange } from './ExportPage';

const NY = 'America/New_York';

function sbems(exportAnswer: (c: Call) => Response = () =>
  new Response('time,a\n', { status: 200, headers: { 'content-type': 'text/csv', 'content-disposition': 'attachment; filename="sbems-export-2026-11-27.csv"' } })) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: ['viewer'] }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/equipment') return json(200, page(EQUIPMENT));
    if (c.path === '/api/v1/points') return json(200, page(POINTS));
    if (c.path === '/api/v1/export') return exportAnswer(c);
    return apiError(404, 'not_found');
  };
}

async function show(handler = sbems()) {
  const h = makeHarness(handler);
  await h.client.login('u', 'pw');
  renderWith(h, <ExportPage />, { path: '/buildings/hpo/export/', route: '/buildings/:building/export/' });
  await screen.findByRole('heading', { level: 1, name: 'Reports and exports' });
  return h;
}

let clicked: string[] = [];
beforeEach(() => {
  clicked = [];
  // jsdom has no object URLs and does not follow download links: record the save
  URL.createObjectURL = vi.fn(() => 'blob:x');
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    clicked.push(this.download);
  });
});
afterEach(() => vi.restoreAllMocks());

describe('periods in the building zone', () => {
  it('parses and formats datetime-local values in the building zone', () => {
    expect(new Date(parseLocal('2026-11-27T08:00', NY) ?? 0).toISOString()).toBe('2026-11-27T13:00:00.000Z');
    expect(formatLocal(Date.UTC(2026, 6, 1, 12, 0), NY)).toBe('2026-07-01T08:00');
    expect(parseLocal('2026-13-01T00:00', NY)).toBeNull();
    expect(parseLocal('yesterday', NY)).toBeNull();
  });
  it('gives yesterday as a whole local day, 25 h long on the day DST ends', () => {
    const now = Date.UTC(2026, 10, 2, 15, 0); // 2 Nov 2026 10:00 EST; 1 Nov had 25 hours
    const [f, t] = presetRange('yesterday', now, NY);
    expect(new Date(f).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(new Date(t).toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(t - f).toBe(25 * 3_600_000);
    const [f7] = presetRange('7d', now, NY);
    expect(new Date(f7).toISOString()).toBe('2026-10-27T04:00:00.000Z');
  });
});

describe('ExportPage', () => {
  it('exports the chosen points over a custom period in the chosen format', async () => {
    const h = await show();
    const user = userEvent.setup();
    const boxes = screen.getAllByRole('checkbox');
    expect(boxes.length).toBe(POINTS.length);
    await user.click(boxes[0] as HTMLElement);
    await user.click(boxes[1] as HTMLElement);
    await user.selectOptions(screen.getByLabelText('Period'), 'custom');
    fireEvent.change(screen.getByLabelText(/^From/), { target: { value: '2026-11-01T00:00' } });
    fireEvent.change(screen.getByLabelText(/^To/), { target: { value: '2026-11-08T00:00' } });
    await user.selectOptions(screen.getByLabelText('Resolution'), '15m');
    await user.selectOptions(screen.getByLabelText('Format'), 'xlsx');
    await user.click(screen.getByRole('button', { name: 'Export' }));
    await screen.findByText(/Saved sbems-export-2026-11-27\.csv/);
    const c = h.calls.find((x) => x.path === '/api/v1/export');
    expect(c?.headers.authorization).toBe('Bearer access-1');
    expect(c?.query.get('points')).toBe([POINTS[0]?.id, POINTS[1]?.id].join(','));
    // 1 Nov 00:00 EDT = 04:00Z; 8 Nov 00:00 EST = 05:00Z
    expect(c?.query.get('from')).toBe(String(Date.UTC(2026, 10, 1, 4)));
    expect(c?.query.get('to')).toBe(String(Date.UTC(2026, 10, 8, 5)));
    expect(c?.query.get('resolution')).toBe('15m');
    expect(c?.query.get('format')).toBe('xlsx');
    expect(clicked).toEqual(['sbems-export-2026-11-27.csv']);
  });

  it('asks for a point, refuses a reversed period, and shows the server refusal in words', async () => {
    const h = await show(sbems(() => apiError(413, 'too_large', 'more than 5,000,000 values: narrow the range')));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Export' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Choose at least one point.');
    await user.click(screen.getAllByRole('button', { name: /^Choose all of/ })[0] as HTMLElement);
    await user.selectOptions(screen.getByLabelText('Period'), 'custom');
    fireEvent.change(screen.getByLabelText(/^From/), { target: { value: '2026-11-08T00:00' } });
    fireEvent.change(screen.getByLabelText(/^To/), { target: { value: '2026-11-01T00:00' } });
    await user.click(screen.getByRole('button', { name: 'Export' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The end must be after the start.');
    expect(h.calls.some((x) => x.path === '/api/v1/export')).toBe(false);
    fireEvent.change(screen.getByLabelText(/^To/), { target: { value: '2026-11-09T00:00' } });
    await user.click(screen.getByRole('button', { name: 'Export' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent(/narrow the range/));
    expect(clicked).toEqual([]);
  });

  it('filters the points by name', async () => {
    await show();
    const user = userEvent.setup();
    const before = screen.getAllByRole('checkbox').length;
    await user.type(screen.getByLabelText('Filter points'), 'zzz-no-such');
    expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
    expect(screen.getByText('No point matches.')).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Filter points'));
    expect(screen.getAllByRole('checkbox')).toHaveLength(before);
  });
});
