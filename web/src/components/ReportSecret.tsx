/**
 * A report webhook's HMAC secret, shown this once: GET answers carry only
 * `has_secret`, so neither the server nor this page can show it again.  It
 * lives in the page's state until dismissed or the page is left (never in
 * storage), with a copy button and how a receiver checks a call.  The
 * report's webhook is signed exactly as alert webhooks are (svc_report.c
 * deliver -> the notifier's sb_notify_sign), so the recipe is the same as
 * NotifySecret's.
 */
import { useEffect, useRef, useState } from 'react';
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

export function ReportSecret({ name, target, secret, onDone }: { name: string; target: string; secret: string; onDone: () => void }) {
  const head = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  useEffect(() => head.current?.focus(), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  }

  return (
    <section aria-labelledby="report-secret-h" className="card mb-4 border-amber-500 dark:border-amber-400">
      <h2 id="report-secret-h" ref={head} tabIndex={-1} className="text-base font-semibold">Webhook secret</h2>
      <p className="mt-1 text-sm [overflow-wrap:anywhere]">For the report &ldquo;{name}&rdquo;, sent to {target}.</p>
      <p className="mt-2 text-sm font-medium">
        Warning: this secret is shown only this once and will not be shown again. Store it with the receiving service
        now. If it is lost, remove the webhook from the report and save, then set it again: sbems makes a new secret.
      </p>
      <p className="mt-3 flex flex-wrap items-center gap-2">
        <code data-testid="report-webhook-secret" className="select-all rounded bg-slate-100 px-2 py-1 font-mono text-sm text-slate-900 [overflow-wrap:anywhere] dark:bg-slate-800 dark:text-slate-100">
          {secret}
        </code>
        <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => void copy()}>Copy secret</button>
        <span role="status" className="text-sm">
          {copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Could not copy: select the secret and copy it by hand.' : ''}
        </span>
      </p>

      <h3 className="mt-4 text-sm font-semibold">How the receiver checks a call</h3>
      <p className="mt-1 text-sm">
        After each period sbems POSTs the JSON report with the headers <code>X-Sbems-Timestamp</code> (Unix seconds),{' '}
        <code>X-Sbems-Signature</code> and <code>X-Sbems-Delivery</code> (the same on every retry of one delivery):
      </p>
      <p className="mt-2 rounded bg-slate-100 px-2 py-1 font-mono text-xs text-slate-900 [overflow-wrap:anywhere] dark:bg-slate-800 dark:text-slate-100">
        X-Sbems-Signature: sha256=&lt;hex HMAC-SHA256(secret, X-Sbems-Timestamp + &quot;.&quot; + body)&gt;
      </p>
      <p className="mt-2 text-sm">
        Recompute it over the raw body and compare in constant time, refuse a timestamp more than about 5 minutes from
        your clock, and ignore a delivery id already seen. In Python 3:
      </p>
      <ScrollRegion label="Python 3 example, scrolls sideways" className="mt-2 overflow-x-auto rounded bg-slate-100 dark:bg-slate-800">
        <pre className="p-3 text-xs text-slate-900 dark:text-slate-100"><code>{PYTHON}</code></pre>
      </ScrollRegion>
      <button type="button" className="btn-primary mt-3" onClick={onDone}>Done, hide the secret</button>
    </section>
  );
}
