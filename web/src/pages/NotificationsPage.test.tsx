import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { CreatedSubscription, Subscription } from '../api/notify';
import { buildSubscription, emailError, emptyDraft, levelWords, quietError, severityWords, webhookError } from '../api/notify';
import { apiError, empty, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { page } from '../test/fixtures';
import { BUILDINGS } from '../test/fixtures-alerts';
import { makeHarness, renderWith } from '../test/render';
import NotificationsPage from './NotificationsPage';

// Shapes as sbems answers them (checked against a running sbems: h_alerts.c sub_json).
const HOOK: Subscription = {
  id: 1, user: 'vic', channel: 'webhook', target: 'https://hooks.example.org/sbems', building: 'hpo', min_severity: 'major',
  quiet_start: '22:00', quiet_end: '06:00', has_secret: true, enabled: true, level: 0,
};
const MAIL: Subscription = {
  id: 2, user: 'vic', channel: 'email', target: 'ops@example.org', building: null, min_severity: null,
  quiet_start: null, quiet_end: null, has_secret: false, enabled: true, level: 2,
};
const MQTT: Subscription = {
  id: 3, user: 'vic', channel: 'mqtt', target: '', building: 'lab', min_severity: 'critical',
  quiet_start: null, quiet_end: null, has_secret: false, enabled: true, level: 0,
};
const SECRET = '0519844541c0ee22a6b613645d63da752ad7f3d5ea81eb2c634a4d8189a72a05';
const SUBS_PATH = '/api/v1/alert-subscriptions';

type Extra = (c: Call) => Response | undefined;

// alerts.escalate_after as the list gives it: 30 min unless a test says otherwise
function sbems(roles: string[], subs: () => Subscription[], extra: Extra, escalateAfterS: number) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    if (c.path === '/api/v1/buildings') return json(200, page(BUILDINGS));
    if (c.path === SUBS_PATH && c.method === 'GET') {
      return json(200, { items: subs(), next_cursor: null, escalate_after_s: escalateAfterS });
    }
    return apiError(404, 'not_found');
  };
}

async function show(roles: string[], opts: { subs?: () => Subscription[]; extra?: Extra; escalateAfterS?: number } = {}) {
  const h = makeHarness(sbems(roles, opts.subs ?? (() => [HOOK, MAIL, MQTT]), opts.extra ?? (() => undefined),
                              opts.escalateAfterS ?? 1800));
  await h.client.login('vic', 'pw');
  renderWith(h, <NotificationsPage />, { path: '/alerts/notifications/' });
  await screen.findByRole('heading', { level: 1, name: 'Alert notifications' });
  return h;
}

const sent = (h: { calls: Call[] }, method: string, path = SUBS_PATH) => h.calls.filter((c) => c.method === method && c.path === path);
const form = () => screen.getByRole('form', { name: 'Add a notification' });
const row = (id: number) => screen.getByTestId(`sub-${id}`);

function created(body: Partial<CreatedSubscription>): CreatedSubscription {
  return { id: 7, user: 'vic', channel: 'webhook', target: '', building: null, min_severity: null, quiet_start: null,
           quiet_end: null, has_secret: false, enabled: true, ...body, level: body.level ?? 0 };
}

