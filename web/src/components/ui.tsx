/** Small building blocks shared by the pages. */
import type { ReactNode } from 'react';
import { describeError } from '../api/errors';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="muted py-4 text-sm">
      {label}
    </p>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p>{describeError(error)}</p>
      {onRetry && (
        <button type="button" className="btn-secondary mt-2" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function PageTitle({ children, sub }: { children: ReactNode; sub?: ReactNode }) {
  return (
    <div className="mb-4">
      <h1 className="text-2xl font-semibold tracking-tight">{children}</h1>
      {sub && <p className="muted mt-1 text-sm">{sub}</p>}
    </div>
  );
}

export type Tone = 'good' | 'warn' | 'bad' | 'cold' | 'neutral';

const TONES: Record<Tone, string> = {
  good: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-50',
  warn: 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-50',
  bad: 'bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-50',
  cold: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-50',
  neutral: 'bg-slate-200 text-slate-900 dark:bg-slate-700 dark:text-slate-50',
};

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span title={title} className={`inline-flex items-center rounded px-2 py-0.5 text-xs font-semibold ${TONES[tone]}`}>
      {children}
    </span>
  );
}

/** A label and a value, for cards. */
export function Stat({ label, children, hint }: { label: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <div>
      <dt className="muted text-xs font-medium uppercase tracking-wide">{label}</dt>
      <dd className="mt-0.5 text-lg font-semibold tabular-nums">{children}</dd>
      {hint && <dd className="muted text-xs">{hint}</dd>}
    </div>
  );
}

/**
 * A box that scrolls (a wide table on a phone): focusable and named, so a
 * keyboard user can scroll it too (WCAG 2.1.1; axe "scrollable-region-focusable").
 */
export function ScrollRegion({ label, className = '', children }: { label: string; className?: string; children: ReactNode }) {
  return (
    // relative: an sr-only cell inside (absolutely placed) must not widen the page on a phone
    <div className={`relative ${className}`} tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
