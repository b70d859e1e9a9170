/**
 * A building's faults (/buildings/:building/faults/): what fault detection
 * found, ranked by what it is estimated to cost a day (the server's order),
 * with the open ones' count and cost together on top.  "Open" (the default)
 * or "all" including cleared ones, kept in the address (?state=all).  Each
 * finding opens to its evidence, suggested action, alert and a chart of its
 * points over the finding's window, loaded only then.
 *
 * Live: findings are raised and cleared through the alert service, so an
 * `alerts` event for this building reloads the list (events within half a
 * second are taken together).  When the socket is not live or the channel
 * is refused, the list is reloaded every 60 s instead.
 *
 * Requests on load: the building (name, time zone) and the findings (2).
 */
import { useEffect, useRef } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import type { FindingFilter } from '../api/fdd';
import { getFindings, summaryText } from '../api/fdd';
import { parseAlertEvent } from '../api/alerts';
import { useClient } from '../auth/AuthContext';
import { FddFindingCards, FddFindingsTable } from '../components/FddFindings';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useChannels, useConnection, useLive } from '../live/LiveContext';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

/** Alert events this close together cause one reload. */
export const EVENT_COALESCE_MS = 500;
/** The reload period while live events cannot arrive. */
export const POLL_MS = 60_000;

const FILTERS: { value: FindingFilter; label: string }[] = [
  { value: 'open', label: 'Open faults' },
  { value: 'all', label: 'All, including cleared' },
];

/** Reload on this building's alert events, or every POLL_MS while they cannot arrive. */
function useLiveReload(building: string, reload: () => void) {
  const { conn } = useLive();
  const info = useConnection();
  const refused = !!conn.channelError('alerts');
  const live = info.state === 'live' && !refused;
  const reloadRef = useRef(reload);
  reloadRef.current = reload;

  useChannels(['alerts']);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = conn.onEvent('alerts', (d) => {
      const ev = parseAlertEvent(d);
      if (!ev || ev.alert.building !== building || timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        reloadRef.current();
      }, EVENT_COALESCE_MS);
    });
    return () => {
      off();
      if (timer !== null) clearTimeout(timer);
    };
  }, [conn, building]);

  useEffect(() => {
    if (live) return undefined;
    const h = setInterval(() => reloadRef.current(), POLL_MS);
    return () => clearInterval(h);
  }, [live]);
  return { live, refused };
}

export default function FaultsPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const [sp, setSp] = useSearchParams();
  const state: FindingFilter = sp.get('state') === 'all' ? 'all' : 'open';
  const building = useAsync((signal) => client.building(bid, signal), [bid]);
  const found = useAsync((signal) => getFindings(client, bid, state, signal), [bid, state]);
  const { refused } = useLiveReload(bid, found.reload);

  if (building.error) return <ErrorBox error={building.error} onRetry={building.reload} />;
  if (!building.data) return <Loading label="Loading the building…" />;
  const b = building.data;
  const tz = safeZone(b.timezone);
  const bPath = `/buildings/${encodeURIComponent(bid)}/`;
  const r = found.data;

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={bPath} className="link">{b.name}</Link> / Faults
      </nav>
      <PageTitle sub={`${b.name} · times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Faults</PageTitle>
      <p className="mb-4 max-w-3xl text-sm">
        What fault detection found in this building&apos;s equipment, the most costly first. Costs are estimates: each fault
        says how it was estimated, or why it could not be. <Link to={`${bPath}faults/settings/`} className="link">Fault detection settings</Link>
      </p>

      <div role="group" aria-label="Which faults" className="mb-3 flex flex-wrap gap-2">
        {FILTERS.map((f) => (
          <button key={f.value} type="button" aria-pressed={state === f.value}
                  className={state === f.value ? 'btn-primary min-h-[36px] px-3 py-1' : 'btn-secondary min-h-[36px] px-3 py-1'}
                  onClick={() => setSp(f.value === 'open' ? {} : { state: f.value }, { replace: true })}>
            {f.label}
          </button>
        ))}
      </div>
      {refused && <p className="muted mb-2 text-sm">No live updates of faults; the list is read again every minute.</p>}

      {found.error !== undefined && <ErrorBox error={found.error} onRetry={found.reload} />}
      {!r && found.loading && <Loading label="Loading the faults…" />}
      {r && (
        <>
          <p role="status" className="mb-3 text-base font-semibold">{summaryText(r)}</p>
          {r.findings.length === 0 ? (
            <p className="card text-sm">
              {state === 'open'
                ? 'No open faults found: no check is failing on the watched equipment now.'
                : 'No faults found, open or cleared.'}{' '}
              The <Link to={`${bPath}faults/settings/`} className="link">settings</Link> say which equipment is watched.
            </p>
          ) : (
            <>
              <FddFindingsTable findings={r.findings} currency={r.currency} tz={tz} />
              <FddFindingCards findings={r.findings} currency={r.currency} tz={tz} />
            </>
          )}
        </>
      )}
    </>
  );
}
