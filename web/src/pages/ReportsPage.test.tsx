import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import type { Report, ReportFile, SavedReport } from '../api/reports';
import { buildReport, draftOf, emptyDraft, fieldOf, periodWords, sizeWords, slugOf } from '../api/reports';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { BUILDING } from '../test/fixtures';
import { makeHarness, renderWith } from '../test/render';
import ReportsPage from './ReportsPage';

// Shapes as src/api/h_reports.c answers them (public_def, file_json, the run's file list).
const WEEKLY: Report = {
  id: 'hpo-weekly', building: 'hpo', name: 'Weekly energy', frequency: 'weekly', formats: ['xlsx', 'csv'],
  email: ['fm@example.org', 'cfo@example.org'], webhook: 'https://hooks.example.org/reports', keep: 8,
  baseline: '2025-01-01/2025-12-31', enabled: true, has_secret: true,
};
// made with only the required members: GET shows what was stored, so the defaults are the page's to say
const DAILY: Report = { id: 'hpo-daily', building: 'hpo', name: 'Daily check', frequency: 'daily', formats: ['json'], enabled: false, has_secret: false };

const file = (id: number, format: 'xlsx' | 'csv', from: string, to: string, bytes: number, day: string): ReportFile => ({
  id, report: 'hpo-weekly', building: 'hpo', format, name: `hpo-weekly-${day}.${format}`, from, to, created: '2026-11-23T11:00:07.000Z', bytes,
});
const FILES: ReportFile[] = [
  file(42, 'csv', '2026-11-16T05:00:00.000Z', '2026-11-23T05:00:00.000Z', 850, '2026-11-16'),
  file(41, 'xlsx', '2026-11-16T05:00:00.000Z', '2026-11-23T05:00:00.000Z', 12_650, '2026-11-16'),
  // the week DST ends in New York (1 Nov 2026): starts at 04:00Z, ends at 05:00Z
  file(39, 'xlsx', '2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z', 2_500_000, '2026-10-26'),
];
const SECRET = '9f1c2b7e5a0d4c3b8e6f1a2d3c4b5a69788796a5b4c3d2e1f00112233445566a';
const LIST = '/api/v1/reports';

type Extra = (c: Call) => Response | Promise<Response> | undefined;

function sbems(roles: string[], extra: Extra, reports: () => Report[]) {
  return (c: Call): Response | Promise<Response> => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (c.path === LIST && c.method === 'GET') return json(200, { items: reports() });
    if (c.path === '/api/v1/reports/hpo-weekly/files') return json(200, { items: FILES });
    if (c.path === '/api/v1/reports/hpo-daily/files') return json(200, { items: [] });
    return apiError(404, 'not_found', 'no such report');
  };
}

async function show(roles: string[], opts: { extra?: Extra; reports?: () => Report[] } = {}) {
  const h = makeHarness(sbems(roles, opts.extra ?? (() => undefined), opts.reports ?? (() => [WEEKLY, DAILY])));
  await h.client.login('vic', 'pw');
  renderWith(h, <ReportsPage />, { path: '/buildings/hpo/reports/', route: '/buildings/:building/reports/' });
  await screen.findByRole('heading', { level: 1, name: 'Scheduled reports' });
  return h;
}

const sent = (h: { calls: Call[] }, method: string, path = LIST) => h.calls.filter((c) => c.method === method && c.path === path);
const card = (id: string) => screen.getByTestId(`report-${id}`);
const form = (name: RegExp | string) => screen.getByRole('form', { name });

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

