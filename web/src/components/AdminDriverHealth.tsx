/**
 * Device health from GET /api/v1/drivers: every device the drivers talk
 * to, worst first, its state in words, counters and last error; points a
 * driver refused.  Refreshed every 15 s while the tab is visible (the
 * server keeps these counters in memory: the call is cheap, but it counts
 * against the per-user rate limit like any other).
 */
import { useEffect } from 'react';
import { OFFLINE_STATES, getDrivers, sortDevices } from '../api/admin';
import type { DeviceState, DriverDevice, DriverHealth } from '../api/admin';
import { useClient } from '../auth/AuthContext';
import { useAsync } from '../lib/useAsync';
import { LocalTime, formatFull } from './AdminTime';
import { Badge, ErrorBox, Loading, ScrollRegion } from './ui';
import type { Tone } from './ui';

export const STATE_WORDS: Record<DeviceState, { text: string; tone: Tone; hint: string }> = {
  down: { text: 'Down', tone: 'bad', hint: 'the device or its connection reports it is down' },
  open: { text: 'Paused after failures', tone: 'bad', hint: 'circuit breaker open: sbems leaves it alone for a while after repeated failures' },
  failing: { text: 'Failing', tone: 'bad', hint: 'its last requests failed' },
  stopped: { text: 'Driver stopped', tone: 'warn', hint: 'the driver serving it is not running' },
  probing: { text: 'Retrying', tone: 'warn', hint: 'circuit breaker half open: one trial request' },
  waiting: { text: 'Waiting for first reading', tone: 'neutral', hint: 'no good reading yet since start' },
  ok: { text: 'OK', tone: 'good', hint: 'reading normally' },
};

function stateOf(s: string) {
  return STATE_WORDS[s as DeviceState] ?? { text: s, tone: 'neutral' as Tone, hint: '' };
}

function DeviceRow({ d, tz }: { d: DriverDevice; tz: string }) {
  const st = stateOf(d.state);
  const fails = d.consecutive_failures ?? 0;
  return (
    <tr className="border-t border-slate-200 align-top dark:border-slate-700">
      <th scope="row" className="min-w-[10rem] py-2 pl-3 pr-3 text-left font-medium sm:pl-0">
        <span className="break-all">{d.device}</span>
        <span className="muted block text-xs font-normal">{d.driver}</span>
      </th>
      <td className="min-w-[8rem] py-2 pr-3">
        <Badge tone={st.tone} title={st.hint}>{st.text}</Badge>
        {fails > 0 && <span className="muted block text-xs">{fails} failed in a row</span>}
      </td>
      <td className="min-w-[8rem] py-2 pr-3"><LocalTime iso={d.last_ok} tz={tz} /></td>
      <td className="py-2 pr-3 tabular-nums">
        {d.points}
        {(d.stale_points ?? 0) > 0 && <span className="block text-xs font-semibold">{d.stale_points} stale</span>}
      </td>
      <td className="py-2 pr-3 tabular-nums">
        {d.errors ?? 0}
        {(d.bad_inputs ?? 0) > 0 && <span className="muted block text-xs">{d.bad_inputs} bad inputs</span>}
      </td>
      <td className="py-2 pr-3 tabular-nums">{d.reads && d.latency_ms !== undefined ? `${Math.round(d.latency_ms)} ms` : '—'}</td>
      <td className="min-w-[10rem] py-2 pr-3">
        {d.last_error ? (
          <>
            <span className="break-words">{d.last_error}</span>
            {d.last_error_at && <span className="muted block text-xs"><LocalTime iso={d.last_error_at} tz={tz} /></span>}
          </>
        ) : '—'}
      </td>
    </tr>
  );
}

export function summarize(h: DriverHealth): string {
  const n = h.devices.length;
  const off = h.devices.filter((d) => OFFLINE_STATES.has(d.state)).length;
  const stale = h.devices.reduce((s, d) => s + (d.stale_points ?? 0), 0);
  const parts = [`${n} ${n === 1 ? 'device' : 'devices'}`, `${off} offline`];
  if (stale) parts.push(`${stale} stale ${stale === 1 ? 'point' : 'points'}`);
  if (h.misconfigured.length) parts.push(`${h.misconfigured.length} misconfigured ${h.misconfigured.length === 1 ? 'point' : 'points'}`);
  return parts.join(', ');
}

