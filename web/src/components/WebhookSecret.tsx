/**
 * A new webhook's HMAC secret, shown this once: the server lists only
 * `has_secret` afterwards, so neither it nor the page can show the key
 * again.  It lives in the page's state until dismissed (never in storage),
 * with a copy button and how a receiver checks a call.  Alert notifications
 * and report deliveries are signed the same way (the notifier's
 * sb_notify_sign; docs/internals/alerts-notify.md, "Webhook"), so one
 * component serves both; the callers say what the secret is for.
 */
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { ScrollRegion } from './ui';

/** Checked against sb_notify_sign: the key is the secret's text as UTF-8, not hex-decoded. */
const PYTHON = `import hashlib, hmac, time

SECRET = b"<the secret above>"   # its text as bytes; do not hex-decode it

def verify(headers, body: bytes) -> bool:
    """body: the raw request body, exactly as received."""
    ts = headers["X-Sbems-Timestamp"]
    if abs(time.time() - int(ts)) > 300:     # older than 5 minutes: a replay
        return False
    mac = hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + mac, headers["X-Sbems-Signature"])`;

export interface WebhookSecretProps {
  /** id of the heading (the section is labelled by it) */
  headingId: string;
  /** data-testid of the secret's element */
  testId: string;
  secret: string;
  /** what the secret is for, in words */
  purpose: ReactNode;
  /** what to do if it is lost */
  ifLost: string;
  /** what a call carries, before the header names */
  calls: ReactNode;
  onDone: () => void;
}

export function WebhookSecret(p: WebhookSecretProps) {
  const head = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  useEffect(() => head.current?.focus(), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(p.secret);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  }

  return (
    <section aria-labelledby={p.headingId} className="card mb-4 border-amber-500 dark:border-amber-400">
      <h2 id={p.headingId} ref={head} tabIndex={-1} className="text-base font-semibold">Webhook secret</h2>
      <p className="mt-1 text-sm [overflow-wrap:anywhere]">{p.purpose}</p>
      <p className="mt-2 text-sm font-medium">
        Warning: this secret is shown only this once and will not be shown again. Store it with the receiving
        service now; {p.ifLost}
      </p>
      <p className="mt-3 flex flex-wrap items-center gap-2">
        <code data-testid={p.testId} className="select-all rounded bg-slate-100 px-2 py-1 font-mono text-sm text-slate-900 [overflow-wrap:anywhere] dark:bg-slate-800 dark:text-slate-100">
          {p.secret}
        </code>
        <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => void copy()}>Copy secret</button>
        <span role="status" className="text-sm">
          {copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Could not copy: select the secret and copy it by hand.' : ''}
        </span>
      </p>

      <h3 className="mt-4 text-sm font-semibold">How the receiver checks a call</h3>
      <p className="mt-1 text-sm">
        {p.calls} with the headers <code>X-Sbems-Timestamp</code> (Unix seconds),{' '}
        <code>X-Sbems-Signature</code> and <code>X-Sbems-Delivery</code> (the same on every retry):
      </p>
      <p className="mt-2 rounded bg-slate-100 px-2 py-1 font-mono text-xs text-slate-900 [overflow-wrap:anywhere] dark:bg-slate-800 dark:text-slate-100">
        X-Sbems-Signature: sha256=&lt;hex HMAC-SHA256(secret, X-Sbems-Timestamp + &quot;.&quot; + body)&gt;
      </p>
      <p className="mt-2 text-sm">
        Recompute it over the raw body and compare in constant time, refuse a timestamp more than about 5 minutes
        from your clock, and ignore a delivery id already seen. In Python 3:
      </p>
      <ScrollRegion label="Python 3 example, scrolls sideways" className="mt-2 overflow-x-auto rounded bg-slate-100 dark:bg-slate-800">
        <pre className="p-3 text-xs text-slate-900 dark:text-slate-100"><code>{PYTHON}</code></pre>
      </ScrollRegion>
      <button type="button" className="btn-primary mt-3" onClick={p.onDone}>Done, hide the secret</button>
    </section>
  );
}