describe('report rules', () => {
  it('builds the body the server takes, with its checks first', () => {
    const d = { ...emptyDraft(), name: 'Board pack', id: 'board-pack', frequency: 'monthly' as const, formats: ['json' as const, 'xlsx' as const],
                email: 'a@example.org, b@example.org\n\na@example.org', webhook: ' https://h.example.org/x ', keep: '24',
                baselineFrom: '2025-01-01', baselineTo: '2025-12-31', enabled: false };
    expect(buildReport(d, 'hpo').body).toEqual({
      id: 'board-pack', building: 'hpo', name: 'Board pack', frequency: 'monthly', formats: ['xlsx', 'json'],
      email: ['a@example.org', 'b@example.org'], webhook: 'https://h.example.org/x', keep: 24, baseline: '2025-01-01/2025-12-31', enabled: false,
    });
    expect(buildReport({ ...d, webhook: '', baselineFrom: '', baselineTo: '' }, 'hpo').body).toMatchObject({ webhook: null, baseline: null });
    const bad = buildReport({ ...d, id: 'Board Pack', name: ' ', formats: [], email: 'Ops <ops@example.org>', webhook: 'ftp://x',
                              keep: '101', baselineTo: '2025-10-27' }, 'hpo');
    expect(bad.body).toBeUndefined();
    expect(Object.keys(bad.errors).sort()).toEqual(['baseline', 'email', 'formats', 'id', 'keep', 'name', 'webhook']);
    expect(bad.errors.baseline).toMatch(/at least 300 days/);
    // the server's rule: last day >= first + 300
    expect(buildReport({ ...d, baselineTo: '2025-10-28' }, 'hpo').errors).toEqual({});
    expect(buildReport({ ...d, baselineTo: '' }, 'hpo').errors.baseline).toMatch(/both/);
    expect(buildReport({ ...d, keep: '2.5' }, 'hpo').errors.keep).toMatch(/whole number/);
    expect(buildReport({ ...d, email: Array.from({ length: 21 }, (_, i) => `u${i}@example.org`).join('\n') }, 'hpo').errors.email).toMatch(/At most 20/);
    expect(slugOf('Énergie — Head Office, weekly!')).toBe('energie-head-office-weekly');
    expect(draftOf(DAILY)).toMatchObject({ email: '', webhook: '', keep: '12', baselineFrom: '', enabled: false });
  });

  it('says sizes, periods in the building zone, and the field a refusal names', () => {
    expect([850, 12_650, 2_500_000].map(sizeWords)).toEqual(['850 bytes', '12.4 KB', '2.4 MB']);
    expect(periodWords(FILES[2] as ReportFile, 'America/New_York')).toBe('2026-10-26 to 2026-11-01');
    expect(periodWords({ from: '2026-11-22T05:00:00.000Z', to: '2026-11-23T05:00:00.000Z' }, 'America/New_York')).toBe('2026-11-22');
    expect(periodWords(FILES[2] as ReportFile, 'UTC')).toBe('2026-10-26 to 2026-11-02'); // the zone matters
    expect(fieldOf(new ApiError(400, 'invalid', 'email[2]: an e-mail address'))).toBe('email');
    expect(fieldOf(new ApiError(400, 'invalid', 'x', [{ field: 'id', message: 'the report\'s id must be the id in the path' }]))).toBe('id');
    expect(fieldOf(new ApiError(400, 'invalid', 'that period has not ended yet'))).toBeUndefined();
  });
});

