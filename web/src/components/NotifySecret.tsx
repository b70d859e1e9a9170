/** A new alert webhook's secret, shown this once (WebhookSecret). */
import { WebhookSecret } from './WebhookSecret';

export function NotifySecret({ target, secret, onDone }: { target: string; secret: string; onDone: () => void }) {
  return (
    <WebhookSecret headingId="notify-secret-h" testId="webhook-secret" secret={secret} onDone={onDone}
      purpose={<>For the webhook to {target}.</>}
      ifLost="if it is lost, delete this notification and add a new one."
      calls="Each call is a POST of JSON" />
  );
}
