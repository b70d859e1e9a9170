/**
 * A temporary password, shown this once: sbems keeps only its hash, so
 * neither the server nor this page can show it again.  It lives in the
 * page's state until "Done" (never in storage), with a copy button.
 */
import { useEffect, useRef, useState } from 'react';

export function AdminSecret({ username, password, onDone }: { username: string; password: string; onDone: () => void }) {
  const head = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  useEffect(() => head.current?.focus(), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(password);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  }

  return (
    <section aria-labelledby="secret-h" className="card mb-4 border-amber-500 dark:border-amber-400">
      <h2 id="secret-h" ref={head} tabIndex={-1} className="text-base font-semibold">Temporary password for {username}</h2>
      <p className="mt-2 text-sm font-medium">
        Warning: this password is shown only this once and will not be shown again. Give it to {username} by a safe way;
        they must choose their own password when they first sign in.
      </p>
      <p className="mt-3 flex flex-wrap items-center gap-2">
        <code data-testid="one-time-password" className="select-all rounded bg-slate-100 px-2 py-1 font-mono text-base text-slate-900 [overflow-wrap:anywhere] dark:bg-slate-800 dark:text-slate-100">
          {password}
        </code>
        <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => void copy()}>Copy password</button>
        <span role="status" className="text-sm">
          {copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Could not copy: select the password and copy it by hand.' : ''}
        </span>
      </p>
      <button type="button" className="btn-primary mt-3" onClick={onDone}>Done, hide it</button>
    </section>
  );
}