describe('notification rules', () => {
  it('checks targets as the server and the notifier take them', () => {
    expect(webhookError('https://hooks.example.org/x?token=a%20b')).toBeNull();
    expect(webhookError('ftp://example.org')).toMatch(/https:\/\//);
    expect(webhookError('HTTPS://example.org')).toMatch(/https:\/\//); // the API compares the scheme as typed
    expect(webhookError('https:///path')).toMatch(/host/);
    expect(webhookError('https://exa mple.org')).toMatch(/spaces/);
    expect(emailError('ops.team+alerts@mail.example.org')).toBeNull();
    for (const bad of ['ops', 'ops@', '@example.org', 'a b@example.org', 'Ops <ops@example.org>', 'a@example.org,b@example.org',
                       'a..b@example.org', 'a@-example.org', 'a@b@example.org', '"q"@example.org']) {
      expect(emailError(bad), bad).not.toBeNull();
    }
  });

  it('wants both quiet times or none, different, on a 24-hour clock', () => {
    expect(quietError('', '')).toBeNull();
    expect(quietError('22:00', '06:00')).toBeNull();
    expect(quietError('22:00', '')).toMatch(/both/);
    expect(quietError('24:00', '06:00')).toMatch(/HH:MM/);
    expect(quietError('22:00', '22:00')).toMatch(/never be quiet/);
    expect(buildSubscription({ ...emptyDraft(), channel: 'mqtt', quiet_start: '7:30', quiet_end: '9:05' }).body)
      .toEqual({ channel: 'mqtt', min_severity: 'major', quiet_start: '07:30', quiet_end: '09:05' });
    expect([null, 'info', 'minor', 'major', 'critical'].map((s) => severityWords(s as never)))
      .toEqual(['every severity', 'every severity (info and more severe)', 'minor and more severe', 'major and more severe', 'critical only']);
  });

  it('words escalation levels in time, and sends a level only when it is not 0', () => {
    expect(levelWords(0, 1800)).toBe('when raised');
    expect(levelWords(undefined, 1800)).toBe('when raised');
    expect(levelWords(1, 1800)).toBe('if not acknowledged after 1 × 30 min');
    expect(levelWords(3, 1800)).toBe('if not acknowledged after 3 × 30 min (90 min)');
    expect(levelWords(2, 3600)).toBe('if not acknowledged after 2 × 1 h (2 h)');
    expect(levelWords(2, null)).toBe('if not acknowledged after 2 × the escalation interval');
    expect(buildSubscription({ ...emptyDraft(), channel: 'mqtt', level: '0' }).body).toEqual({ channel: 'mqtt', min_severity: 'major' });
    expect(buildSubscription({ ...emptyDraft(), channel: 'mqtt', level: '3' }).body).toEqual({ channel: 'mqtt', min_severity: 'major', level: 3 });
    expect(buildSubscription({ ...emptyDraft(), channel: 'mqtt', level: '4' }).errors.level).toMatch(/when/);
  });
});

describe('NotificationsPage', () => {
  it('lists the user notifications in words', async () => {
    const h = await show(['operator']);
    await screen.findByTestId('sub-1');
    // the list takes no query at all (the server refuses limit and cursor)
    expect([...(sent(h, 'GET')[0]?.query.keys() ?? [])]).toEqual([]);
    expect(row(1)).toHaveTextContent(/Webhook.*signed.*https:\/\/hooks\.example\.org\/sbems.*Harbor Point Office.*major and more severe.*quiet 22:00–06:00, building time/);
    expect(row(2)).toHaveTextContent(/E-mail.*ops@example\.org.*all your buildings.*every severity.*Level 2: if not acknowledged after 2 × 30 min \(1 h\).*no quiet hours/);
    expect(row(1)).toHaveTextContent(/major and more severe.*when raised.*quiet 22:00/);
    expect(row(3)).toHaveTextContent(/MQTT.*MQTT alert topic.*Harbor Lab.*critical only/);
    expect(within(row(2)).getByRole('button', { name: 'Delete the e-mail notification to ops@example.org' })).toBeInTheDocument();
    const t = screen.getByRole('table', { name: 'Your alert notifications' });
    expect(within(t).getAllByRole('columnheader').map((c) => c.textContent)).toEqual(['Channel', 'Sends to', 'Building', 'Severity', 'When', 'Quiet hours', 'Actions']);
  });

  it('adds an escalation-level notification with the exact body', async () => {
    const h = await show(['operator'], {
      subs: () => [],
      extra: (c) => (c.path === SUBS_PATH && c.method === 'POST' ? json(201, created({ ...(c.body as object), id: 11 })) : undefined),
    });
    const user = userEvent.setup();
    await screen.findByText(/no alert notifications yet/);
    const f = form();
    const level = within(f).getByLabelText('Escalation level');
    expect(level).toHaveValue('0');
    expect(within(level).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'When raised (level 0)', 'Level 1: if not acknowledged after 1 × 30 min',
      'Level 2: if not acknowledged after 2 × 30 min (1 h)', 'Level 3: if not acknowledged after 3 × 30 min (90 min)',
    ]);
    expect(level).toHaveAccessibleDescription(/Levels 1 to 3 hear of an alert only while nobody has acknowledged it/);
    await user.click(within(f).getByRole('radio', { name: 'E-mail' }));
    await user.type(within(f).getByLabelText('E-mail address'), 'duty-manager@example.org');
    await user.selectOptions(within(f).getByLabelText('Least severity'), 'Critical only');
    await user.selectOptions(level, 'Level 2: if not acknowledged after 2 × 30 min (1 h)');
    await user.click(within(f).getByRole('button', { name: 'Add notification' }));
    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(sent(h, 'POST')[0]?.body).toEqual({ channel: 'email', target: 'duty-manager@example.org', min_severity: 'critical', level: 2 });
    expect(await screen.findByTestId('sub-11')).toHaveTextContent(/critical only.*Level 2: if not acknowledged after 2 × 30 min \(1 h\)/);
    expect(within(form()).getByLabelText('Escalation level')).toHaveValue('0');   // the form starts over
  });

  it('says when escalation is switched off on the server, and shows a refused level on its field', async () => {
    const h = await show(['operator'], {
      subs: () => [],
      escalateAfterS: 0,
      extra: (c) => (c.path === SUBS_PATH && c.method === 'POST'
        ? apiError(400, 'invalid', 'level is 0 or 1 to 3', [{ field: 'level', message: 'level is 0 (told when an alert is raised) or 1 to 3' }])
        : undefined),
    });
    const user = userEvent.setup();
    await screen.findByText(/no alert notifications yet/);
    const f = form();
    const level = within(f).getByLabelText('Escalation level');
    expect(level).toHaveAccessibleDescription(/Escalation is switched off on this sbems \(alerts\.escalate_after is 0\)/);
    expect(within(level).getByRole('option', { name: 'Level 1: if not acknowledged after 1 × the escalation interval' })).toBeInTheDocument();
    await user.click(within(f).getByRole('radio', { name: 'MQTT' }));
    await user.selectOptions(level, '1');
    await user.click(within(f).getByRole('button', { name: 'Add notification' }));
    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(sent(h, 'POST')[0]?.body).toEqual({ channel: 'mqtt', min_severity: 'major', level: 1 });
    expect(await within(f).findByText('level is 0 (told when an alert is raised) or 1 to 3')).toBeInTheDocument();
    expect(level).toHaveAttribute('aria-invalid', 'true');
  });

  it('adds a webhook with the exact body, then shows its secret once with how to verify', async () => {
    const h = await show(['operator'], {
      subs: () => [MAIL],
      extra: (c) => (c.path === SUBS_PATH && c.method === 'POST'
        ? json(201, created({ ...(c.body as object), id: 7, has_secret: true, secret: SECRET }))
        : undefined),
    });
    const user = userEvent.setup();
    await screen.findByTestId('sub-2');
    const f = form();
    expect(within(f).getByRole('radio', { name: 'Webhook' })).toBeChecked();
    await user.type(within(f).getByLabelText('Webhook URL'), 'https://hooks.example.org/sbems');
    await user.selectOptions(within(f).getByLabelText('Building'), 'Harbor Point Office');
    await user.selectOptions(within(f).getByLabelText('Least severity'), 'Major and more severe');
    await user.type(within(f).getByLabelText('From (HH:MM)'), '22:00');
    await user.type(within(f).getByLabelText('Until (HH:MM)'), '06:00');
    await user.click(within(f).getByRole('button', { name: 'Add notification' }));

    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(sent(h, 'POST')[0]?.body).toEqual({
      channel: 'webhook', target: 'https://hooks.example.org/sbems', building: 'hpo', min_severity: 'major',
      quiet_start: '22:00', quiet_end: '06:00',
    });
    const box = await screen.findByTestId('webhook-secret');
    expect(box).toHaveTextContent(SECRET);
    expect(screen.getByRole('heading', { name: 'Webhook secret' })).toHaveFocus();
    expect(screen.getByText(/will not be shown again/)).toBeInTheDocument();
    expect(screen.getByText(/X-Sbems-Signature: sha256=<hex HMAC-SHA256\(secret, X-Sbems-Timestamp \+ "\." \+ body\)>/)).toBeInTheDocument();
    const py = screen.getByRole('region', { name: /Python 3 example/ });
    expect(py.querySelector('pre')).toHaveTextContent(/hmac\.compare_digest\("sha256=" \+ mac, headers\["X-Sbems-Signature"\]\)/);
    await user.click(screen.getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe(SECRET);
    expect(screen.getByText('Copied.')).toBeInTheDocument();
    // the new row is in the list, without the secret; the form is empty again
    expect(row(7)).toHaveTextContent(/Webhook.*signed.*https:\/\/hooks\.example\.org\/sbems.*Harbor Point Office/);
    expect(document.body.innerHTML.split(SECRET)).toHaveLength(2);
    expect(within(f).getByLabelText('Webhook URL')).toHaveValue('');

    await user.click(screen.getByRole('button', { name: 'Done, hide the secret' }));
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(screen.getByRole('heading', { name: 'Your notifications' })).toHaveFocus();
  });

  it('drops the secret when the list is reloaded', async () => {
    let stored: Subscription[] = [];
    const h = await show(['manager'], {
      subs: () => stored,
      extra: (c) => {
        if (c.path !== SUBS_PATH || c.method !== 'POST') return undefined;
        const s = created({ ...(c.body as object), id: 8, has_secret: true });
        stored = [s];
        return json(201, { ...s, secret: SECRET });
      },
    });
    const user = userEvent.setup();
    await screen.findByText(/no alert notifications yet/);
    await user.type(within(form()).getByLabelText('Webhook URL'), 'http://10.0.0.5:8080/in');
    await user.click(within(form()).getByRole('button', { name: 'Add notification' }));
    await screen.findByTestId('webhook-secret');
    await user.click(screen.getByRole('button', { name: 'Reload the list' }));
    expect(screen.queryByTestId('webhook-secret')).not.toBeInTheDocument();
    await waitFor(() => expect(sent(h, 'GET')).toHaveLength(2));
    expect(await screen.findByTestId('sub-8')).toHaveTextContent('http://10.0.0.5:8080/in');
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it('checks an e-mail address and the quiet hours before sending', async () => {
    const h = await show(['operator'], {
      subs: () => [],
      extra: (c) => (c.path === SUBS_PATH && c.method === 'POST' ? json(201, created({ ...(c.body as object), id: 9 })) : undefined),
    });
    const user = userEvent.setup();
    await screen.findByText(/no alert notifications yet/);
    const f = form();
    await user.click(within(f).getByRole('radio', { name: 'E-mail' }));
    expect(within(f).queryByLabelText('Webhook URL')).not.toBeInTheDocument();
    const addr = within(f).getByLabelText('E-mail address');
    await user.type(addr, 'Ops Team <ops@example.org>');
    await user.type(within(f).getByLabelText('From (HH:MM)'), '22:00');
    await user.click(within(f).getByRole('button', { name: 'Add notification' }));
    expect(addr).toHaveAccessibleDescription(/one plain address, like name@example\.com/);
    expect(addr).toHaveAttribute('aria-invalid', 'true');
    expect(within(f).getByText('Give both times, or neither for no quiet hours.')).toBeInTheDocument();
    expect(sent(h, 'POST')).toHaveLength(0);

    await user.clear(addr);
    await user.type(addr, 'ops@example.org');
    await user.clear(within(f).getByLabelText('From (HH:MM)'));
    await user.selectOptions(within(f).getByLabelText('Least severity'), 'Every severity');
    await user.click(within(f).getByRole('button', { name: 'Add notification' }));
    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(sent(h, 'POST')[0]?.body).toEqual({ channel: 'email', target: 'ops@example.org' });
    expect(await screen.findByText('Added the e-mail notification to ops@example.org.')).toBeInTheDocument();
    expect(screen.queryByTestId('webhook-secret')).not.toBeInTheDocument();
    expect(row(9)).toHaveTextContent(/E-mail.*ops@example\.org.*all your buildings.*every severity/);
  });

  it('sends no target for MQTT (the server sets the topic)', async () => {
    const h = await show(['operator'], {
      subs: () => [],
      extra: (c) => (c.path === SUBS_PATH && c.method === 'POST' ? json(201, created({ ...(c.body as object), id: 10 })) : undefined),
    });
    const user = userEvent.setup();
    await screen.findByText(/no alert notifications yet/);
    await user.click(within(form()).getByRole('radio', { name: 'MQTT' }));
    expect(within(form()).queryByRole('textbox', { name: /URL|address|topic/i })).not.toBeInTheDocument();
    expect(form()).toHaveTextContent('<topic>/<building>/<severity>');
    await user.selectOptions(within(form()).getByLabelText('Building'), 'Harbor Lab');
    await user.selectOptions(within(form()).getByLabelText('Least severity'), 'Critical only');
    await user.click(within(form()).getByRole('button', { name: 'Add notification' }));
    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(sent(h, 'POST')[0]?.body).toEqual({ channel: 'mqtt', building: 'lab', min_severity: 'critical' });
    expect(await screen.findByText('Added the MQTT notification.')).toBeInTheDocument();
  });

  it('shows the server 400 details on their fields', async () => {
    const h = await show(['operator'], {
      subs: () => [],
      extra: (c) => (c.path === SUBS_PATH && c.method === 'POST'
        ? apiError(400, 'invalid', 'unknown building (or not in your scope)', [
          { field: 'building', message: 'unknown building (or not in your scope)' },
          { field: 'quiet_start', message: 'quiet hours are both quiet_start and quiet_end as HH:MM' },
        ])
        : undefined),
    });
    const user = userEvent.setup();
    await screen.findByText(/no alert notifications yet/);
    const f = form();
    await user.type(within(f).getByLabelText('Webhook URL'), 'https://hooks.example.org/sbems');
    await user.selectOptions(within(f).getByLabelText('Building'), 'Harbor Lab');
    await user.click(within(f).getByRole('button', { name: 'Add notification' }));
    await waitFor(() => expect(sent(h, 'POST')).toHaveLength(1));
    expect(await within(f).findByText('unknown building (or not in your scope)')).toBeInTheDocument();
    expect(within(f).getByLabelText('Building')).toHaveAccessibleDescription('unknown building (or not in your scope)');
    expect(within(f).getByRole('group', { name: 'Quiet hours (optional)' })).toHaveAccessibleDescription(/quiet hours are both quiet_start and quiet_end as HH:MM/);
    expect(within(f).getByRole('alert')).toHaveTextContent('sbems refused some values: see the fields marked.');
    // what was typed stays for correcting
    expect(within(f).getByLabelText('Webhook URL')).toHaveValue('https://hooks.example.org/sbems');
    expect(screen.queryByTestId('webhook-secret')).not.toBeInTheDocument();
  });

  it('deletes only after confirmation', async () => {
    const h = await show(['operator'], {
      extra: (c) => (c.method === 'DELETE' && c.path === `${SUBS_PATH}/2` ? empty(204) : undefined),
    });
    const user = userEvent.setup();
    await screen.findByTestId('sub-2');
    await user.click(within(row(2)).getByRole('button', { name: /^Delete/ }));
    let dialog = screen.getByRole('dialog', { name: 'Delete this notification?' });
    expect(dialog).toHaveTextContent('sbems stops sending alerts to ops@example.org.');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(sent(h, 'DELETE', `${SUBS_PATH}/2`)).toHaveLength(0);

    await user.click(within(row(2)).getByRole('button', { name: /^Delete/ }));
    dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Delete notification' }));
    await waitFor(() => expect(sent(h, 'DELETE', `${SUBS_PATH}/2`)).toHaveLength(1));
    expect(await screen.findByText('Deleted the e-mail notification to ops@example.org.')).toBeInTheDocument();
    expect(screen.queryByTestId('sub-2')).not.toBeInTheDocument();
    expect(row(1)).toBeInTheDocument();
  });

  it('keeps the row and says why when a delete fails', async () => {
    await show(['operator'], {
      extra: (c) => (c.method === 'DELETE' ? apiError(503, 'unavailable', 'deleting the subscription') : undefined),
    });
    const user = userEvent.setup();
    await screen.findByTestId('sub-1');
    await user.click(within(row(1)).getByRole('button', { name: /^Delete/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete notification' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The webhook notification to https://hooks.example.org/sbems was not deleted: sbems cannot do this right now (deleting the subscription).');
    expect(row(1)).toBeInTheDocument();
  });

  it('tells a viewer notifications are for operators and shows no form', async () => {
    const h = await show(['viewer']);
    expect(screen.getByText(/Alert notifications are for operators and above/)).toBeInTheDocument();
    expect(screen.queryByRole('form')).not.toBeInTheDocument();
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
    expect(h.calls.some((c) => c.path.startsWith(SUBS_PATH))).toBe(false);
  });
});
