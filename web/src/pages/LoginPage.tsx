/**
 * Sign-in, and the forced password change that follows it for a new account
 * or a reset password (login answers user.must_change_password; every other
 * route answers 403 password_change_required until it is done).
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useAuth, useClient } from '../auth/AuthContext';
import { ApiError, describeError } from '../api/errors';

function Shell({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main id="main" className="flex min-h-screen items-start justify-center px-4 py-10 sm:items-center">
      <div className="card w-full max-w-sm">
        <p className="text-lg font-bold text-teal-800 dark:text-teal-300">sbems</p>
        <h1 className="mb-4 mt-1 text-xl font-semibold">{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function LoginPage() {
  const client = useClient();
  const { notice } = useAuth();
  const id = useId();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.login(username.trim(), password);
    } catch (err) {
      setError(err);
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <Shell title="Sign in">
      {notice && !error && (
        <p role="status" className="mb-3 rounded bg-slate-100 p-2 text-sm dark:bg-slate-800">
          {notice}
        </p>
      )}
      <form onSubmit={submit} className="space-y-4">
        <div>
          <label htmlFor={`${id}-u`} className="label">
            User name
          </label>
          <input id={`${id}-u`} className="input" autoComplete="username" autoCapitalize="none" spellCheck={false}
                 required value={username} onChange={(e) => setUsername(e.target.value)} />
        </div>
        <div>
          <label htmlFor={`${id}-p`} className="label">
            Password
          </label>
          <input id={`${id}-p`} className="input" type="password" autoComplete="current-password" required
                 value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        {error !== null && (
          <p role="alert" className="text-sm text-red-800 dark:text-red-300">
            {describeError(error)}
          </p>
        )}
        <button type="submit" className="btn-primary w-full" disabled={busy || !username || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </Shell>
  );
}

/** NIST SP 800-63B rules the server applies (docs/security.md); checked here only for length and match. */
export const MIN_PASSWORD = 10;

export function PasswordChangePage() {
  const client = useClient();
  const { user } = useAuth();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next.length < MIN_PASSWORD) {
      setLocal(`The new password needs at least ${MIN_PASSWORD} characters.`);
      return;
    }
    if (next !== again) {
      setLocal('The two new passwords differ.');
      return;
    }
    setLocal(null);
    setBusy(true);
    setError(null);
    try {
      await client.changePassword(current, next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const fieldMsg = (f: string) => (error instanceof ApiError ? error.fieldMessage(f) : undefined);
  const curErr = fieldMsg('current_password');
  const newErr = fieldMsg('new_password');

  return (
    <Shell title="Choose a new password">
      <p className="muted mb-4 text-sm">
        {user ? `${user.username}, your` : 'Your'} password was set by an administrator or is temporary: choose your
        own before going on. At least {MIN_PASSWORD} characters; a passphrase of several words is good.
      </p>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <div>
          <label htmlFor={`${id}-c`} className="label">
            Current password
          </label>
          <input id={`${id}-c`} className="input" type="password" autoComplete="current-password" required
                 value={current} onChange={(e) => setCurrent(e.target.value)}
                 aria-invalid={curErr ? true : undefined} aria-describedby={curErr ? `${id}-ce` : undefined} />
          {curErr && <p id={`${id}-ce`} className="mt-1 text-sm text-red-800 dark:text-red-300">{curErr}</p>}
        </div>
        <div>
          <label htmlFor={`${id}-n`} className="label">
            New password
          </label>
          <input id={`${id}-n`} className="input" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD}
                 value={next} onChange={(e) => setNext(e.target.value)}
                 aria-invalid={newErr ? true : undefined} aria-describedby={newErr ? `${id}-ne` : undefined} />
          {newErr && <p id={`${id}-ne`} className="mt-1 text-sm text-red-800 dark:text-red-300">{newErr}</p>}
        </div>
        <div>
          <label htmlFor={`${id}-a`} className="label">
            New password again
          </label>
          <input id={`${id}-a`} className="input" type="password" autoComplete="new-password" required
                 value={again} onChange={(e) => setAgain(e.target.value)} />
        </div>
        {(local || (error !== null && !curErr && !newErr)) && (
          <p role="alert" className="text-sm text-red-800 dark:text-red-300">
            {local ?? describeError(error)}
          </p>
        )}
        <div className="flex flex-wrap gap-2">
          <button type="submit" className="btn-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Change password'}
          </button>
          <button type="button" className="btn-secondary" onClick={() => void client.logout()}>
            Sign out
          </button>
        </div>
      </form>
    </Shell>
  );
}
