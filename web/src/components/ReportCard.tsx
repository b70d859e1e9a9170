/**
 * One report definition in words (frequency, formats, recipients, webhook,
 * how many periods are kept, savings baseline, on or off) with its kept
 * files; managers also get Edit, Run now and Delete.
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { KEEP_DEFAULT, baselineWords, formatsWords, frequencyWords } from '../api/reports';
import type { Report } from '../api/reports';
import { ReportDelete } from './ReportDelete';
import { ReportFiles } from './ReportFiles';
import { ReportRun } from './ReportRun';
import { Badge } from './ui';

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="muted text-xs font-medium uppercase tracking-wide">{label}</dt>
      <dd className="mt-0.5 text-sm [overflow-wrap:anywhere]">{children}</dd>
    </div>
  );
}

export interface ReportCardProps {
  report: Report;
  tz: string;
  canManage: boolean;
  onEdit: (r: Report) => void;
  onGone: (r: Report, message: string) => void;
}

export function ReportCard({ report: r, tz, canManage, onEdit, onGone }: ReportCardProps) {
  const [version, setVersion] = useState(0);
  const on = r.enabled ?? true;
  const email = r.email ?? [];
  const keep = r.keep ?? KEEP_DEFAULT;
  const head = `report-${r.id}-h`;

  return (
    <section aria-labelledby={head} data-testid={`report-${r.id}`} className="card">
      <div className="flex flex-wrap items-center gap-2">
        <h3 id={head} className="text-lg font-semibold [overflow-wrap:anywhere]">{r.name}</h3>
        {on ? <Badge tone="good">On</Badge> : <Badge tone="neutral">Off</Badge>}
      </div>
      <dl className="mt-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        <Item label="Frequency">{frequencyWords(r.frequency)} (building time)</Item>
        <Item label="Formats">{formatsWords(r.formats)}</Item>
        <Item label="E-mailed to">{email.length ? email.join(', ') : 'nobody'}</Item>
        <Item label="Webhook">
          {r.webhook ? <>{r.webhook} <span className="muted">({r.has_secret ? 'signed with its secret' : 'no secret kept'})</span></> : 'none'}
        </Item>
        <Item label="Kept for download">{keep === 1 ? 'the newest period' : `the newest ${keep} periods`}</Item>
        <Item label="Savings baseline">{baselineWords(r.baseline)}</Item>
        <Item label="Schedule">
          {on ? 'On: made and sent after each period' : 'Off: not made on schedule (Run now still works)'}
        </Item>
        <Item label="Id"><code>{r.id}</code></Item>
      </dl>
      {canManage && (
        <div className="mt-3 flex flex-wrap items-center gap-2">
          <button type="button" className="btn-secondary" aria-label={`Edit ${r.name}`} onClick={() => onEdit(r)}>Edit</button>
          <ReportRun report={r} tz={tz} onRan={() => setVersion((v) => v + 1)} />
          <ReportDelete report={r} onGone={onGone} />
        </div>
      )}
      <ReportFiles report={r} tz={tz} version={version} />
    </section>
  );
}
