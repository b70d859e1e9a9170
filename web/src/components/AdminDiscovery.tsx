/**
 * BACnet discovery: start one, watch it, review its proposals.
 *
 * sbems runs one discovery at a time on the BACnet driver's socket and
 * keeps the last result until the next starts (src/api/h_bacnet.c).  The
 * page reads the last one when it opens (so a run started elsewhere shows),
 * and while one runs asks GET every second — until the server says done,
 * partial or failed, or for 5 minutes at most (the engine's own deadline is
 * 300 s, so the page never polls without end).  A running discovery gives
 * no partial result, so progress is its elapsed time.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { getDiscovery, startDiscovery } from '../api/admin';
import type { DiscoverArgs, DiscoveryRun } from '../api/admin';
import { ApiError, SessionEndedError } from '../api/errors';
import { useClient } from '../auth/AuthContext';
import { AdminDiscoveryForm } from './AdminDiscoveryForm';
import { AdminError } from './AdminError';
import { AdminProposals } from './AdminProposals';
import { LocalTime } from './AdminTime';
import { Badge } from './ui';
import type { Tone } from './ui';

/** Why a start was refused, for the two answers that are not about the form. */
export function startRefusal(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.status === 409) {
    return 'A discovery is already running: sbems runs one at a time. Its progress is shown below; start a new one when it has finished.';
  }
  if (e.status === 503) {
    return `sbems has no running BACnet driver, so it cannot look for devices. Add a "bacnet" driver to drivers.json, make sure drivers are enabled (drivers.enabled) and restart sbems.${e.message ? ` (sbems says: ${e.message})` : ''}`;
  }
  return null;
}

const STATUS: Record<string, { text: string; tone: Tone }> = {
  running: { text: 'Running', tone: 'neutral' },
  done: { text: 'Finished', tone: 'good' },
  partial: { text: 'Partial', tone: 'warn' },
  failed: { text: 'Failed', tone: 'bad' },
};

function RunStatus({ run, tz, watching, gaveUp, onCheck }: { run: DiscoveryRun; tz: string; watching: boolean; gaveUp: boolean; onCheck: () => void }) {
  const st = STATUS[run.status] ?? { text: run.status, tone: 'neutral' as Tone };
  const started = Date.parse(run.started);
  const r = run.result;
  const devices = r?.devices?.length ?? 0;
  const points = r?.devices?.reduce((s, d) => s + (d.points?.length ?? 0), 0) ?? 0;
  return (
    <div className="card mt-4 text-sm">
      {/* only the state is a live region: the elapsed seconds would be read out every second */}
      <p role="status">
        <Badge tone={st.tone}>{st.text}</Badge>{' '}
        Discovery started by {run.by} at <LocalTime iso={run.started} tz={tz} />
        {run.finished && <>, ended at <LocalTime iso={run.finished} tz={tz} /></>}.
      </p>
      {run.status === 'running' && (
        <>
          <p className="mt-2">
            Running for {Number.isNaN(started) ? '?' : Math.max(0, Math.round((Date.now() - started) / 1000))} s
            {watching ? '; checking every second.' : '.'} sbems ends a discovery after 5 minutes at most.
          </p>
          <progress className="mt-2 w-full" aria-label="Discovery in progress" />
        </>
      )}
      {gaveUp && run.status === 'running' && (
        <p className="mt-2">
          Stopped checking after 5 minutes.{' '}
          <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={onCheck}>Check again</button>
        </p>
      )}
      {run.status === 'failed' && <p className="mt-2">It failed: {run.error ?? 'no reason given'}.</p>}
      {run.status === 'partial' && <p className="mt-2">It reached its deadline before every device was read; what was found is below.</p>}
      {r && (
        <p className="mt-2">
          {devices} {devices === 1 ? 'device' : 'devices'} with {points} proposed {points === 1 ? 'point' : 'points'}
          {r.duration_ms !== undefined ? ` in ${(r.duration_ms / 1000).toFixed(1)} s` : ''}.
          {r.unanswered && r.unanswered.length > 0 && ` No answer from ${r.unanswered.join(', ')}.`}
        </p>
      )}
    </div>
  );
}

export function AdminDiscovery({ tz, pollMs = 1000, maxWatchMs = 300_000 }: { tz: string; pollMs?: number; maxWatchMs?: number }) {
  const client = useClient();
  const [run, setRun] = useState<DiscoveryRun | null>(null);
  const [watchFrom, setWatchFrom] = useState<number | null>(null);
  const [gaveUp, setGaveUp] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);

  const watch = useCallback(() => {
    setGaveUp(false);
    setWatchFrom(Date.now());
  }, []);

  // The last discovery, when the page opens.
  useEffect(() => {
    const ac = new AbortController();
    getDiscovery(client, ac.signal).then((r) => {
      setRun(r);
      if (r?.status === 'running') watch();
    }, (e: unknown) => {
      if (!ac.signal.aborted) setError(e);
    });
    return () => ac.abort();
  }, [client, watch]);

  // Poll while running, bounded.
  useEffect(() => {
    if (watchFrom === null) return undefined;
    let t: ReturnType<typeof setTimeout> | undefined;
    let stop = false;
    let failures = 0;
    const tick = async () => {
      if (Date.now() - watchFrom >= maxWatchMs) {
        setWatchFrom(null);
        setGaveUp(true);
        return;
      }
      try {
        const r = await getDiscovery(client);
        if (stop) return;
        failures = 0;
        setRun(r);
        if (!r || r.status !== 'running') {
          setWatchFrom(null);
          return;
        }
      } catch (e) {
        if (stop) return;
        failures++;
        if (e instanceof SessionEndedError || failures >= 5) {
          setError(e);
          setWatchFrom(null);
          return;
        }
      }
      t = setTimeout(() => void tick(), pollMs);
    };
    t = setTimeout(() => void tick(), pollMs);
    return () => {
      stop = true;
      if (t !== undefined) clearTimeout(t);
    };
  }, [watchFrom, client, pollMs, maxWatchMs]);

  async function start(args: DiscoverArgs) {
    setStarting(true);
    setError(null);
    setNotice(null);
    try {
      const r = await startDiscovery(client, args);
      if (!alive.current) return;
      setRun(r);
      watch();
    } catch (e) {
      if (!alive.current) return;
      const words = startRefusal(e);
      if (e instanceof ApiError && e.status === 409) {
        setNotice(words);
        watch();
      } else if (words) {
        setNotice(words);
      } else {
        setError(e);
      }
    } finally {
      if (alive.current) setStarting(false);
    }
  }

  const running = run?.status === 'running';
  return (
    <section aria-labelledby="disc-h" className="mt-8">
      <h2 id="disc-h" className="mb-2 text-lg font-semibold">BACnet discovery</h2>
      <AdminDiscoveryForm onStart={(a) => void start(a)} busy={starting || running} />
      {notice && <p role="alert" className="card mt-4 text-sm">{notice}</p>}
      {error !== null && <div className="mt-4"><AdminError error={error} /></div>}
      {run && <RunStatus run={run} tz={tz} watching={watchFrom !== null} gaveUp={gaveUp} onCheck={watch} />}
      {run && !running && run.result && <AdminProposals key={run.started} result={run.result} />}
    </section>
  );
}
