import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Zone } from '../api/types';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING, page } from '../test/fixtures';
import { makeHarness, renderWith } from '../test/render';
import SchedulesPage from './SchedulesPage';

const COMFORT = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15.5, cooling: 29.5 } };
const ZONES: Zone[] = [
  { id: 'f1-north', building: 'hpo', name: 'Floor 1 north', floor: 1, comfort: COMFORT, schedule: { 'mon-fri': '07:00-19:00', sat: '08:00-12:00' } },
  { id: 'f1-east', building: 'hpo', name: 'Floor 1 east', floor: 1, comfort: COMFORT, schedule: { 'mon-fri': '06:30-20:00' } },
  { id: 'f2-core', building: 'hpo', name: 'Floor 2 core', floor: 2 },
];

type Patch = (zone: string, body: Record<string, unknown>) => Response;

/** RFC 7396, as sbems applies a PATCH (src/api/h_model.c merge_patch). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target)
    ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** sbems for this page; PATCH answers the merged zone after a short wait (to see that saves go one at a time). */
function sbems(roles: string[], patch?: Patch) {
  let inFlight = 0;
  const seen = { maxInFlight: 0 };
  const handler = async (c: Call): Promise<Response> => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === '/api/v1/zones' && c.query.get('building') === 'hpo') return json(200, page(ZONES));
    const m = /^\/api\/v1\/zones\/([^/]+)$/.exec(c.path);
    if (m && c.method === 'PATCH') {
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const body = c.body as Record<string, unknown>;
      const id = decodeURIComponent(m[1] ?? '');
      return patch ? patch(id, body) : json(200, mergePatch(ZONES.find((z) => z.id === id), body));
    }
    return apiError(404, 'not_found');
  };
  return { handler, seen };
}

async function show(roles: string[], patch?: Patch) {
  // jsdom says en-US, whose default is °F: the tests choose their scale
  if (!localStorage.getItem('sbems.tempUnit')) localStorage.setItem('sbems.tempUnit', 'C');
  const s = sbems(roles, patch);
  const h = makeHarness(s.handler);
  await h.client.login('u', 'pw');
  renderWith(h, <SchedulesPage />, { path: '/buildings/hpo/schedules/', route: '/buildings/:building/schedules' });
  await screen.findByRole('heading', { level: 1, name: /Schedules — Harbor Point Office/ });
  return { h, seen: s.seen, patches: () => h.calls.filter((c) => c.method === 'PATCH') };
}

