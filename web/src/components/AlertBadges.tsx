/**
 * An alert's severity and state as words on tinted badges: the word carries
 * the meaning, the colour only repeats it (no icon, never colour alone).
 */
import type { Alert, Severity } from '../api/alerts';
import { SEVERITY_TEXT, STATE_TEXT, isShelved } from '../api/alerts';
import { formatDateTime } from '../lib/time';
import { Badge } from './ui';
import type { Tone } from './ui';

const SEVERITY_TONE: Record<Severity, Tone> = { critical: 'bad', major: 'warn', minor: 'cold', info: 'neutral' };

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <Badge tone={SEVERITY_TONE[severity] ?? 'neutral'}>{SEVERITY_TEXT[severity] ?? severity}</Badge>;
}

/** State, "condition cleared" (gone but not resolved) and "shelved until", each in words. */
export function AlertStateBadges({ a, tz, now }: { a: Alert; tz: string; now: number }) {
  const shelved = isShelved(a, now);
  return (
    <span className="flex flex-wrap gap-1">
      <Badge tone={a.state === 'resolved' ? 'good' : 'neutral'}>{STATE_TEXT[a.state] ?? a.state}</Badge>
      {a.cleared && a.state !== 'resolved' && (
        <Badge tone="good" title="The condition is gone, but nobody has resolved the alert">Condition cleared</Badge>
      )}
      {shelved && a.shelved_until && (
        <Badge tone="neutral">Shelved until {formatDateTime(Date.parse(a.shelved_until), tz)}</Badge>
      )}
    </span>
  );
}
