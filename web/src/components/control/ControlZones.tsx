/**
 * Each zone's control state from the service's last evaluation: the
 * schedule's state now, the setpoints commanded and asked for, which source
 * won the arbitration and why, the mode in force, and a running override
 * (which operators can end here).
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { ControlSettings, ZoneState } from '../../api/control';
import { FLAG_TEXT, MODE_TEXT, SOURCE_TEXT, STATE_TEXT, activeOverride, refusal } from '../../api/control';
import { timeText } from '../../api/fdd';
import { usePrefs } from '../../lib/prefs';
import { formatMeasure } from '../../lib/units';
import type { Tone } from '../ui';
import { Badge, ScrollRegion } from '../ui';

const STATE_TONE: Record<string, Tone> = { occupied: 'good', standby: 'warn', unoccupied: 'neutral' };
const MODE_TONE: Record<string, Tone> = { auto: 'good', advisory: 'cold', off: 'neutral' };
const NATIVE_TONE: Record<string, Tone> = { in_sync: 'good', differs: 'warn', failed: 'bad', pending: 'neutral' };
const NATIVE_TEXT: Record<string, string> = {
  in_sync: 'the controller runs it', differs: 'differs', failed: 'failed', pending: 'not checked yet',
};

export interface ControlZonesProps {
  zones: readonly ZoneState[];
  settings: ControlSettings;
  names: Record<string, string>;
  tz: string;
  now: number;
  canOverride: boolean;
  onEnd: (zone: string) => Promise<void>;
}

function flagsText(flags: ZoneState['flags']): string {
  const all = [...new Set([...(flags?.[0] ?? []), ...(flags?.[1] ?? [])])];
  return all.map((f) => FLAG_TEXT[f] ?? f).join(', ');
}

function EndButton({ zone, name, onEnd }: { zone: string; name: string; onEnd: (zone: string) => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  return (
    <>
      <button type="button" className="btn-secondary mt-1 px-2 py-1 text-xs" disabled={busy}
              aria-label={`End override in ${name}`}
              onClick={() => {
                setBusy(true);
                setErr(null);
                onEnd(zone).catch((e: unknown) => setErr(`Not ended: ${refusal(e)}`)).finally(() => setBusy(false));
              }}>
        {busy ? 'Ending…' : 'End override'}
      </button>
      {err && <p role="alert" className="mt-1 text-xs text-red-800 dark:text-red-300">{err}</p>}
    </>
  );
}

export function ControlZones({ zones, settings, names, tz, now, canOverride, onEnd }: ControlZonesProps) {
  const { units } = usePrefs();
  const t = (v: number | null | undefined) => formatMeasure(v, '°C', units);
  return (
    <ScrollRegion label="Zones under control" className="overflow-x-auto">
      <table className="w-full min-w-[720px] text-left text-sm">
        <caption className="sr-only">Each zone's control state</caption>
        <thead>
          <tr className="border-b border-slate-300 dark:border-slate-600">
            <th scope="col" className="py-2 pr-3">Zone</th>
            <th scope="col" className="py-2 pr-3">Now</th>
            <th scope="col" className="py-2 pr-3">Setpoints (heating – cooling)</th>
            <th scope="col" className="py-2 pr-3">Won by</th>
            <th scope="col" className="py-2 pr-3">Mode</th>
            <th scope="col" className="py-2">Override</th>
          </tr>
        </thead>
        <tbody>
          {zones.map((z) => {
            const name = names[z.zone] ?? z.zone;
            const own = settings.zones[z.zone]?.mode;
            const ov = activeOverride(settings, z.zone, now);
            const asked = z.target && (z.target.heating !== z.heating_sp || z.target.cooling !== z.cooling_sp);
            const flags = flagsText(z.flags);
            return (
              <tr key={z.zone} data-testid={`zone-${z.zone}`} className="border-b border-slate-100 align-top dark:border-slate-800">
                <th scope="row" className="py-2 pr-3 font-medium">
                  <Link className="link" to={`/zones/${encodeURIComponent(z.zone)}/`}>{name}</Link>
                  <div className="muted text-xs font-normal">
                    {t(z.temp)}
                    {z.occupied === true ? ', people present' : z.occupied === false ? ', vacant' : ''}
                  </div>
                </th>
                {z.controlled ? (
                  <>
                    <td className="py-2 pr-3">
                      <Badge tone={STATE_TONE[z.state ?? ''] ?? 'neutral'}>{STATE_TEXT[z.state ?? ''] ?? z.state ?? '—'}</Badge>
                    </td>
                    <td className="py-2 pr-3 tabular-nums">
                      <span className="font-semibold">{t(z.heating_sp)} – {t(z.cooling_sp)}</span>
                      {asked && <div className="muted text-xs">asked: {t(z.target?.heating)} – {t(z.target?.cooling)}</div>}
                      {flags && <div className="muted text-xs">{flags}</div>}
                    </td>
                    <td className="py-2 pr-3">
                      <span className="font-medium">{SOURCE_TEXT[z.winner ?? ''] ?? z.winner ?? '—'}</span>
                      {z.reason && <div className="muted text-xs">{z.reason}</div>}
                      {z.until && <div className="muted text-xs">until {timeText(z.until, tz)}</div>}
                      {z.native_schedule && (
                        <div className="mt-1 text-xs" data-testid={`native-${z.zone}`}>
                          <Badge tone={NATIVE_TONE[z.native_schedule.state] ?? 'neutral'}>
                            {z.native_schedule.object}: {NATIVE_TEXT[z.native_schedule.state] ?? z.native_schedule.state}
                          </Badge>
                          {z.native_schedule.why && <div className="muted">{z.native_schedule.why}</div>}
                          {z.native_schedule.checked_at && <div className="muted">checked {timeText(z.native_schedule.checked_at, tz)}</div>}
                        </div>
                      )}
                    </td>
                  </>
                ) : (
                  <td colSpan={3} className="py-2 pr-3">
                    <Badge tone="neutral">Not controlled</Badge>
                    {z.why_not && <div className="muted mt-1 text-xs">{z.why_not}</div>}
                  </td>
                )}
                <td className="py-2 pr-3">
                  <Badge tone={MODE_TONE[z.mode] ?? 'neutral'}>{MODE_TEXT[z.mode]?.label ?? z.mode}</Badge>
                  <div className="muted text-xs">
                    {own ? `zone set to ${MODE_TEXT[own].label.toLowerCase()}` : 'as the building'}
                    {own && own !== z.mode ? ', capped by the building' : ''}
                  </div>
                  {z.last_write && <div className="muted text-xs">last write {timeText(z.last_write.at, tz)}: {z.last_write.result}</div>}
                </td>
                <td className="py-2">
                  {ov ? (
                    <>
                      <div>until {timeText(ov.until, tz)}</div>
                      <div className="muted text-xs">by {ov.by || 'unknown'}{ov.reason ? `: ${ov.reason}` : ''}</div>
                      {canOverride && <EndButton zone={z.zone} name={name} onEnd={onEnd} />}
                    </>
                  ) : <span className="muted">None</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
