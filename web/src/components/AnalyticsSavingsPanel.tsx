/**
 * "Forecast, baseline, savings and cost": GET /api/v1/analytics/savings
 * answers 501 until the analytics engine (forecasting, M&V baselines,
 * tariffs and cost) arrives, and the panel says so in one line.  A 200 from a
 * later server shows nothing yet (the issue that brings the engine fills the
 * panel); no figure is ever made up here.
 */
import { useClient } from '../auth/AuthContext';
import { ApiError } from '../api/errors';
import { useAsync } from '../lib/useAsync';
import { ErrorBox } from './ui';

export const NOT_YET = 'Forecasts, savings against a baseline and costs come with the analytics engine (not yet available on this server).';

export function AnalyticsSavingsPanel({ building }: { building: string }) {
  const client = useClient();
  const r = useAsync((signal) => client.request<unknown>('GET', '/api/v1/analytics/savings', { query: { building }, signal }), [building]);
  if (r.loading || !r.error) return null; // 200: the later issue fills this in
  const later = r.error instanceof ApiError && r.error.status === 501;
  return (
    <section aria-labelledby="savings-h" className="mb-6">
      <h2 id="savings-h" className="mb-2 text-lg font-semibold">Forecast, baseline, savings and cost</h2>
      {later ? <p className="muted card text-sm">{NOT_YET}</p> : <ErrorBox error={r.error} onRetry={r.reload} />}
    </section>
  );
}
