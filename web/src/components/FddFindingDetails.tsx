/**
 * What is behind one finding: the evidence values (in the user's units), the
 * estimate's basis, when it was last seen, the suggested action, its alert,
 * and the evidence points charted over the finding's window.
 */
import { Link } from 'react-router-dom';
import type { Finding } from '../api/fdd';
import { evidenceText, faultWords, timeText } from '../api/fdd';
import { usePrefs } from '../lib/prefs';
import { FddEvidenceChart } from './FddEvidenceChart';

export function FddFindingDetails({ finding: f, tz }: { finding: Finding; tz: string }) {
  const { units } = usePrefs();
  return (
    <div className="space-y-3 text-sm">
      <p>{faultWords(f)}.</p>
      {f.evidence.length > 0 && (
        <div>
          <p className="font-semibold">Evidence</p>
          <dl className="mt-1 grid gap-x-4 gap-y-1 sm:grid-cols-[auto_1fr]">
            {f.evidence.map((e, i) => (
              <div key={`${e.label}-${i}`} className="contents">
                <dt className="muted">{e.label}</dt>
                <dd className="tabular-nums">{evidenceText(e.value, e.unit, units)}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      <div>
        <p className="font-semibold">Suggested action</p>
        <p className="mt-1">{f.action || 'None given.'}</p>
      </div>
      <p className="muted">
        Last seen {timeText(f.last_seen, tz)}
        {f.cleared_at ? `; cleared ${timeText(f.cleared_at, tz)}` : ''}. Estimate: {f.impact.basis}
      </p>
      {f.alert_id !== null && (
        <p>
          <Link to={`/alerts/${f.alert_id}/`} className="link">Open the alert (#{f.alert_id})</Link>
        </p>
      )}
      <FddEvidenceChart finding={f} tz={tz} />
    </div>
  );
}