describe('ReportsPage', () => {
  it('shows each definition in words with its files, periods in the building zone', async () => {
    const h = await show(['viewer']);
    await within(card('hpo-weekly')).findByTestId('file-41');
    // the list takes ?building only (the server refuses limit and cursor)
    expect([...(sent(h, 'GET')[0]?.query.entries() ?? [])]).toEqual([['building', 'hpo']]);
    expect(sent(h, 'GET', '/api/v1/reports/hpo-weekly/files')).toHaveLength(1);
    expect(screen.getAllByRole('heading', { level: 3 }).map((x) => x.textContent)).toEqual(['Daily check', 'Weekly energy']);

    const w = card('hpo-weekly');
    expect(w).toHaveTextContent(/Weekly: Monday to Sunday, made after 06:00 the next Monday \(building time\)/);
    expect(w).toHaveTextContent(/Excel \(XLSX\), CSV/);
    expect(w).toHaveTextContent(/fm@example\.org, cfo@example\.org/);
    expect(w).toHaveTextContent(/https:\/\/hooks\.example\.org\/reports \(signed with its secret\)/);
    expect(w).toHaveTextContent(/the newest 8 periods/);
    expect(w).toHaveTextContent(/Savings baseline2025-01-01 to 2025-12-31/);
    expect(w).toHaveTextContent(/On: made and sent after each period/);
    const d = card('hpo-daily');
    expect(d).toHaveTextContent(/Daily: each day/);
    expect(d).toHaveTextContent(/E-mailed tonobody/);
    expect(d).toHaveTextContent(/Webhooknone/);
    expect(d).toHaveTextContent(/the newest 12 periods/);
    expect(d).toHaveTextContent(/Off: not made on schedule/);
    expect(await within(d).findByText(/No file yet/)).toBeInTheDocument();

    const t = within(w).getByRole('table', { name: /Kept files of Weekly energy/ });
    expect(within(t).getAllByRole('columnheader').map((c) => c.textContent)).toEqual(['Period', 'Format', 'Size', 'Made', 'Download']);
    expect(screen.getByTestId('file-41')).toHaveTextContent(/2026-11-16 to 2026-11-22.*Excel \(XLSX\).*12\.4 KB.*Nov 23.*06:00:07.*EST/);
    expect(screen.getByTestId('file-42')).toHaveTextContent(/CSV.*850 bytes/);
    expect(screen.getByTestId('file-39')).toHaveTextContent(/2026-10-26 to 2026-11-01.*2\.4 MB/);
  });

  it.each([['viewer'], ['operator']])('gives a %s downloads but no control', async (role) => {
    const h = await show([role]);
    await screen.findByTestId('file-41');
    expect(screen.getAllByRole('button', { name: /^Download / })).toHaveLength(3);
    for (const name of [/New report/, /^Edit /, /^Run now/, /^Delete /]) expect(screen.queryByRole('button', { name })).toBeNull();
    expect(screen.queryByRole('form')).toBeNull();
    expect(h.calls.filter((c) => c.method !== 'GET' && c.path !== '/api/v1/auth/login')).toEqual([]);
  });

  it('says when a building has no report yet, and who can add one', async () => {
    await show(['viewer'], { reports: () => [] });
    expect(await screen.findByText('No report is scheduled for Harbor Point Office yet. Managers can schedule them.')).toBeInTheDocument();
  });

  it('downloads a kept file with the token in a header, under the server name', async () => {
    const h = await show(['viewer'], {
      extra: (c) => (c.path === '/api/v1/report-files/41'
        ? new Response(new Uint8Array([80, 75, 3, 4]), { status: 200, headers: {
          'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          'content-disposition': 'attachment; filename="hpo-weekly-2026-11-16.xlsx"' } })
        : c.path === '/api/v1/report-files/42' ? apiError(404, 'not_found', 'no such report file') : undefined),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Download hpo-weekly-2026-11-16.xlsx' }));
    await screen.findByText('Saved hpo-weekly-2026-11-16.xlsx.');
    const get = sent(h, 'GET', '/api/v1/report-files/41');
    expect(get).toHaveLength(1);
    expect(get[0]?.headers.authorization).toBe('Bearer access-1');
    expect([...(get[0]?.query.keys() ?? [])]).toEqual([]); // never the token in the URL
    expect(clicked).toEqual(['hpo-weekly-2026-11-16.xlsx']);

    await user.click(screen.getByRole('button', { name: 'Download hpo-weekly-2026-11-16.csv' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('hpo-weekly-2026-11-16.csv was not downloaded: Not found, or not in the buildings you may see.');
    expect(clicked).toHaveLength(1);
  });

  it('creates a report with the exact body, then shows the webhook secret once with how to verify', async () => {
    let stored: Report[] = [DAILY];
    const h = await show(['manager'], {
      reports: () => stored,
      extra: (c) => {
        if (c.path !== LIST || c.method !== 'POST') return undefined;
        const r: SavedReport = { ...(c.body as Report), has_secret: true, webhook_secret: SECRET };
        stored = [...stored, { ...(c.body as Report), has_secret: true }];
        return json(201, r);
      },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New report' }));
    const f = form('New report');
    expect(screen.getByRole('heading', { name: 'New report' })).toHaveFocus();
    await user.type(within(f).getByLabelText('Name'), 'Monthly board pack');
    expect(within(f).getByLabelText('Id')).toHaveValue('monthly-board-pack');
    await user.click(within(f).getByRole('radio', { name: /^Monthly/ }));
    await user.click(within(f).getByRole('checkbox', { name: 'Excel (XLSX)' }));
    await user.click(within(f).getByRole('checkbox', { name: 'CSV' }));
    await user.click(within(f).getByRole('checkbox', { name: 'JSON' }));
    fireEvent.change(within(f).getByLabelText('E-mail to (optional)'), { target: { value: 'fm@example.org\ncfo@example.org\n' } });
    await user.type(within(f).getByLabelText('Webhook URL (optional)'), 'https://hooks.example.org/board');
    await user.clear(within(f).getByLabelText('Periods kept for download'));
    await user.type(within(f).getByLabelText('Periods kept for download'), '24');
    fireEvent.change(within(f).getByLabelText('First day'), { target: { value: '2025-01-01' } });
    fireEvent.change(within(f).getByLabelText('Last day'), { target: { value: '2025-12-31' } });
    await user.click(within(f).getByRole('button', { name: 'Create report' }));

    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(sent(h, 'POST')[0]?.body).toEqual({
      id: 'monthly-board-pack', building: 'hpo', name: 'Monthly board pack', frequency: 'monthly', formats: ['csv', 'json'],
      email: ['fm@example.org', 'cfo@example.org'], webhook: 'https://hooks.example.org/board', keep: 24,
      baseline: '2025-01-01/2025-12-31', enabled: true,
    });
    const box = await screen.findByTestId('report-webhook-secret');
    expect(box).toHaveTextContent(SECRET);
    expect(screen.getByRole('heading', { name: 'Webhook secret' })).toHaveFocus();
    expect(screen.getByText(/will not be shown again/)).toBeInTheDocument();
    expect(screen.getByText(/X-Sbems-Signature: sha256=<hex HMAC-SHA256\(secret, X-Sbems-Timestamp \+ "\." \+ body\)>/)).toBeInTheDocument();
    expect(screen.getByRole('region', { name: /Python 3 example/ }).querySelector('pre'))
      .toHaveTextContent(/hmac\.compare_digest\("sha256=" \+ mac, headers\["X-Sbems-Signature"\]\)/);
    await user.click(screen.getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe(SECRET);
    // the new card is listed without the secret; the form is closed
    expect(card('monthly-board-pack')).toHaveTextContent(/Monthly: each calendar month.*CSV, JSON.*signed with its secret.*the newest 24 periods/);
    expect(screen.getByText('Created the report “Monthly board pack”.')).toBeInTheDocument();
    expect(screen.queryByRole('form')).toBeNull();
    expect(document.body.innerHTML.split(SECRET)).toHaveLength(2);

    await user.click(screen.getByRole('button', { name: 'Done, hide the secret' }));
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(screen.getByRole('heading', { name: 'Report definitions' })).toHaveFocus();
  });

  it('edits with PUT of the whole definition, id from the path, no secret fields', async () => {
    const h = await show(['manager'], {
      extra: (c) => (c.method === 'PUT' && c.path === '/api/v1/reports/hpo-weekly'
        ? json(200, { ...(c.body as Report), has_secret: true }) : undefined),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit Weekly energy' }));
    const f = form('Edit “Weekly energy”');
    expect(within(f).getByLabelText('Name')).toHaveValue('Weekly energy');
    expect(within(f).queryByLabelText('Id')).toBeNull(); // the id is the key: shown, not editable
    expect(within(f).getByRole('radio', { name: /^Weekly/ })).toBeChecked();
    expect(within(f).getByRole('checkbox', { name: 'JSON' })).not.toBeChecked();
    expect(within(f).getByLabelText('E-mail to (optional)')).toHaveValue('fm@example.org\ncfo@example.org');
    expect(within(f).getByLabelText('Last day')).toHaveValue('2025-12-31');
    expect(within(f).getByText(/The same URL keeps its secret/)).toBeInTheDocument();
    await user.clear(within(f).getByLabelText('Periods kept for download'));
    await user.type(within(f).getByLabelText('Periods kept for download'), '10');
    await user.click(within(f).getByRole('checkbox', { name: /^On: make and send/ }));
    await user.click(within(f).getByRole('button', { name: 'Save changes' }));

    await waitFor(() => expect(sent(h, 'PUT', '/api/v1/reports/hpo-weekly')).toHaveLength(1));
    expect(sent(h, 'PUT', '/api/v1/reports/hpo-weekly')[0]?.body).toEqual({
      id: 'hpo-weekly', building: 'hpo', name: 'Weekly energy', frequency: 'weekly', formats: ['xlsx', 'csv'],
      email: ['fm@example.org', 'cfo@example.org'], webhook: 'https://hooks.example.org/reports', keep: 10,
      baseline: '2025-01-01/2025-12-31', enabled: false,
    });
    expect(await screen.findByText('Saved the report “Weekly energy”.')).toBeInTheDocument();
    expect(screen.queryByTestId('report-webhook-secret')).toBeNull(); // same URL: same key, nothing to show
    expect(card('hpo-weekly')).toHaveTextContent(/the newest 10 periods.*Off: not made on schedule/);
  });

  it('shows the new secret once when an edit gives the webhook a new URL', async () => {
    const h = await show(['manager'], {
      extra: (c) => (c.method === 'PUT' ? json(200, { ...(c.body as Report), has_secret: true, webhook_secret: SECRET }) : undefined),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit Weekly energy' }));
    const url = within(form(/^Edit/)).getByLabelText('Webhook URL (optional)');
    await user.clear(url);
    await user.type(url, 'https://new.example.org/in');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByTestId('report-webhook-secret')).toHaveTextContent(SECRET);
    expect(sent(h, 'PUT', '/api/v1/reports/hpo-weekly')[0]?.body).toMatchObject({ webhook: 'https://new.example.org/in' });
    expect(screen.getByText(/sent to https:\/\/new\.example\.org\/in/)).toBeInTheDocument();
  });

  it('checks the form before sending, and shows a 400 as the server words it, a 409 on the id', async () => {
    let answer: Response = apiError(400, 'invalid', 'keep: 1..100 periods kept for download');
    const h = await show(['admin'], { extra: (c) => (c.path === LIST && c.method === 'POST' ? answer : undefined) });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New report' }));
    const f = form('New report');
    await user.type(within(f).getByLabelText('Name'), 'Weekly energy');
    fireEvent.change(within(f).getByLabelText('E-mail to (optional)'), { target: { value: 'fm@example.org, not an address' } });
    fireEvent.change(within(f).getByLabelText('First day'), { target: { value: '2025-06-01' } });
    await user.click(within(f).getByRole('button', { name: 'Create report' }));
    expect(within(f).getByText(/^not: not a plain address/)).toBeInTheDocument();
    expect(within(f).getByText(/Give both days/)).toBeInTheDocument();
    expect(within(f).getByLabelText('E-mail to (optional)')).toHaveAttribute('aria-invalid', 'true');
    expect(sent(h, 'POST')).toHaveLength(0);

    fireEvent.change(within(f).getByLabelText('E-mail to (optional)'), { target: { value: '' } });
    fireEvent.change(within(f).getByLabelText('First day'), { target: { value: '' } });
    await user.click(within(f).getByRole('button', { name: 'Create report' }));
    expect(await within(f).findByText('keep: 1..100 periods kept for download')).toBeInTheDocument();
    expect(within(f).getByLabelText('Periods kept for download')).toHaveAttribute('aria-invalid', 'true');
    expect(within(f).getByRole('alert')).toHaveTextContent('sbems refused a value: see the field marked.');

    answer = apiError(409, 'conflict', 'a report with that id exists');
    await user.click(within(f).getByRole('button', { name: 'Create report' }));
    expect(await within(f).findByText(/A report with this id already exists.*a report with that id exists/)).toBeInTheDocument();
    expect(within(f).getByLabelText('Id')).toHaveAttribute('aria-invalid', 'true');
    expect(within(f).queryByText('keep: 1..100 periods kept for download')).toBeNull();

    answer = apiError(400, 'invalid', 'unknown building (or not in your scope)', [{ field: 'building', message: 'unknown building (or not in your scope)' }]);
    await user.click(within(f).getByRole('button', { name: 'Create report' }));
    expect(await within(f).findByRole('alert')).toHaveTextContent(/sbems refused these values:.*building: unknown building/);
    expect(sent(h, 'POST')).toHaveLength(3);
    expect(screen.queryByTestId('report-weekly-energy')).toBeNull();
  });

  it('runs a report now after a confirmation naming who gets it, pending, then the files in words', async () => {
    let release: (r: Response) => void = () => undefined;
    const h = await show(['manager'], {
      extra: (c) => {
        if (c.path !== '/api/v1/reports/hpo-weekly/run') return undefined;
        if ((c.body as { day?: string }).day) return apiError(400, 'invalid', 'that period has not ended yet');
        return new Promise<Response>((res) => { release = res; });
      },
    });
    const user = userEvent.setup();
    await screen.findByTestId('file-41');
    const run = screen.getByRole('button', { name: 'Run now: Weekly energy' });
    await user.click(run);
    let dlg = screen.getByRole('dialog', { name: 'Run “Weekly energy” now?' });
    expect(dlg).toHaveTextContent(/sends it now to 2 e-mail addresses and the webhook \(fm@example\.org, cfo@example\.org\)/);
    expect(within(dlg).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dlg).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(sent(h, 'POST', '/api/v1/reports/hpo-weekly/run')).toHaveLength(0);

    await user.click(run);
    dlg = screen.getByRole('dialog');
    await user.click(within(dlg).getByRole('button', { name: 'Run and send' }));
    expect(await within(dlg).findByText(/Making the report…/)).toBeInTheDocument();
    expect(within(dlg).getByRole('button', { name: 'Run and send' })).toBeDisabled();
    expect(sent(h, 'POST', '/api/v1/reports/hpo-weekly/run')[0]?.body).toEqual({});
    release(json(201, { files: [
      { id: 43, name: 'hpo-weekly-2026-11-23.xlsx', format: 'xlsx', bytes: 12_650, created: '2026-11-30T16:00:00.000Z' },
      { id: 44, name: 'hpo-weekly-2026-11-23.csv', format: 'csv', bytes: 850, created: '2026-11-30T16:00:00.000Z' },
    ] }));
    expect(await screen.findByText('Made 2 files: hpo-weekly-2026-11-23.xlsx (12.4 KB), hpo-weekly-2026-11-23.csv (850 bytes). Handed to delivery: 2 e-mail addresses and the webhook.')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).toBeNull();
    await waitFor(() => expect(sent(h, 'GET', '/api/v1/reports/hpo-weekly/files')).toHaveLength(2)); // the new files are fetched

    await user.click(run);
    dlg = screen.getByRole('dialog');
    fireEvent.change(within(dlg).getByLabelText('Period holding this day (optional)'), { target: { value: '2026-11-30' } });
    await user.click(within(dlg).getByRole('button', { name: 'Run and send' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Not run: that period has not ended yet.');
    expect(sent(h, 'POST', '/api/v1/reports/hpo-weekly/run')[1]?.body).toEqual({ day: '2026-11-30' });
  });

  it('deletes a report after a confirmation', async () => {
    const h = await show(['manager'], {
      extra: (c) => (c.method === 'DELETE' && c.path === '/api/v1/reports/hpo-daily' ? empty(204) : undefined),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Delete Daily check' }));
    const dlg = screen.getByRole('dialog', { name: 'Delete “Daily check”?' });
    expect(dlg).toHaveTextContent(/stops making and sending this report.*cannot be undone/);
    await user.click(within(dlg).getByRole('button', { name: 'Delete report' }));
    await waitFor(() => expect(sent(h, 'DELETE', '/api/v1/reports/hpo-daily')).toHaveLength(1));
    expect(await screen.findByText('Deleted the report “Daily check”.')).toBeInTheDocument();
    expect(screen.queryByTestId('report-hpo-daily')).toBeNull();
    expect(card('hpo-weekly')).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Report definitions' })).toHaveFocus();
  });
});
