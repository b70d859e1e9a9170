import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { UNIT_KEY } from '../lib/prefs';
import { apiError, json, tokens } from '../test/fetchMock';
import type { Call } from '../test/fetchMock';
import { makeHarness, renderWith } from '../test/render';
import { SetpointControl } from './SetpointControl';

const POINT = { slug: 'vav-1-01.htg-sp', name: 'Heating setpoint', unit: '°C', min: 15, max: 28 };
const TZ = 'America/New_York';

async function setup(answer: (c: Call) => Response | Promise<Response>, unit: 'C' | 'F' = 'C') {
  localStorage.setItem(UNIT_KEY, unit);
  const h = makeHarness((c) => (c.path === '/api/v1/auth/login' ? json(200, tokens()) : answer(c)));
  await h.client.login('vic', 'pw');
  renderWith(h, <SetpointControl point={POINT} tz={TZ} />);
  return { h, writes: () => h.calls.filter((c) => c.path.endsWith('/write')) };
}

async function enter(value: string, duration?: string) {
  const user = userEvent.setup();
  await user.click(screen.getByRole('button', { name: /change heating setpoint/i }));
  const input = screen.getByLabelText(/new value/i);
  await user.clear(input);
  await user.type(input, value);
  if (duration) await user.selectOptions(screen.getByLabelText(/override duration/i), duration);
  await user.click(screen.getByRole('button', { name: /review command/i }));
  return user;
}

describe('SetpointControl', () => {
  it('asks for confirmation, shows the pending command, then the confirmed result', async () => {
    let answer: (r: Response) => void = () => undefined;
    const { writes } = await setup(() => new Promise<Response>((res) => { answer = res; }), 'F');
    const user = await enter('72', '1 hour');

    const dialog = screen.getByRole('dialog', { name: /send this command/i });
    expect(dialog).toHaveTextContent('Set Heating setpoint to 72.0 °F (22.22 °C at the device), for 1 hour, then sbems releases it.');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus(); // the safe choice first
    expect(writes()).toHaveLength(0); // nothing sent before confirming

    await user.click(within(dialog).getByRole('button', { name: 'Send command' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(/Command pending/);
    expect(screen.getByRole('status')).toHaveTextContent('72.0 °F');
    expect(writes()).toHaveLength(1);
    expect(writes()[0]?.body).toEqual({ value: 22.22, duration_s: 3600 });

    await act(async () => answer(json(200, { point: POINT.slug, point_id: 56, result: 'ok', value: 22.22, readback: 22.22, by: 'vic', priority: 8, expires: '2026-11-27T21:00:00Z' })));
    const status = await screen.findByText(/Confirmed: the device reads back/);
    expect(status).toHaveTextContent('Confirmed: the device reads back 72.0 °F.');
    // the release time in the building zone: 21:00Z is 4:00 PM EST
    expect(screen.getByText(/sbems releases it at/)).toHaveTextContent(/04:00:00\s?PM EST/);
  });

  it('reports a written command the device does not hold, with who holds it (202)', async () => {
    await setup(() => json(202, { point: POINT.slug, point_id: 56, result: 'not_confirmed', value: 22, readback: 20, holder: 'priority 5', by: 'vic' }));
    const user = await enter('22');
    await user.click(screen.getByRole('button', { name: 'Send command' }));
    expect(await screen.findByText(/not confirmed: the device holds something else/i)).toBeInTheDocument();
    expect(screen.getByText(/Held by: priority 5; it reads 20.0 °C/)).toBeInTheDocument();
  });

  it('shows a refusal by the device (409) with its reason', async () => {
    await setup(() => apiError(409, 'rejected', 'write-access-denied', [{ field: 'value', message: 'rejected' }]));
    const user = await enter('22');
    await user.click(screen.getByRole('button', { name: 'Send command' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Refused.');
    expect(alert).toHaveTextContent('The device refused the command (write-access-denied).');
  });

  it('shows a device that did not answer (504)', async () => {
    await setup(() => apiError(504, 'device_error', 'the device did not answer'));
    const user = await enter('22');
    await user.click(screen.getByRole('button', { name: 'Send command' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('No answer from the device.');
  });

  it('sends nothing when the dialog is cancelled or dismissed with Escape', async () => {
    const { writes } = await setup(() => json(200, {}));
    const user = await enter('22');
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByLabelText(/new value/i)).toHaveValue('22'); // back to the form, value kept
    await user.click(screen.getByRole('button', { name: /review command/i }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(writes()).toHaveLength(0);
  });

  it('refuses a value outside the point range, in the user units', async () => {
    const { writes } = await setup(() => json(200, {}), 'F');
    await enter('90'); // 32.2 °C > 28
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    const input = screen.getByLabelText(/new value/i);
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Allowed: 59.0 to 82.4 °F.')).toBeInTheDocument();
    expect(writes()).toHaveLength(0);
  });

  it('releases the command with value null after confirmation', async () => {
    const { writes } = await setup(() => json(200, { point: POINT.slug, point_id: 56, result: 'ok', value: 0, readback: 21, by: 'vic' }));
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Release' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Release' }));
    await waitFor(() => expect(writes()).toHaveLength(1));
    expect(writes()[0]?.body).toEqual({ value: null });
    expect(await screen.findByText('Released.')).toBeInTheDocument();
  });
});
