/**
 * Alerts: the open ones by default, newest first, filtered by building,
 * state, severity and "assigned to me" (kept in the address:
 * /alerts/?building=hpo&state=all&severity=major&mine=1), 50 a page with
 * the API's cursor.  /alerts/<id>/ opens one alert's detail panel beside
 * (on a phone: below) the list, filters kept.
 *
 * Live: the `alerts` channel; each event's alert replaces its row, leaves
 * the list when it no longer matches the filter (a resolved one leaves the
 * open view), or is added in raised-time order; a newly raised one that is
 * shown is announced politely ("New major alert: ...").  Events that arrive
 * while the first page loads are applied after it.
 *
 * Requests: the buildings (names and time zones), the alert pages, and the
 * points of each building in the list, once, for the value's unit (the
 * alert names its point but not its unit).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { Alert, AlertDetail, AlertFilter, Severity, StateFilter } from '../api/alerts';
import { SEVERITIES, SEVERITY_TEXT, STATE_FILTERS, applyAlert, listAlerts, listFields, matchesFilter, parseAlertEvent } from '../api/alerts';
import type { Building } from '../api/types';
import { useAuth, useClient } from '../auth/AuthContext';
import { AlertDetailPanel } from '../components/AlertDetail';
import { AlertFilters } from '../components/AlertFilters';
import type { AlertFilterValue } from '../components/AlertFilters';
import { AlertTable } from '../components/AlertTable';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useChannels, useConnection, useLive, useNow } from '../live/LiveContext';
import { canonicalUnit } from '../lib/model';
import { usePrefs } from '../lib/prefs';
import { safeZone } from '../lib/time';
import { formatMeasure, formatNumber } from '../lib/units';
import { useAsync } from '../lib/useAsync';

interface PointInfo {
  unit: string;
  equipment: string;
  name: string;
}

/** The points of these buildings by slug, each building read once (for units and chart links). */
function usePointInfo(buildings: readonly string[]): Map<string, Map<string, PointInfo>> {
  const client = useClient();
  const [info, setInfo] = useState<Map<string, Map<string, PointInfo>>>(() => new Map());
  const asked = useRef(new Set<string>());
  const key = [...new Set(buildings)].sort().join('\n');
  useEffect(() => {
    for (const b of key.split('\n').filter(Boolean)) {
      if (asked.current.has(b)) continue;
      asked.current.add(b);
      client.points({ building: b }).then(
        (ps) => setInfo((m) => new Map(m).set(b, new Map(ps.map((p) => [p.id, { unit: canonicalUnit(p), equipment: p.equipment, name: p.name }])))),
        () => asked.current.delete(b), // values show without their unit; asked again with the next list
      );
    }
  }, [client, key]);
  return info;
}

function filterValue(sp: URLSearchParams): AlertFilterValue {
  const state = sp.get('state') as StateFilter | null;
  const sev = sp.get('severity') as Severity | null;
  return {
    building: sp.get('building') ?? '',
    state: state && STATE_FILTERS.includes(state) ? state : 'open',
    severity: sev && SEVERITIES.includes(sev) ? sev : '',
    mine: sp.get('mine') === '1',
  };
}

function toParams(v: AlertFilterValue): URLSearchParams {
  const sp = new URLSearchParams();
  if (v.building) sp.set('building', v.building);
  if (v.state !== 'open') sp.set('state', v.state);
  if (v.severity) sp.set('severity', v.severity);
  if (v.mine) sp.set('mine', '1');
  return sp;
}

interface Pages {
  items: Alert[];
  next: string | null;
  loading: boolean;
  error: unknown;
}

