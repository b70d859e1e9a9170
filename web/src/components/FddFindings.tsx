/**
 * The ranked findings, in the order the server ranked them (cost a day,
 * highest first): a table from the md breakpoint up, cards below it (a
 * phone reads a card; a seven-column table would need sideways scrolling).
 * Only one of the two is displayed; the other is display:none, so it is
 * out of the accessibility tree too.  Each has its own "Details" toggle
 * that mounts the finding's details (and so loads its chart) when opened.
 */
import { Fragment, useState } from 'react';
import { Link } from 'react-router-dom';
import type { Finding } from '../api/fdd';
import { KIND_TEXT, costText, energyText, faultWords, hasEstimate, timeText } from '../api/fdd';
import { usePrefs } from '../lib/prefs';
import { SeverityBadge } from './AlertBadges';
import { FddFindingDetails } from './FddFindingDetails';
import { Badge, ScrollRegion } from './ui';

export interface FindingsProps {
  findings: readonly Finding[];
  currency: string | null;
  tz: string;
}

const eqPath = (id: string) => `/equipment/${encodeURIComponent(id)}/`;

function useOpen(): [(id: string) => boolean, (id: string) => void] {
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = (id: string) => setOpen((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  return [(id) => open.has(id), toggle];
}

/** kWh and cost a day, or the sentence that says why there is no estimate. */
function Impact({ f, currency }: { f: Finding; currency: string | null }) {
  const { units } = usePrefs();
  if (!hasEstimate(f.impact)) return <span className="muted">{f.impact.basis || 'No estimate.'}</span>;
  return (
    <span className="tabular-nums">
      <span className="block font-semibold">{costText(f.impact.cost_per_day, currency)}</span>
      <span className="block">{energyText(f.impact.kwh_per_day, units)}</span>
    </span>
  );
}

function Title({ f }: { f: Finding }) {
  return (
    <>
      <span className="font-semibold">{f.title}</span>
      {f.state === 'cleared' && <> <Badge tone="good">Cleared</Badge></>}
      <span className="muted block text-xs font-normal">{faultWords(f)}</span>
    </>
  );
}

function DetailsButton({ f, open, controls, onToggle }: { f: Finding; open: boolean; controls: string; onToggle: () => void }) {
  return (
    <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-expanded={open} aria-controls={controls} onClick={onToggle}>
      {open ? 'Hide details' : 'Details'}<span className="sr-only">: {f.title}, {f.equipment_name}</span>
    </button>
  );
}

const since = (f: Finding, tz: string) => timeText(f.since, tz);
const domId = (prefix: string, f: Finding) => `${prefix}-${f.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;

export function FddFindingsTable({ findings, currency, tz }: FindingsProps) {
  const [isOpen, toggle] = useOpen();
  return (
    <ScrollRegion label="Faults, most costly first" className="card hidden overflow-x-auto md:block">
      <table className="w-full min-w-[50rem] text-sm">
        <caption className="sr-only">Faults, most costly first</caption>
        <thead>
          <tr className="text-left">
            <th scope="col" className="py-1 pr-3">Rank</th>
            <th scope="col" className="py-1 pr-3">Fault</th>
            <th scope="col" className="py-1 pr-3">Equipment</th>
            <th scope="col" className="py-1 pr-3">Severity</th>
            <th scope="col" className="py-1 pr-3">Since</th>
            <th scope="col" className="py-1 pr-3">Estimated impact</th>
            <th scope="col" className="py-1"><span className="sr-only">Details</span></th>
          </tr>
        </thead>
        <tbody>
          {findings.map((f, i) => {
            const open = isOpen(f.id);
            const id = domId('fdd-t', f);
            return (
              <Fragment key={f.id}>
                <tr data-testid={`finding-${f.id}`} className="border-t border-slate-200 align-top dark:border-slate-700">
                  <td className="py-2 pr-3 tabular-nums">{i + 1}</td>
                  <th scope="row" className="py-2 pr-3 text-left font-normal"><Title f={f} /></th>
                  <td className="py-2 pr-3">
                    <Link to={eqPath(f.equipment)} className="link">{f.equipment_name}</Link>
                    <span className="muted block text-xs">{KIND_TEXT[f.kind] ?? f.kind}</span>
                  </td>
                  <td className="py-2 pr-3"><SeverityBadge severity={f.severity} /></td>
                  <td className="py-2 pr-3">{since(f, tz)}</td>
                  <td className="max-w-[16rem] py-2 pr-3"><Impact f={f} currency={currency} /></td>
                  <td className="py-2"><DetailsButton f={f} open={open} controls={id} onToggle={() => toggle(f.id)} /></td>
                </tr>
                {open && (
                  <tr id={id}>
                    <td colSpan={7} className="pb-4 pt-1">
                      <FddFindingDetails finding={f} tz={tz} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export function FddFindingCards({ findings, currency, tz }: FindingsProps) {
  const [isOpen, toggle] = useOpen();
  return (
    <ol aria-label="Faults, most costly first" className="space-y-3 md:hidden">
      {findings.map((f, i) => {
        const open = isOpen(f.id);
        const id = domId('fdd-c', f);
        return (
          <li key={f.id} className="card">
            <p className="muted text-xs font-medium uppercase tracking-wide">Rank {i + 1}</p>
            <h2 className="mt-1 text-base"><Title f={f} /></h2>
            <dl className="mt-2 grid grid-cols-2 gap-3 text-sm">
              <div>
                <dt className="muted text-xs">Equipment</dt>
                <dd><Link to={eqPath(f.equipment)} className="link inline-block py-1">{f.equipment_name}</Link></dd>
              </div>
              <div>
                <dt className="muted text-xs">Severity</dt>
                <dd className="py-1"><SeverityBadge severity={f.severity} /></dd>
              </div>
              <div className="col-span-2">
                <dt className="muted text-xs">Since</dt>
                <dd>{since(f, tz)}</dd>
              </div>
              <div className="col-span-2">
                <dt className="muted text-xs">Estimated impact</dt>
                <dd><Impact f={f} currency={currency} /></dd>
              </div>
            </dl>
            <div className="mt-3"><DetailsButton f={f} open={open} controls={id} onToggle={() => toggle(f.id)} /></div>
            {open && <div id={id} className="mt-3"><FddFindingDetails finding={f} tz={tz} /></div>}
          </li>
        );
      })}
    </ol>
  );
}
