/**
 * Alert notifications (route /alerts/notifications/): the signed-in user's
 * own subscriptions in words, with Delete (confirmed), and a form to add
 * one by webhook, e-mail or MQTT, told when an alert is raised or when it
 * escalates (still not acknowledged after n x alerts.escalate_after, which
 * the list answer gives, so the levels are worded in time).  A new webhook's secret is shown once,
 * with how a receiver checks a call; it is gone when dismissed, when the
 * list is reloaded, or when the page is left (kept in state only).
 *
 * Operators and up (the server answers 403 below that): a viewer gets a
 * sentence, no form and no request.
 *
 * Requests: the buildings (names, time zones, the form's choices) and the
 * subscriptions; then POST and DELETE as the user acts.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { CreatedSubscription, NewSubscription, Subscription } from '../api/notify';
import { SUBS_MAX, createSubscription, deleteSubscription, listSubscriptions, subscriptionName, withoutSecret } from '../api/notify';
import { useAuth, useClient } from '../auth/AuthContext';
import { NotifyForm } from '../components/NotifyForm';
import { NotifyList } from '../components/NotifyList';
import { NotifySecret } from '../components/NotifySecret';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { useAsync } from '../lib/useAsync';

const TITLE = 'Alert notifications';

export default function NotificationsPage() {
  const { user } = useAuth();
  if (!hasRole(user?.roles, 'operator')) {
    return (
      <>
        <PageTitle>{TITLE}</PageTitle>
        <p role="note" className="card text-sm">Alert notifications are for operators and above; your role can see alerts on the <Link to="/alerts/" className="link">alerts page</Link>.</p>
      </>
    );
  }
  return <Notifications />;
}

function Notifications() {
  const client = useClient();
  const buildings = useAsync((s) => client.buildings(s), [client]);
  const subs = useAsync((s) => listSubscriptions(client, s), [client]);
  const [items, setItems] = useState<Subscription[] | null>(null);
  const [secret, setSecret] = useState<{ target: string; secret: string } | null>(null);
  const [done, setDone] = useState('');
  const listHead = useRef<HTMLHeadingElement>(null);
  const [focusList, setFocusList] = useState(0);
  useEffect(() => setItems(subs.data?.items ?? null), [subs.data]);
  const escalateAfterS = subs.data?.escalateAfterS ?? null;
  // after the dialog closes (its row may be gone) or the secret is hidden
  useEffect(() => {
    if (focusList) listHead.current?.focus();
  }, [focusList]);

  const names = useMemo(() => new Map((buildings.data ?? []).map((b) => [b.id, b.name])), [buildings.data]);
  const nameOf = useCallback((slug: string) => names.get(slug), [names]);

  const reload = () => {
    setSecret(null); // the list never carries it, so a fresh list has no place for it
    setDone('');
    subs.reload();
  };

  async function create(body: NewSubscription): Promise<CreatedSubscription> {
    setDone('');
    setSecret(null);
    const s = await createSubscription(client, body);
    setItems((xs) => [...(xs ?? []), withoutSecret(s)]);
    if (s.secret) setSecret({ target: s.target, secret: s.secret });
    else setDone(`Added ${subscriptionName(s)}.`);
    return s;
  }

  const remove = async (s: Subscription) => {
    await deleteSubscription(client, s.id);
    setItems((xs) => (xs ?? []).filter((x) => x.id !== s.id));
  };

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/alerts/" className="link">Alerts</Link> / Notifications
      </nav>
      <PageTitle sub="Where sbems tells you about new alerts (and ones that come back), or about alerts nobody has acknowledged yet, in the buildings you may see. Only you see your notifications.">
        {TITLE}
      </PageTitle>

      {secret && (
        <NotifySecret target={secret.target} secret={secret.secret}
                      onDone={() => { setSecret(null); setFocusList((n) => n + 1); }} />
      )}

      <section aria-labelledby="notify-list-h" className="mb-6">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h2 id="notify-list-h" ref={listHead} tabIndex={-1} className="text-lg font-semibold">Your notifications</h2>
          <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={reload} disabled={subs.loading}>
            Reload the list
          </button>
        </div>
        <p role="status" aria-live="polite" className="mb-2 text-sm">{done}</p>
        {subs.error !== undefined && <ErrorBox error={subs.error} onRetry={subs.reload} />}
        {subs.error === undefined && items === null && <Loading label="Loading your notifications…" />}
        {items !== null && (items.length === 0
          ? <p className="card text-sm">You have no alert notifications yet. Add one below.</p>
          : <NotifyList items={items} nameOf={nameOf} onDelete={remove} escalateAfterS={escalateAfterS}
                        onGone={(s) => setItems((xs) => (xs ?? []).filter((x) => x.id !== s.id))}
                        onDone={(m) => { setDone(m); setFocusList((n) => n + 1); }} />)}
      </section>

      {buildings.error !== undefined && (
        <div className="mb-3"><ErrorBox error={buildings.error} onRetry={buildings.reload} /></div>
      )}
      <NotifyForm buildings={buildings.data ?? []} onCreate={create} full={(items?.length ?? 0) >= SUBS_MAX}
                  escalateAfterS={escalateAfterS} />
    </>
  );
}
