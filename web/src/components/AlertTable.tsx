/**
 * The alert list as a table (wide, so it scrolls inside a named, focusable
 * region on a phone): severity, when it was raised in its building's zone,
 * what (the rule's name, a link that opens the detail, and the server's
 * message), value, state with "condition cleared" and "shelved until",
 * count of de-duplicated raises, and who it is assigned to.
 */
import { Link } from 'react-router-dom';
import type { Alert } from '../api/alerts';
import { formatDateTime } from '../lib/time';
import { AlertStateBadges, SeverityBadge } from './AlertBadges';
import { ScrollRegion } from './ui';

export interface AlertTableProps {
  items: readonly Alert[];
  /** the building's IANA zone (UTC when unknown) */
  tzOf: (building: string) => string;
  buildingName: (building: string) => string;
  valueText: (a: Alert) => string;
  /** the detail's address, filters kept */
  hrefOf: (id: number) => string;
  openId: number | null;
  showBuilding: boolean;
  now: number;
}

export function AlertTable({ items, tzOf, buildingName, valueText, hrefOf, openId, showBuilding, now }: AlertTableProps) {
  const th = 'px-2 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400';
  return (
    <ScrollRegion label="Alerts, scrolls sideways" className="card overflow-x-auto p-0">
      <table className="w-full min-w-[48rem] text-sm">
        <caption className="sr-only">Alerts, newest first</caption>
        <thead className="border-b border-slate-200 dark:border-slate-700">
          <tr>
            <th scope="col" className={th}>Severity</th>
            <th scope="col" className={th}>Raised</th>
            <th scope="col" className={th}>Alert</th>
            <th scope="col" className={th}>Value</th>
            <th scope="col" className={th}>State</th>
            <th scope="col" className={`${th} text-right`}>Count</th>
            <th scope="col" className={th}>Assignee</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => {
            const tz = tzOf(a.building);
            const open = a.id === openId;
            return (
              <tr key={a.id} data-testid={`alert-${a.id}`}
                  className={`border-b border-slate-100 align-top last:border-0 dark:border-slate-800 ${open ? 'bg-teal-50 dark:bg-slate-800' : ''}`}>
                <td className="px-2 py-2"><SeverityBadge severity={a.severity} /></td>
                <td className="whitespace-nowrap px-2 py-2 tabular-nums">{formatDateTime(a.raised_ms, tz)}</td>
                <th scope="row" className="px-2 py-2 text-left font-normal">
                  <Link to={hrefOf(a.id)} className="link inline-block py-1" aria-current={open ? 'true' : undefined}>
                    {a.rule_name || a.rule}
                  </Link>
                  {a.message && <p className="text-slate-900 [overflow-wrap:anywhere] dark:text-slate-100">{a.message}</p>}
                  {showBuilding && <p className="muted text-xs">{buildingName(a.building)}</p>}
                </th>
                <td className="whitespace-nowrap px-2 py-2 tabular-nums">{valueText(a)}</td>
                <td className="px-2 py-2"><AlertStateBadges a={a} tz={tz} now={now} /></td>
                <td className="px-2 py-2 text-right tabular-nums" title={`raised ${a.count} time${a.count === 1 ? '' : 's'}`}>{a.count}</td>
                <td className="px-2 py-2">{a.assignee ?? <span className="muted">nobody</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
