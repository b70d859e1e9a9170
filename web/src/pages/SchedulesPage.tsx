/**
 * Schedules of one building (/buildings/:building/schedules/): each zone's
 * weekly occupancy and comfort bands in words and whether it is occupied
 * now; managers and admins edit one zone or several selected zones at once
 * (PATCH /api/v1/zones/{zone}, manager and up).  Holiday calendars,
 * exception days and timed overrides (GET /api/v1/schedules) answer 501
 * until the control work: the page says so and shows nothing in their place.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { Zone } from '../api/types';
import { useAuth, useClient } from '../auth/AuthContext';
import { ScheduleEditor } from '../components/ScheduleEditor';
import { ScheduleTable } from '../components/ScheduleTable';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

export default function SchedulesPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const canEdit = hasRole(user?.roles, 'manager');
  const data = useAsync(async (signal) => {
    const [building, zones] = await Promise.all([client.building(bid, signal), client.zones(bid, signal)]);
    return { building, zones };
  }, [bid]);
  // Zones as the server answered the last save, over the loaded list.
  const [saved, setSaved] = useState<Record<string, Zone>>({});
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<string[] | null>(null);
  // The button that opened the editor gets the focus back when it closes.
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (editing || !opener.current) return;
    if (opener.current.isConnected) opener.current.focus();
    opener.current = null;
  }, [editing]);
  function edit(ids: string[]) {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setEditing(ids);
  }

  const zones = useMemo(() => {
    const list = (data.data?.zones ?? []).map((z) => saved[z.id] ?? z);
    return list.sort((a, b) => (a.floor ?? 0) - (b.floor ?? 0) || a.name.localeCompare(b.name));
  }, [data.data, saved]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the schedules…" />;
  const b = data.data.building;
  const tz = safeZone(b.timezone);
  const editZones = editing ? zones.filter((z) => editing.includes(z.id)) : [];

  function select(ids: string[], on: boolean) {
    setSelected((s) => {
      const n = new Set(s);
      ids.forEach((i) => (on ? n.add(i) : n.delete(i)));
      return n;
    });
  }

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(b.id)}/`} className="link">{b.name}</Link> / Schedules
      </nav>
      <PageTitle sub={`Weekly occupancy and comfort bands per zone. Times in ${tz} (${zoneAbbreviation(Date.now(), tz)}).`}>
        Schedules — {b.name}
      </PageTitle>
      <p className="muted mb-4 text-sm">
        Holiday calendars, exception days and timed overrides are not available yet: they come with the control engine.
      </p>

      <section aria-labelledby="sched-zones-h" className="mb-6">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h2 id="sched-zones-h" className="text-lg font-semibold">Zones</h2>
          {canEdit && zones.length > 0 && (
            <button type="button" className="btn-primary" disabled={selected.size === 0}
                    onClick={() => edit(zones.filter((z) => selected.has(z.id)).map((z) => z.id))}>
              Edit selected ({selected.size})
            </button>
          )}
        </div>
        {zones.length === 0 ? (
          <p className="muted">No zones in this building.</p>
        ) : (
          <ScheduleTable zones={zones} tz={tz} canEdit={canEdit} selected={selected} onSelect={select}
                         onEdit={(id) => edit([id])} />
        )}
      </section>

      {canEdit && editing && editZones.length > 0 && (
        <ScheduleEditor key={editing.join('\n')} zones={editZones}
                        onSaved={(z) => setSaved((s) => ({ ...s, [z.id]: z }))} onClose={() => setEditing(null)} />
      )}
    </>
  );
}
