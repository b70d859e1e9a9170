/**
 * Measured savings of one building (/buildings/:building/savings/): IPMVP
 * Option C with CalTRACK hourly or daily, computed by sbems for the chosen
 * baseline and reporting periods, meter and method; the building's measures,
 * which managers edit here.
 *
 * Requests on load: the building, its meters and its measures (3).  The
 * savings themselves only when asked ("Compute savings"): the server
 * computes them on each request, about a second for two years of hours.
 */
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import { ApiError } from '../api/errors';
import { measures as getMeasures, readable, savings, serverWords } from '../api/analytics';
import type { Measure, Savings, SavingsQuery } from '../api/analytics';
import { useAuth, useClient } from '../auth/AuthContext';
import { SavingsForm } from '../components/SavingsForm';
import { SavingsMeasures } from '../components/SavingsMeasures';
import { SavingsResultView } from '../components/SavingsResult';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { dayKey } from '../lib/enduse';
import { defaultPeriods } from '../lib/savings';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

type Run = { state: 'idle' } | { state: 'busy' } | { state: 'done'; s: Savings } | { state: 'failed'; error: unknown };

/** A refusal in words: what the baseline lacks (409 insufficient_data), or the server's own message. */
function Refusal({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 409) {
    const what = error.code === 'insufficient_data' ? 'The baseline is not enough for a savings estimate' : 'Savings cannot be computed';
    return <p role="alert" className="card text-sm">{what}: {readable(error.message)}.</p>;
  }
  if (error instanceof ApiError && error.status === 400) return <p role="alert" className="card text-sm">Please check: {serverWords(error)}.</p>;
  return <ErrorBox error={error} />;
}

export default function SavingsPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const data = useAsync(async (signal) => {
    const [building, equipment, list] = await Promise.all([
      client.building(bid, signal),
      client.equipment({ building: bid, type: 'meter' }, signal),
      getMeasures(client, bid, signal),
    ]);
    return { building, equipment, list };
  }, [bid]);
  const [saved, setSaved] = useState<Measure[] | null>(null);
  const [run, setRun] = useState<Run>({ state: 'idle' });

  const meters = useMemo(() => {
    const list = (data.data?.equipment ?? []).filter((e) => e.type === 'meter' && e.building === bid)
      .map((e) => ({ id: e.id, name: e.name, main: !e.parent }));
    return [...list.filter((m) => m.main), ...list.filter((m) => !m.main)];
  }, [data.data, bid]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the building…" />;
  const b = data.data.building;
  const tz = safeZone(b.timezone);
  const today = dayKey(Date.now(), tz);
  const list = saved ?? data.data.list;
  const defaults = defaultPeriods(data.data.list, today);

  async function compute(q: SavingsQuery) {
    setRun({ state: 'busy' });
    try {
      setRun({ state: 'done', s: await savings(client, bid, q) });
    } catch (e) {
      setRun({ state: 'failed', error: e });
    }
  }

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(bid)}/`} className="link">{b.name}</Link> /{' '}
        <Link to={`/buildings/${encodeURIComponent(bid)}/analytics/`} className="link">Analytics</Link> / Savings
      </nav>
      <PageTitle sub={`${b.name} · local days in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Measured savings</PageTitle>
      <p className="mb-4 max-w-3xl text-sm">
        The baseline model learns how the meter used energy against outdoor temperature and time of week before the work; driven
        with the reporting period&rsquo;s weather it says what the building would have used without it (the adjusted baseline). The
        saving is the adjusted baseline minus what the meter measured (IPMVP Option C, CalTRACK methods).
      </p>
      <SavingsForm defaults={defaults} meters={meters} today={today} busy={run.state === 'busy'} onCompute={(q) => void compute(q)} />
      <section aria-label="Savings" className="my-6">
        {run.state === 'idle' && <p className="muted text-sm">Choose the periods and press &ldquo;Compute savings&rdquo;.</p>}
        {run.state === 'busy' && <Loading label="Computing the savings (about a second a year of data)…" />}
        {run.state === 'failed' && <Refusal error={run.error} />}
        {run.state === 'done' && <SavingsResultView s={run.s} tz={tz} />}
      </section>
      <SavingsMeasures building={bid} list={list} canEdit={hasRole(user?.roles, 'manager')} onSaved={setSaved} />
    </>
  );
}
