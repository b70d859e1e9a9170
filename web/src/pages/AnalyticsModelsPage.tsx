/**
 * The analytics models of one building (/buildings/:building/models/): each
 * meter's load forecaster and each zone's thermal model, with its status in
 * words (ready, not enough data, not trained yet, training failed), when it
 * was trained, the chosen model and its scores, and the service's message.
 * Managers retrain one model, or all of the building's, now (POST
 * /analytics/models/retrain: 202, queued; the service trains in the
 * background, one model at a time).
 *
 * Requests on load: the building, its meters and zones (for names) and the
 * status (4).
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import { delta, modelName, models, pct, readable, retrain, serverWords, STATUS_TONE, statusWords } from '../api/analytics';
import type { MeterModel, ZoneModel } from '../api/analytics';
import { useAuth, useClient } from '../auth/AuthContext';
import { Badge, ErrorBox, Loading, PageTitle, ScrollRegion } from '../components/ui';
import { formatDateTime, safeZone, zoneAbbreviation } from '../lib/time';
import { usePrefs } from '../lib/prefs';
import type { UnitPrefs } from '../lib/units';
import { useAsync } from '../lib/useAsync';

type Result = { state: 'pending' } | { state: 'queued' } | { state: 'failed'; text: string };

/** The pooled backtest of a meter's chosen model: "CV(RMSE) 4.8 %, interval held 90.1 %". */
export function meterScores(m: MeterModel): string {
  const r = m.report;
  const s = r?.models[r.chosen]?.[r.buckets.length];
  if (!r || m.status !== 'ok' || !s || s.n === 0) return '—';
  return `${modelName(r.chosen)}: CV(RMSE) ${pct(s.cvrmse)} over 1–72 h, ${pct(r.level, 0)} interval held ${pct(s.coverage)}`;
}

export function zoneScores(z: ZoneModel, units: UnitPrefs): string {
  const s = z.scores;
  if (z.status !== 'ok' || !s) return '—';
  return `${z.structure ? `${z.structure} network: ` : ''}within ${delta(s.rmse_24h, units)} over 24 h (worst ${delta(s.max_24h, units)}), ${delta(s.rmse_1step, units)} 15 min ahead`;
}

function RetrainButton({ target, label, result, onRetrain }: { target: string; label: string; result: Result | undefined; onRetrain: (t: string) => void }) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" aria-label={`Retrain now: ${label}`}
              disabled={result?.state === 'pending'} onClick={() => onRetrain(target)}>
        Retrain now
      </button>
      <span role="status" className={`text-xs ${result?.state === 'failed' ? 'text-red-700 dark:text-red-300' : ''}`}>
        {result?.state === 'pending' ? 'Asking…' : result?.state === 'queued' ? 'Queued: it retrains in the background; reload to see the result.' : result?.state === 'failed' ? result.text : ''}
      </span>
    </div>
  );
}

interface Row {
  key: string;
  name: string;
  status: MeterModel['status'];
  trained?: string;
  scores: string;
  message: string;
}

