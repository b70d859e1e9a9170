/**
 * Devices (admin): the health of every device the drivers talk to, and
 * BACnet discovery with its review-and-accept step.  Route /devices/.
 * The API behind both is admin only (src/api/routes.c), so other roles get
 * a sentence, not the forms.
 */
import { AdminDiscovery } from '../components/AdminDiscovery';
import { AdminDriverHealth } from '../components/AdminDriverHealth';
import { AdminGate } from '../components/AdminGate';
import { browserZone } from '../components/AdminTime';
import { PageTitle } from '../components/ui';
import { zoneAbbreviation } from '../lib/time';

export interface DevicesPageProps {
  /** for tests: how often health refreshes and discovery is polled */
  healthRefreshMs?: number;
  pollMs?: number;
  maxWatchMs?: number;
}

export default function DevicesPage({ healthRefreshMs, pollMs, maxWatchMs }: DevicesPageProps) {
  const tz = browserZone();
  return (
    <AdminGate least="admin" title="Devices">
      <PageTitle sub={`Times in your browser's zone, ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Devices</PageTitle>
      <AdminDriverHealth tz={tz} refreshMs={healthRefreshMs} />
      <AdminDiscovery tz={tz} pollMs={pollMs} maxWatchMs={maxWatchMs} />
    </AdminGate>
  );
}