function Misconfigured({ h }: { h: DriverHealth }) {
  if (h.misconfigured.length === 0) return null;
  return (
    <ScrollRegion label="Points a driver refused" className="card mt-4 p-0 sm:p-4 overflow-x-auto">
      <table className="min-w-full text-left text-sm">
        <caption className="px-4 pt-3 text-left font-semibold sm:px-0 sm:pt-0">Points a driver refused</caption>
        <thead className="muted text-xs uppercase">
          <tr>
            <th scope="col" className="py-2 pl-3 pr-3 sm:pl-0">Point</th>
            <th scope="col" className="py-2 pr-3">Driver</th>
            <th scope="col" className="py-2 pr-3">Why</th>
          </tr>
        </thead>
        <tbody>
          {h.misconfigured.map((m) => (
            <tr key={`${m.driver}/${m.point}`} className="border-t border-slate-200 dark:border-slate-700">
              <th scope="row" className="min-w-[8rem] py-2 pl-3 pr-3 text-left font-medium break-all sm:pl-0">{m.point}</th>
              <td className="py-2 pr-3">{m.driver}</td>
              <td className="min-w-[12rem] py-2 pr-3">{m.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export function AdminDriverHealth({ tz, refreshMs = 15_000 }: { tz: string; refreshMs?: number }) {
  const client = useClient();
  const h = useAsync(async (signal) => ({ health: await getDrivers(client, signal), at: Date.now() }), [client]);
  const { reload } = h;

  useEffect(() => {
    const t = setInterval(() => {
      if (typeof document === 'undefined' || !document.hidden) reload();
    }, refreshMs);
    return () => clearInterval(t);
  }, [reload, refreshMs]);

  if (!h.data) return h.error ? <ErrorBox error={h.error} onRetry={reload} /> : <Loading label="Loading device health…" />;
  const { health, at } = h.data;
  const devs = sortDevices(health.devices);
  return (
    <section aria-labelledby="health-h">
      <div className="mb-2 flex flex-wrap items-baseline gap-x-4 gap-y-1">
        <h2 id="health-h" className="text-lg font-semibold">Device health</h2>
        <p className="text-sm font-medium" data-testid="health-summary">{summarize(health)}</p>
        <p className="muted text-xs">
          Updated {formatFull(at, tz)}; refreshes every {Math.round(refreshMs / 1000)} s.{' '}
          <button type="button" className="link min-h-[36px]" onClick={reload} disabled={h.loading}>
            {h.loading ? 'Refreshing…' : 'Refresh now'}
          </button>
        </p>
      </div>
      {h.error !== undefined && <ErrorBox error={h.error} />}
      {health.dry_run && (
        <p className="mb-2 text-sm"><Badge tone="warn">Dry run</Badge> Commands are not sent to devices (drivers.dry_run).</p>
      )}
      {devs.length === 0 ? (
        <p className="card text-sm">No devices: no driver is configured or enabled (drivers.json, drivers.enabled).</p>
      ) : (
        <ScrollRegion label="Device health table" className="card p-0 sm:p-4 overflow-x-auto">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">Devices and their health, worst first</caption>
            <thead className="muted text-xs uppercase">
              <tr>
                <th scope="col" className="py-2 pl-3 pr-3 sm:pl-0">Device</th>
                <th scope="col" className="py-2 pr-3">State</th>
                <th scope="col" className="py-2 pr-3">Last good read</th>
                <th scope="col" className="py-2 pr-3">Points</th>
                <th scope="col" className="py-2 pr-3">Errors</th>
                <th scope="col" className="py-2 pr-3">Latency</th>
                <th scope="col" className="py-2 pr-3">Last error</th>
              </tr>
            </thead>
            <tbody>
              {devs.map((d) => <DeviceRow key={`${d.driver}/${d.device}`} d={d} tz={tz} />)}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <Misconfigured h={health} />
    </section>
  );
}
