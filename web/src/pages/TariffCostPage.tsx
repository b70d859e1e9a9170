/**
 * Cost of one building (/buildings/:building/cost/): its tariff in words
 * (managers assign another), the bills of its main meter for a period of
 * local days (the last full month by default), and its holidays, which
 * forecasts and tariffs treat as holidays (managers edit them).
 *
 * Requests on load: the building, the tariffs, the building's tariff and
 * its holidays (4); the bills (1) only when a tariff is assigned, since
 * without one sbems can only refuse.
 */
import { useId, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import { buildingTariff, holidays as getHolidays, tariffs } from '../api/analytics';
import type { Holiday } from '../api/analytics';
import { useAuth, useClient } from '../auth/AuthContext';
import { TariffAssign } from '../components/TariffAssign';
import { TariffBills } from '../components/TariffBills';
import { TariffHolidays } from '../components/TariffHolidays';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { dayKey } from '../lib/enduse';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

export default function TariffCostPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const canEdit = hasRole(user?.roles, 'manager');
  const id = useId();
  const data = useAsync(async (signal) => {
    const [building, list, current, days] = await Promise.all([
      client.building(bid, signal), tariffs(client, signal), buildingTariff(client, bid, signal), getHolidays(client, bid, signal),
    ]);
    return { building, list, current, days };
  }, [bid]);
  const [assigned, setAssigned] = useState<{ id: string | null } | null>(null);
  const [days, setDays] = useState<Holiday[] | null>(null);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the building's tariff…" />;
  const b = data.data.building;
  const tz = safeZone(b.timezone);
  const current = assigned ? assigned.id : data.data.current;
  const link = (p: string) => `/buildings/${encodeURIComponent(bid)}/${p}`;

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={link('')} className="link">{b.name}</Link> /{' '}
        <Link to={link('analytics/')} className="link">Analytics</Link> / Cost
      </nav>
      <PageTitle sub={`${b.name} · local days in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Cost and bills</PageTitle>

      <section aria-labelledby={`${id}-t`} className="mb-6">
        <h2 id={`${id}-t`} className="mb-2 text-lg font-semibold">Tariff</h2>
        <TariffAssign building={bid} current={current} tariffs={data.data.list} canEdit={canEdit} onAssigned={(t) => setAssigned({ id: t })} />
        <p className="muted mt-1 text-sm">All tariffs: <Link className="link" to="/tariffs/">Tariffs</Link>.</p>
      </section>

      <section aria-labelledby={`${id}-b`} className="mb-6">
        <h2 id={`${id}-b`} className="mb-2 text-lg font-semibold">Bills</h2>
        {current === null
          ? <p className="muted text-sm">Bills need a tariff{canEdit ? ': assign one above.' : '; a manager can assign one.'}</p>
          : <TariffBills key={current} building={bid} tz={tz} today={dayKey(Date.now(), tz)} />}
      </section>

      <section aria-labelledby={`${id}-h`} className="mb-6">
        <h2 id={`${id}-h`} className="mb-2 text-lg font-semibold">Holidays</h2>
        <TariffHolidays building={bid} list={days ?? data.data.days} canEdit={canEdit} onSaved={setDays} />
      </section>
    </>
  );
}