function row(name: string): HTMLElement {
  return screen.getByRole('rowheader', { name }).closest('tr') as HTMLElement;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SchedulesPage', () => {
  it('shows every zone with its week in words, bands in the user scale and occupancy now', async () => {
    // Friday 27 Nov 2026, 10:00 in New York (15:00 UTC)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 10, 27, 15, 0));
    localStorage.setItem('sbems.tempUnit', 'F');
    await show(['viewer']);
    const north = row('Floor 1 north');
    expect(north).toHaveTextContent('Mon–Fri 07:00–19:00, Sat 08:00–12:00, Sun closed');
    expect(north).toHaveTextContent('Occupied: 69.8 °F – 75.2 °F');
    expect(north).toHaveTextContent('Unoccupied: 59.9 °F – 85.1 °F');
    expect(within(north).getByText('Occupied', { selector: 'span.rounded' })).toBeInTheDocument();
    const core = row('Floor 2 core');
    expect(core).toHaveTextContent('No schedule (never occupied)');
    expect(within(core).getByText('Unoccupied')).toBeInTheDocument();
    expect(screen.getByText(/Holiday calendars, exception days and timed overrides are not available yet/)).toBeInTheDocument();
  });

  it('renders no edit control for viewers and operators', async () => {
    for (const roles of [['viewer'], ['operator']]) {
      const { patches } = await show(roles);
      expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
      expect(screen.queryByRole('button', { name: /edit/i })).not.toBeInTheDocument();
      expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
      expect(patches()).toHaveLength(0);
      cleanup();
    }
  });

  it('lets a manager edit one zone: compacts the week, confirms in words, sends the PATCH', async () => {
    const user = userEvent.setup();
    const { patches } = await show(['manager']);
    await user.click(screen.getByRole('button', { name: 'Edit Floor 1 north' }));
    expect(screen.getByRole('heading', { name: 'Edit Floor 1 north' })).toHaveFocus();
    const monEnd = screen.getByLabelText('Monday period 1 End');
    await user.clear(monEnd);
    await user.type(monEnd, '18:00');
    await user.click(screen.getByRole('button', { name: 'Add a period on Monday' })); // 18:00-20:00
    await user.click(screen.getByRole('button', { name: 'Copy Monday to weekdays' }));
    expect(screen.getByLabelText('Friday period 2 Start')).toHaveValue('18:00');
    await user.click(screen.getByRole('button', { name: 'Review and save' }));

    const dialog = screen.getByRole('dialog', { name: 'Save this schedule?' });
    expect(dialog).toHaveTextContent('Floor 1 north');
    expect(dialog).toHaveTextContent('Schedule: Mon–Fri 07:00–19:00, Sat 08:00–12:00, Sun closed → Mon–Fri 07:00–18:00 and 18:00–20:00, Sat 08:00–12:00, Sun closed');
    expect(dialog).toHaveTextContent('Comfort: unchanged');
    expect(patches()).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));

    expect(await screen.findByText('1 of 1 zone saved.')).toBeInTheDocument();
    expect(patches()).toHaveLength(1);
    expect(patches()[0]?.path).toBe('/api/v1/zones/f1-north');
    expect(patches()[0]?.body).toEqual({
      schedule: { 'mon-fri': '07:00-18:00,18:00-20:00', sat: '08:00-12:00' },
      comfort: COMFORT,
    });
    // the table shows what the server answered
    expect(row('Floor 1 north')).toHaveTextContent('Mon–Fri 07:00–18:00 and 18:00–20:00, Sat 08:00–12:00, Sun closed');
  });

  it('shows validation errors in words and sends nothing', async () => {
    const user = userEvent.setup();
    const { patches } = await show(['admin']);
    await user.click(screen.getByRole('button', { name: 'Edit Floor 1 north' }));
    const start = screen.getByLabelText('Tuesday period 1 Start');
    await user.clear(start);
    await user.type(start, '20:00');
    await user.click(screen.getByRole('button', { name: 'Add a period on Saturday' }));
    const sat2 = screen.getByLabelText('Saturday period 2 Start');
    await user.clear(sat2);
    await user.type(sat2, '11:00');
    const occH = screen.getByLabelText('Occupied Heat below (°C)');
    await user.clear(occH);
    await user.type(occH, '25');
    await user.click(screen.getByRole('button', { name: 'Review and save' }));

    expect(screen.getByRole('alert')).toHaveTextContent('Nothing was saved: fix the problems marked below first.');
    expect(screen.getByText(/the start \(20:00\) must be before the end \(19:00\)\. A period cannot cross midnight/)).toBeInTheDocument();
    expect(screen.getByText('Periods 1 and 2 overlap (08:00–12:00 and 11:00–14:00).')).toBeInTheDocument();
    expect(screen.getByText('Heating (25 °C) must be below cooling (24 °C).')).toBeInTheDocument();
    expect(screen.getByLabelText('Tuesday period 1 Start')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(patches()).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Close editor' }));
    expect(screen.queryByRole('form')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Edit Floor 1 north' })).toHaveFocus();
  });

  it('saves a °F entry as the exact °C and keeps untouched bands as stored', async () => {
    localStorage.setItem('sbems.tempUnit', 'F');
    const user = userEvent.setup();
    const { patches } = await show(['manager']);
    await user.click(screen.getByRole('button', { name: 'Edit Floor 1 north' }));
    const occH = screen.getByLabelText('Occupied Heat below (°F)');
    expect(occH).toHaveValue('69.8');
    await user.clear(occH);
    await user.type(occH, '70.1');
    expect(screen.getByText('Saved as 21.17 °C')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Review and save' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveTextContent('Comfort: occupied 69.8 °F – 75.2 °F, unoccupied 59.9 °F – 85.1 °F → occupied 70.1 °F – 75.2 °F, unoccupied 59.9 °F – 85.1 °F');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    await screen.findByText('1 of 1 zone saved.');
    const body = patches()[0]?.body as { comfort: typeof COMFORT };
    expect(body.comfort.occupied.heating).toBe(1905 / 90); // (70.1 − 32) × 5/9, one rounding
    expect(body.comfort.occupied.heating).not.toBe((70.1 - 32) * 5 / 9);
    expect(body.comfort.occupied.cooling).toBe(24);
    expect(body.comfort.unoccupied).toEqual({ heating: 15.5, cooling: 29.5 });
  });

  it('applies to two selected zones one after the other; one failure hides no success; details go on the fields', async () => {
    const user = userEvent.setup();
    const { patches, seen } = await show(['manager'], (id, body) =>
      id === 'f1-east'
        ? apiError(400, 'invalid', 'the object is not valid', [
          { message: 'zones[1] "f1-east": schedule "sat": periods overlap' },
          { message: 'zones[1] "f1-east": schedule key "xyz" is not a day or day range (mon..sun, e.g. "mon-fri")' },
        ])
        : json(200, mergePatch(ZONES[0], body)));
    await user.click(screen.getByRole('checkbox', { name: 'Select Floor 1 north' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select Floor 1 east' }));
    await user.click(screen.getByRole('button', { name: 'Edit selected (2)' }));
    expect(screen.getByRole('heading', { name: 'Edit 2 zones' })).toBeInTheDocument();
    // the editor starts from the first zone in table order (east); schedule only
    expect(screen.getByLabelText('Monday period 1 Start')).toHaveValue('06:30');
    await user.click(screen.getByRole('checkbox', { name: 'Comfort bands' }));
    await user.click(screen.getByRole('button', { name: 'Review and save to 2 zones' }));
    const dialog = screen.getByRole('dialog', { name: 'Save to 2 zones?' });
    expect(dialog).toHaveTextContent('Floor 1 eastSchedule: unchanged (Mon–Fri 06:30–20:00, Sat–Sun closed)');
    expect(dialog).toHaveTextContent('Floor 1 northSchedule: Mon–Fri 07:00–19:00, Sat 08:00–12:00, Sun closed → Mon–Fri 06:30–20:00, Sat–Sun closed');
    expect(dialog).not.toHaveTextContent('Comfort');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));

    const status = await screen.findByText('1 of 2 zones saved, 1 not saved.');
    const results = status.closest('[role="status"]') as HTMLElement;
    expect(results).toHaveTextContent('Floor 1 east: not saved — Please check: schedule "sat": periods overlap; schedule key "xyz"');
    expect(results).toHaveTextContent('Floor 1 north: saved');
    // the first failed, the second was still sent, after the first had its answer
    expect(patches().map((c) => c.path)).toEqual(['/api/v1/zones/f1-east', '/api/v1/zones/f1-north']);
    // north's Saturday key is removed by null (the PATCH is an RFC 7396 merge)
    expect(patches().map((c) => c.body)).toEqual([{ schedule: { 'mon-fri': '06:30-20:00' } }, { schedule: { 'mon-fri': '06:30-20:00', sat: null } }]);
    expect(seen.maxInFlight).toBe(1);
    expect(row('Floor 1 north')).toHaveTextContent('Mon–Fri 06:30–20:00, Sat–Sun closed');
    // on the fields, named by zone
    expect(screen.getByRole('group', { name: 'Saturday' })).toHaveAccessibleDescription('Floor 1 east: schedule "sat": periods overlap');
    expect(screen.getByText('Floor 1 east: schedule key "xyz" is not a day or day range (mon..sun, e.g. "mon-fri")')).toBeInTheDocument();
  });

  it('shows a 400 detail on the field it names for one zone', async () => {
    const user = userEvent.setup();
    await show(['manager'], () => apiError(400, 'invalid', 'the object is not valid', [
      { message: 'zones[0] "f1-north": comfort.unoccupied must contain comfort.occupied (setback heats less and cools less)' },
      { message: 'zones[0] "f1-north": comfort.occupied.heating is missing' },
    ]));
    await user.click(screen.getByRole('button', { name: 'Edit Floor 1 north' }));
    await user.click(screen.getByRole('button', { name: 'Review and save' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Save' }));
    await screen.findByText('0 of 1 zone saved, 1 not saved.');
    expect(screen.getByLabelText('Occupied Heat below (°C)')).toHaveAccessibleDescription('comfort.occupied.heating is missing');
    const band = screen.getByRole('group', { name: 'Unoccupied (setback)' });
    expect(band).toHaveAccessibleDescription('comfort.unoccupied must contain comfort.occupied (setback heats less and cools less)');
    // editing clears the server's verdict, which no longer applies
    await user.type(screen.getByLabelText('Unoccupied (setback) Heat below (°C)'), '0');
    await waitFor(() => expect(band).not.toHaveAccessibleDescription(/must contain/));
  });
});
