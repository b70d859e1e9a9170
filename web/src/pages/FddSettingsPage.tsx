/**
 * Fault detection settings of a building (/buildings/:building/faults/settings/):
 * each unit fault detection knows (air handlers, VAV boxes, chillers), whether
 * it is watched and, when not, why; and its detector parameters, which
 * managers change per unit (FddUnitCard).  Other roles read them.
 *
 * Requests on load: the building (name) and the units (2); a save or reset
 * updates its unit from the answer without reading the list again, so
 * unsaved edits of other units stay.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { FddUnit } from '../api/fdd';
import { getUnits } from '../api/fdd';
import { useAuth, useClient } from '../auth/AuthContext';
import { FddUnitCard } from '../components/FddUnitCard';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useAsync } from '../lib/useAsync';

export default function FddSettingsPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const canEdit = hasRole(user?.roles, 'manager');
  const data = useAsync(async (signal) => {
    const [building, units] = await Promise.all([client.building(bid, signal), getUnits(client, bid, signal)]);
    return { building, units };
  }, [bid]);
  // units as saved or reset here, over the list as it was read
  const [changed, setChanged] = useState<Record<string, FddUnit>>({});

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the fault detection settings…" />;
  const b = data.data.building;
  const bPath = `/buildings/${encodeURIComponent(bid)}/`;
  const units = data.data.units.map((u) => changed[u.equipment] ?? u);
  const watched = units.filter((u) => u.watched).length;
  const replace = (next: FddUnit) => setChanged((c) => ({ ...c, [next.equipment]: next }));

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={bPath} className="link">{b.name}</Link> /{' '}
        <Link to={`${bPath}faults/`} className="link">Faults</Link> / Settings
      </nav>
      <PageTitle sub={b.name}>Fault detection settings</PageTitle>
      <p className="mb-4 max-w-3xl text-sm">
        {units.length === 0
          ? 'Fault detection knows no air handler, VAV box or chiller in this building.'
          : `${watched} of ${units.length} ${units.length === 1 ? 'unit is' : 'units are'} watched. A unit is watched when the points its checks need are there.`}
        {' '}
        {canEdit
          ? 'A change applies to that unit only.'
          : 'Managers can change these values.'}
      </p>
      <ul className="grid gap-4">
        {units.map((u) => <FddUnitCard key={u.equipment} unit={u} canEdit={canEdit} onChanged={replace} />)}
      </ul>
    </>
  );
}
