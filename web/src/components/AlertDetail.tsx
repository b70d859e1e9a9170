/**
 * One alert in full: what and where, its facts, a link to the chart of
 * what it watches, the whole history (oldest first, who and what), and the
 * actions the user's role allows.  Live: an event for this alert updates
 * the facts at once and reads the alert again for the new history entry.
 */
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { Alert, AlertDetail } from '../api/alerts';
import { EVENT_TEXT, getAlert, parseAlertEvent } from '../api/alerts';
import { useAuth, useClient } from '../auth/AuthContext';
import { useLive, useNow } from '../live/LiveContext';
import { formatDateTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { AlertActions } from './AlertActions';
import { AlertStateBadges, SeverityBadge } from './AlertBadges';
import { ErrorBox, Loading } from './ui';

export interface AlertDetailProps {
  id: number;
  tzOf: (building: string) => string;
  buildingName: (building: string) => string;
  valueText: (a: Alert) => string;
  /** the page showing the watched point's chart, with its name */
  chartOf: (a: Alert) => { to: string; label: string } | null;
  closeHref: string;
  onChanged: (a: AlertDetail) => void;
}

const at = (iso: string | null | undefined, tz: string) => (iso ? formatDateTime(Date.parse(iso), tz) : null);

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex flex-wrap gap-x-2">
      <dt className="muted min-w-[8rem]">{label}</dt>
      <dd className="[overflow-wrap:anywhere]">{children}</dd>
    </div>
  );
}

export function AlertDetailPanel({ id, tzOf, buildingName, valueText, chartOf, closeHref, onChanged }: AlertDetailProps) {
  const client = useClient();
  const { conn } = useLive();
  const { user } = useAuth();
  const now = useNow(30_000);
  const data = useAsync((s) => getAlert(client, id, s), [client, id]);
  const [shown, setShown] = useState<AlertDetail | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const focused = useRef<number | null>(null);
  const { reload } = data;

  useEffect(() => {
    if (data.data) setShown(data.data);
  }, [data.data]);

  useEffect(() => conn.onEvent('alerts', (d) => {
    const ev = parseAlertEvent(d);
    if (!ev || ev.alert.id !== id) return;
    setShown((a) => (a && a.id === id ? { ...a, ...ev.alert, events: a.events } : a));
    reload(); // the new history entry
  }), [conn, id, reload]);

  const a = shown && shown.id === id ? shown : null;
  // Opening an alert moves focus to it (it may be below the list on a phone).
  useEffect(() => {
    if (a && focused.current !== id) {
      focused.current = id;
      heading.current?.focus();
    }
  }, [a, id]);

  if (!a) {
    return (
      <section aria-label="Alert" className="card">
        {data.error ? <ErrorBox error={data.error} onRetry={reload} /> : <Loading label="Loading the alert…" />}
        <Link to={closeHref} className="link mt-2 inline-block py-2">Close</Link>
      </section>
    );
  }

  const tz = tzOf(a.building);
  const chart = chartOf(a);
  const changed = (x: AlertDetail) => {
    setShown(x);
    onChanged(x);
  };
  return (
    <section aria-labelledby="alert-detail-h" className="card">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <h2 id="alert-detail-h" ref={heading} tabIndex={-1} className="text-lg font-semibold">{a.rule_name || a.rule}</h2>
        <Link to={closeHref} className="link py-1">Close</Link>
      </div>
      <div className="mt-1 flex flex-wrap items-center gap-2">
        <SeverityBadge severity={a.severity} />
        <AlertStateBadges a={a} tz={tz} now={now} />
      </div>
      {a.message && <p className="mt-2 [overflow-wrap:anywhere]">{a.message}</p>}

      <dl className="mt-3 grid gap-1 text-sm">
        <Fact label="Building">{buildingName(a.building)}</Fact>
        <Fact label="Raised">{formatDateTime(a.raised_ms, tz)}</Fact>
        <Fact label="Value">{valueText(a)}</Fact>
        <Fact label="Times raised">{a.count === 1 ? 'once' : `${a.count} times`}{a.flaps ? `, ${a.flaps} flap${a.flaps === 1 ? '' : 's'}` : ''}</Fact>
        {a.cleared_at && <Fact label="Condition cleared">{at(a.cleared_at, tz)}</Fact>}
        {a.acknowledged && <Fact label="Acknowledged">{`${at(a.acknowledged, tz)} by ${a.acknowledged_by ?? 'someone'}`}</Fact>}
        <Fact label="Assignee">{a.assignee ?? 'nobody'}</Fact>
        {a.escalated_level ? <Fact label="Escalation level">{a.escalated_level}</Fact> : null}
        {a.resolved && <Fact label="Resolved">{`${at(a.resolved, tz)} by ${a.resolved_by ?? 'someone'}`}</Fact>}
      </dl>

      <p className="mt-3 flex flex-wrap gap-x-4 text-sm">
        {chart && <Link to={chart.to} className="link inline-block py-1">Chart of {chart.label}</Link>}
        <Link to={`/buildings/${encodeURIComponent(a.building)}/alert-rules/`} className="link inline-block py-1">
          Rules of {buildingName(a.building)}
        </Link>
      </p>

      <h3 className="mt-4 font-semibold">History</h3>
      <ol className="mt-1 grid gap-2 text-sm" aria-label="History, oldest first">
        {a.events.map((e, i) => (
          <li key={`${e.ts}-${i}`} className="border-l-2 border-slate-300 pl-2 dark:border-slate-600">
            <span className="tabular-nums">{formatDateTime(e.ts, tz)}</span>{' · '}
            <span className="font-medium">{EVENT_TEXT[e.kind] ?? e.kind}</span>{' · '}
            <span>{e.actor}</span>
            {e.detail && <p className="muted [overflow-wrap:anywhere]">{e.detail}</p>}
          </li>
        ))}
      </ol>

      {hasRole(user?.roles, 'operator') && <AlertActions alert={a} tz={tz} onChanged={changed} />}
    </section>
  );
}