function Table({ caption, rows, tz, canEdit, results, onRetrain }: {
  caption: string; rows: Row[]; tz: string; canEdit: boolean; results: Record<string, Result>; onRetrain: (t: string) => void;
}) {
  if (rows.length === 0) return <p className="muted text-sm">None.</p>;
  return (
    <ScrollRegion label={caption} className="card overflow-x-auto">
      <table className="w-full min-w-[48rem] text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr className="text-left">
            <th scope="col" className="py-1 pr-3">Name</th>
            <th scope="col" className="py-1 pr-3">Status</th>
            <th scope="col" className="py-1 pr-3">Trained</th>
            <th scope="col" className="py-1 pr-3">Model and scores</th>
            <th scope="col" className="py-1 pr-3">Message</th>
            {canEdit && <th scope="col" className="py-1"><span className="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} className="border-t border-slate-200 align-top dark:border-slate-700">
              <th scope="row" className="py-2 pr-3 text-left font-medium">{r.name}<span className="muted block text-xs font-normal">{r.key}</span></th>
              <td className="py-2 pr-3"><Badge tone={STATUS_TONE[r.status] ?? 'neutral'}>{statusWords(r.status)}</Badge></td>
              <td className="py-2 pr-3">{r.trained ? formatDateTime(Date.parse(r.trained), tz) : 'never'}</td>
              <td className="py-2 pr-3">{r.scores}</td>
              <td className="py-2 pr-3">{r.message ? readable(r.message) : ''}</td>
              {canEdit && <td className="py-2"><RetrainButton target={r.key} label={r.name} result={results[r.key]} onRetrain={onRetrain} /></td>}
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export default function AnalyticsModelsPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const { units } = usePrefs();
  const canEdit = hasRole(user?.roles, 'manager');
  const data = useAsync(async (signal) => {
    const [building, equipment, zones, status] = await Promise.all([
      client.building(bid, signal), client.equipment({ building: bid, type: 'meter' }, signal), client.zones(bid, signal), models(client, bid, signal),
    ]);
    return { building, equipment, zones, status };
  }, [bid]);
  const [results, setResults] = useState<Record<string, Result>>({});

  async function onRetrain(target: string) {
    setResults((r) => ({ ...r, [target]: { state: 'pending' } }));
    try {
      const a = await retrain(client, target);
      setResults((r) => ({ ...r, [target]: a.status === 'queued' ? { state: 'queued' } : { state: 'failed', text: a.status } }));
    } catch (e) {
      setResults((r) => ({ ...r, [target]: { state: 'failed', text: `Not queued: ${serverWords(e)}` } }));
    }
  }

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the models…" />;
  const { building: b, equipment, zones, status } = data.data;
  const tz = safeZone(b.timezone);
  const meterName = new Map(equipment.map((e) => [e.id, e.name]));
  const zoneName = new Map(zones.map((z) => [z.id, z.name]));
  const meters: Row[] = status.meters.map((m) => ({ key: m.meter, name: meterName.get(m.meter) ?? m.meter, status: m.status, trained: m.trained, scores: meterScores(m), message: m.status === 'ok' ? '' : m.message }));
  const zrows: Row[] = status.zones.map((z) => ({ key: z.zone, name: zoneName.get(z.zone) ?? z.zone, status: z.status, trained: z.trained, scores: zoneScores(z, units), message: z.message }));
  const count = (rows: Row[]) => `${rows.filter((r) => r.status === 'ok').length} of ${rows.length} ready`;

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(bid)}/`} className="link">{b.name}</Link> /{' '}
        <Link to={`/buildings/${encodeURIComponent(bid)}/analytics/`} className="link">Analytics</Link> / Models
      </nav>
      <PageTitle sub={`${b.name} · times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Analytics models</PageTitle>
      <p className="mb-4 max-w-3xl text-sm">
        sbems retrains every model at night (at least 90 days of meter data with 90 % coverage for a load forecaster; the last 28 days
        with the HVAC heat measurable for a zone). A model that cannot be trained says why, and nothing is made up in its place.
      </p>
      {canEdit && (
        <div className="mb-4">
          <RetrainButton target={bid} label={`every model of ${b.name}`} result={results[bid]} onRetrain={(t) => void onRetrain(t)} />
        </div>
      )}
      <section aria-labelledby="models-m" className="mb-6">
        <h2 id="models-m" className="mb-2 text-lg font-semibold">Load forecasters <span className="muted text-sm font-normal">({count(meters)})</span></h2>
        <Table caption="Load forecasters of the meters" rows={meters} tz={tz} canEdit={canEdit} results={results} onRetrain={(t) => void onRetrain(t)} />
      </section>
      <section aria-labelledby="models-z" className="mb-6">
        <h2 id="models-z" className="mb-2 text-lg font-semibold">Zone thermal models <span className="muted text-sm font-normal">({count(zrows)})</span></h2>
        <Table caption="Thermal models of the zones" rows={zrows} tz={tz} canEdit={canEdit} results={results} onRetrain={(t) => void onRetrain(t)} />
      </section>
    </>
  );
}