export default function AlertsPage() {
  const { id: idParam } = useParams();
  const openId = idParam && /^\d+$/.test(idParam) ? Number(idParam) : null;
  const [sp, setSp] = useSearchParams();
  const client = useClient();
  const { conn } = useLive();
  const { user } = useAuth();
  const { units } = usePrefs();
  const now = useNow(30_000);
  const me = user?.username ?? '';
  useConnection(); // re-render when the server refuses the channel
  const liveErr = conn.channelError('alerts');

  const fv = filterValue(sp);
  const fkey = toParams(fv).toString();
  const search = fkey ? `?${fkey}` : '';
  const filter: AlertFilter = useMemo(() => {
    const v = filterValue(new URLSearchParams(fkey));
    return { building: v.building || undefined, state: v.state, severity: v.severity || undefined, assignee: v.mine ? me : undefined };
  }, [fkey, me]);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const buildings = useAsync((s) => client.buildings(s), [client]);
  const byId = useMemo(() => new Map((buildings.data ?? []).map((b): [string, Building] => [b.id, b])), [buildings.data]);
  const tzOf = useCallback((b: string) => safeZone(byId.get(b)?.timezone), [byId]);
  const buildingName = useCallback((b: string) => byId.get(b)?.name ?? b, [byId]);

  const [p, setP] = useState<Pages>({ items: [], next: null, loading: true, error: null });
  const [announce, setAnnounce] = useState('');
  const gen = useRef(0);
  // events that arrive while a first page loads, applied once it is in
  const buffered = useRef<Alert[] | null>(null);

  const load = useCallback(async (f: AlertFilter, cursor: string | null) => {
    const g = cursor ? gen.current : ++gen.current;
    if (!cursor) buffered.current = [];
    setP((s) => ({ ...(cursor ? s : { items: [], next: null }), loading: true, error: null }));
    try {
      const page = await listAlerts(client, f, cursor);
      if (g !== gen.current) return;
      const late = cursor ? [] : buffered.current ?? [];
      if (!cursor) buffered.current = null;
      setP((s) => {
        let items = cursor ? [...s.items, ...page.items.filter((x) => !s.items.some((y) => y.id === x.id))] : page.items;
        for (const a of late) items = applyAlert(items, a, f);
        return { items, next: page.next_cursor, loading: false, error: null };
      });
    } catch (e) {
      if (g !== gen.current) return;
      if (!cursor) buffered.current = null;
      setP((s) => ({ ...s, loading: false, error: e }));
    }
  }, [client]);

  useEffect(() => {
    void load(filter, null);
    return () => {
      gen.current++;
      buffered.current = null;
    };
  }, [filter, load]);

  useChannels(['alerts']);
  useEffect(() => conn.onEvent('alerts', (d) => {
    const ev = parseAlertEvent(d);
    if (!ev) return;
    const f = filterRef.current;
    if (buffered.current) buffered.current.push(ev.alert);
    else {
      setP((s) => {
        const there = s.items.some((x) => x.id === ev.alert.id);
        const last = s.items[s.items.length - 1];
        // older than what is loaded, with more pages to come: "Load more" brings it
        if (!there && s.next && last && ev.alert.raised_ms < last.raised_ms) return s;
        return { ...s, items: applyAlert(s.items, ev.alert, f) };
      });
    }
    if (ev.event === 'raised' && matchesFilter(ev.alert, f)) {
      setAnnounce(`New ${SEVERITY_TEXT[ev.alert.severity]?.toLowerCase() ?? ev.alert.severity} alert: ${ev.alert.message || ev.alert.rule_name}`);
    }
  }), [conn]);

  const info = usePointInfo(p.items.filter((a) => a.point).map((a) => a.building));
  const pointOf = useCallback((a: Alert) => (a.point ? info.get(a.building)?.get(a.point) : undefined), [info]);
  const valueText = useCallback((a: Alert) => {
    if (a.value === null || a.value === undefined) return '—';
    const pi = pointOf(a);
    if (pi?.unit) return formatMeasure(a.value, pi.unit, units);
    return formatNumber(a.value, Number.isInteger(a.value) ? 0 : 1);
  }, [pointOf, units]);
  const chartOf = useCallback((a: Alert) => {
    const pi = pointOf(a);
    const eq = a.equipment ?? pi?.equipment;
    if (eq) return { to: `/equipment/${encodeURIComponent(eq)}/`, label: pi ? `${pi.name} (${eq})` : eq };
    if (a.zone) return { to: `/zones/${encodeURIComponent(a.zone)}/`, label: `zone ${a.zone}` };
    return null;
  }, [pointOf]);

  const onChanged = useCallback((a: AlertDetail) => {
    setP((s) => ({ ...s, items: applyAlert(s.items, listFields(a), filterRef.current) }));
  }, []);

  const setFilter = (v: AlertFilterValue) => setSp(toParams(v), { replace: true });
  const title = fv.building ? `Alerts — ${buildingName(fv.building)}` : 'Alerts';
  return (
    <>
      <PageTitle sub="Newest first. Times in each building's own zone.">{title}</PageTitle>
      {hasRole(user?.roles, 'operator') && (
        <p className="mb-3 text-sm">
          <Link to="/alerts/notifications/" className="link">Your notifications (webhook, e-mail, MQTT)</Link>
        </p>
      )}
      <AlertFilters value={fv} buildings={buildings.data ?? []} onChange={setFilter} />
      {liveErr && <p className="muted mt-3 text-sm">No live updates of alerts ({liveErr}); reload the page to see changes.</p>}
      <p role="status" aria-live="polite" className="mt-3 text-sm font-medium">{announce}</p>

      <div className={`mt-3 grid gap-4 ${openId !== null ? 'xl:grid-cols-[minmax(0,1fr)_26rem]' : ''}`}>
        <div className="min-w-0">
          {p.error !== null && <ErrorBox error={p.error} onRetry={() => void load(filter, null)} />}
          {!p.loading && p.error === null && (
            <p className="muted mb-2 text-sm">
              {p.items.length === 0 ? 'No alerts match.' : `Showing ${p.items.length} alert${p.items.length === 1 ? '' : 's'}${p.next ? '; more to load' : ''}.`}
            </p>
          )}
          {p.items.length > 0 && (
            <AlertTable items={p.items} tzOf={tzOf} buildingName={buildingName} valueText={valueText}
                        hrefOf={(id) => `/alerts/${id}/${search}`} openId={openId} showBuilding={!fv.building} now={now} />
          )}
          {p.loading && <Loading label="Loading alerts…" />}
          {!p.loading && p.next && (
            <button type="button" className="btn-secondary mt-3" onClick={() => void load(filter, p.next)}>Load more</button>
          )}
        </div>
        {openId !== null && (
          <AlertDetailPanel id={openId} tzOf={tzOf} buildingName={buildingName} valueText={valueText} chartOf={chartOf}
                            closeHref={`/alerts/${search}`} onChanged={onChanged} />
        )}
      </div>
    </>
  );
}
