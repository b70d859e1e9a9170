/** A <details> whose content is mounted only while open (so it loads nothing until asked). */
import { useState } from 'react';
import type { ReactNode } from 'react';

export function Disclosure({ summary, children }: { summary: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary className="cursor-pointer text-sm font-medium">{summary}</summary>
      {open && <div className="mt-2">{children}</div>}
    </details>
  );
}
