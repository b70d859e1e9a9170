/**
 * Supervisory control of a building (/buildings/:building/control/): the
 * mode (off, advisory, automatic) and what it means, each zone's state from
 * the control service's last evaluation (schedule state, setpoints, which
 * source won and why, mode, override), tenants' after-hours overrides
 * (operators start and end them), the zones' weekly control schedules, the
 * settings (managers edit them; others read them) and the optimizer's plan
 * against the schedule's baseline.
 *
 * Requests on load: the building, its zones, its control document, and the
 * plan (4; the plan on its own, as it is solved on demand).  An override
 * or a save reads the control document again.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { ControlDoc, ControlSettings } from '../api/control';
import { MODE_TEXT, NUM_FIELDS, PLAN_STATUS_TEXT, endOverride, getControl, planStatus } from '../api/control';
import { timeText } from '../api/fdd';
import { useAuth, useClient } from '../auth/AuthContext';
import { ControlOverrideForm } from '../components/control/ControlOverrideForm';
import { ControlPlanCard } from '../components/control/ControlPlanCard';
import { ControlScheduleTable } from '../components/control/ControlScheduleTable';
import { ControlSettingsForm } from '../components/control/ControlSettingsForm';
import { ControlZones } from '../components/control/ControlZones';
import type { Tone } from '../components/ui';
import { Badge, ErrorBox, Loading, PageTitle, Stat } from '../components/ui';
import { safeZone } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { formatNumber } from '../lib/units';

const PLAN_TONE: Record<string, Tone> = { fresh: 'good', stale: 'warn', failed: 'bad', off: 'neutral', pending: 'neutral' };
const MODE_TONE: Record<string, Tone> = { auto: 'good', advisory: 'cold', off: 'neutral' };

function SettingsReadOnly({ s, names }: { s: ControlSettings; names: Record<string, string> }) {
  const zones = Object.entries(s.zones ?? {}).filter(([, z]) => z.mode || z.vacancy_delay_min !== undefined || z.native_schedule);
  return (
    <div className="grid gap-3 text-sm">
      <dl className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Optimal start">{s.optimal_start ? 'On' : 'Off'}</Stat>
        <Stat label="Optimizer">{s.optimizer ? 'On' : 'Off'}</Stat>
        {NUM_FIELDS.map((f) => <Stat key={f.key} label={f.label}>{formatNumber(s[f.key], Number.isInteger(s[f.key]) ? 0 : 2)} {f.unit}</Stat>)}
        <Stat label="Holiday calendar">{s.holidays_ical ? 'iCalendar set' : 'None'}</Stat>
      </dl>
      {zones.length > 0 && (
        <ul className="list-disc pl-5">
          {zones.map(([id, z]) => (
            <li key={id}>
              {names[id] ?? id}:{z.mode ? ` mode ${MODE_TEXT[z.mode].label.toLowerCase()}` : ''}
              {z.vacancy_delay_min !== undefined ? `${z.mode ? ',' : ''} vacancy delay ${z.vacancy_delay_min} min` : ''}
              {z.native_schedule ? `${z.mode || z.vacancy_delay_min !== undefined ? ',' : ''} the controller's ${z.native_schedule}${z.native_calendar ? ` and ${z.native_calendar}` : ''} run its occupancy` : ''}
            </li>
          ))}
        </ul>
      )}
      <p className="muted">Managers can change these settings.</p>
    </div>
  );
}

export default function ControlPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const canEdit = hasRole(user?.roles, 'manager');
  const canOverride = hasRole(user?.roles, 'operator');
  const data = useAsync(async (signal) => {
    const [building, zones] = await Promise.all([client.building(bid, signal), client.zones(bid, signal)]);
    return { building, zones };
  }, [bid]);
  const ctl = useAsync((signal) => getControl(client, bid, signal), [bid]);
  // the settings as saved here, over the document as it was read (until it is read again)
  const [saved, setSaved] = useState<{ doc: ControlDoc; settings: ControlSettings } | null>(null);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (ctl.error && !ctl.data) return <ErrorBox error={ctl.error} onRetry={ctl.reload} />;
  if (!data.data || !ctl.data) return <Loading label="Loading the control settings…" />;
  const b = data.data.building;
  const tz = safeZone(b.timezone);
  const bPath = `/buildings/${encodeURIComponent(bid)}/`;
  const doc = ctl.data;
  const settings = saved && saved.doc === doc ? saved.settings : doc.settings;
  const now = Date.now();
  const zoneList = data.data.zones.map((z) => ({ id: z.id, name: z.name }));
  const names = Object.fromEntries(zoneList.map((z) => [z.id, z.name]));
  const ps = planStatus({ ...doc, settings }, now);
  const stateZones = doc.zones;
  const controlled = stateZones.filter((z) => z.controlled).length;

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={bPath} className="link">{b.name}</Link> / Control
      </nav>
      <PageTitle sub={b.name}>Control</PageTitle>

      <section className="card mb-4" aria-labelledby="ctl-mode">
        <h2 id="ctl-mode" className="sr-only">Mode</h2>
        <div className="flex flex-wrap items-center gap-2">
          <span className="text-sm font-medium">Mode</span>
          <Badge tone={MODE_TONE[settings.mode] ?? 'neutral'}>{MODE_TEXT[settings.mode]?.label ?? settings.mode}</Badge>
        </div>
        <p className="mt-1 max-w-3xl text-sm">{MODE_TEXT[settings.mode]?.what}</p>
        <dl className="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
          <Stat label="Zones controlled">{controlled} of {stateZones.length}</Stat>
          <Stat label="Last evaluated">{doc.evaluated_at ? timeText(doc.evaluated_at, tz) : 'Not yet'}</Stat>
          <Stat label="Plan" hint={doc.optimizer?.error ?? (doc.optimizer?.planned_at ? `planned ${timeText(doc.optimizer.planned_at, tz)}` : undefined)}>
            <Badge tone={PLAN_TONE[ps] ?? 'neutral'}>{PLAN_STATUS_TEXT[ps]}</Badge>
          </Stat>
          <Stat label="Holidays imported">{doc.holidays_imported ?? 0}</Stat>
        </dl>
        {!doc.running && (
          <p role="status" className="mt-3 text-sm">The control service is not running in this sbems (control.enabled is off): nothing is evaluated or written.</p>
        )}
      </section>

      <section className="card mb-4" aria-labelledby="ctl-zones">
        <h2 id="ctl-zones" className="mb-2 text-lg font-semibold">Zones</h2>
        {ctl.error !== undefined && <ErrorBox error={ctl.error} onRetry={ctl.reload} />}
        {stateZones.length === 0 ? (
          <p className="muted text-sm">No evaluation yet: the control service evaluates every zone once a minute.</p>
        ) : (
          <ControlZones zones={stateZones} settings={settings} names={names} tz={tz} now={now} canOverride={canOverride}
                        onEnd={async (zone) => { await endOverride(client, zone); ctl.reload(); }} />
        )}
      </section>

      <section className="card mb-4" aria-labelledby="ctl-override">
        <h2 id="ctl-override" className="mb-1 text-lg font-semibold">After-hours override</h2>
        <p className="muted mb-3 text-sm">
          A tenant working late: the zone gets its occupied band until the override ends, above the optimizer, setback and schedule.
          {canOverride ? '' : ' Operators can start and end overrides.'}
        </p>
        {canOverride && <ControlOverrideForm zones={zoneList} tz={tz} onStarted={() => ctl.reload()} />}
      </section>

      <section className="card mb-4" aria-labelledby="ctl-schedules">
        <h2 id="ctl-schedules" className="mb-2 text-lg font-semibold">Weekly schedules</h2>
        <div className="grid gap-4">
          {zoneList.map((z) => {
            const s = settings.zones?.[z.id]?.schedule;
            return (
              <div key={z.id}>
                <h3 className="mb-1 font-semibold">{z.name}</h3>
                {s ? <ControlScheduleTable zoneName={z.name} schedule={s} /> : (
                  <p className="muted text-sm">
                    No control schedule of its own: it follows the building's occupancy schedule and the zone's comfort bands (<Link className="link" to={`${bPath}schedules/`}>Schedules</Link>).
                  </p>
                )}
              </div>
            );
          })}
        </div>
      </section>

      <section className="card mb-4" aria-labelledby="ctl-settings">
        <h2 id="ctl-settings" className="mb-2 text-lg font-semibold">Settings</h2>
        {canEdit ? (
          <ControlSettingsForm key={bid} building={bid} settings={settings} zones={zoneList}
                               onSaved={(s) => { setSaved({ doc, settings: s }); ctl.reload(); }} />
        ) : <SettingsReadOnly s={settings} names={names} />}
      </section>

      <ControlPlanCard building={bid} tz={tz} zones={data.data.zones} />
    </>
  );
}
