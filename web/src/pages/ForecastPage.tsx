/**
 * Load forecasts of one building (/buildings/:building/forecast/): per meter,
 * main meters first, the next 24/48/72 h with the interval, the model, its
 * backtest in words, and the last week's forecasts against measured.
 *
 * Requests on load: the building, its meters and the model status (which
 * says which meters have a forecaster, and why the others have none); then
 * the chosen meter's forecast and accuracy, only when its model is ready
 * (a meter without one would only be refused with 409).
 */
import { useId, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useClient } from '../auth/AuthContext';
import { models, statusWords } from '../api/analytics';
import type { MeterModel } from '../api/analytics';
import type { Equipment } from '../api/types';
import { ForecastMeter } from '../components/ForecastMeter';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { safeZone, zoneAbbreviation } from '../lib/time';
import { useAsync } from '../lib/useAsync';

export interface MeterChoice {
  id: string;
  name: string;
  main: boolean;
  status: MeterModel | undefined;
}

/**
 * The meters to forecast, main meters (no parent) first, each in model
 * order: those the analytics service lists (a meter with an energy or power
 * point), or every meter when the status is not known.
 */
export function meterChoices(building: string, equipment: readonly Equipment[], status: readonly MeterModel[] | null): MeterChoice[] {
  const byId = new Map((status ?? []).map((m) => [m.meter, m]));
  const list = equipment
    .filter((e) => e.building === building && e.type === 'meter' && (!status || byId.has(e.id)))
    .map((e) => ({ id: e.id, name: e.name, main: !e.parent, status: byId.get(e.id) }));
  return [...list.filter((m) => m.main), ...list.filter((m) => !m.main)];
}

export default function ForecastPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const id = useId();
  const data = useAsync(async (signal) => {
    const [building, equipment, status] = await Promise.all([
      client.building(bid, signal),
      client.equipment({ building: bid, type: 'meter' }, signal),
      // without the analytics service the page still lists the meters; the forecast then says why
      models(client, bid, signal).catch((e: unknown) => (signal.aborted ? Promise.reject(e) : { error: e })),
    ]);
    return { building, equipment, status };
  }, [bid]);
  const [chosen, setChosen] = useState<string | null>(null);

  const choices = useMemo(() => {
    if (!data.data) return [];
    const s = data.data.status;
    return meterChoices(bid, data.data.equipment, 'meters' in s ? s.meters : null);
  }, [data.data, bid]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Loading label="Loading the meters…" />;
  const b = data.data.building;
  const tz = safeZone(b.timezone);
  const statusError = 'error' in data.data.status ? data.data.status.error : null;
  const meter = choices.find((m) => m.id === chosen) ?? choices[0];

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> / <Link to={`/buildings/${encodeURIComponent(bid)}/`} className="link">{b.name}</Link> /{' '}
        <Link to={`/buildings/${encodeURIComponent(bid)}/analytics/`} className="link">Analytics</Link> / Forecast
      </nav>
      <PageTitle sub={`${b.name} · times in ${tz} (${zoneAbbreviation(Date.now(), tz)})`}>Load forecast</PageTitle>
      {statusError !== null && <ErrorBox error={statusError} onRetry={data.reload} />}
      {!meter ? (
        <p className="muted">This building has no meter with an energy or power point to forecast.</p>
      ) : (
        <>
          <div className="mb-4 max-w-md">
            <label htmlFor={`${id}-meter`} className="label">Meter</label>
            <select id={`${id}-meter`} className="input" value={meter.id} onChange={(e) => setChosen(e.target.value)}>
              {choices.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}{m.main ? ' (main)' : ''}{m.status ? ` — ${statusWords(m.status.status).toLowerCase()}` : ''}
                </option>
              ))}
            </select>
          </div>
          <section aria-labelledby={`${id}-h`}>
            <h2 id={`${id}-h`} className="mb-2 text-lg font-semibold">{meter.name}</h2>
            <ForecastMeter key={meter.id} meter={meter.id} name={meter.name} status={meter.status} tz={tz} />
          </section>
        </>
      )}
      <p className="muted mt-6 text-sm">
        The state of every model of the building: <Link className="link" to={`/buildings/${encodeURIComponent(bid)}/models/`}>Models</Link>.
      </p>
    </>
  );
}
