/** A report webhook's secret, shown this once (WebhookSecret): reports are
 * signed exactly as alert webhooks are (svc_report.c -> sb_notify_sign). */
import { WebhookSecret } from './WebhookSecret';

export function ReportSecret({ name, target, secret, onDone }: { name: string; target: string; secret: string; onDone: () => void }) {
  return (
    <WebhookSecret headingId="report-secret-h" testId="report-webhook-secret" secret={secret} onDone={onDone}
      purpose={<>For the report &ldquo;{name}&rdquo;, sent to {target}.</>}
      ifLost="if it is lost, remove the webhook from the report and save, then set it again: sbems makes a new secret."
      calls="After each period sbems POSTs the JSON report" />
  );
}
