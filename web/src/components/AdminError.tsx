/**
 * An API error in words, with the server's per-field details (the
 * `details` of its one error shape) listed under labels the page chooses.
 */
import { ApiError, describeError } from '../api/errors';

const FIELD_CODES = new Set(['invalid', 'invalid_json', 'bad_request']);

export function AdminError({ error, label }: { error: unknown; label?: (field: string | undefined) => string }) {
  const details = error instanceof ApiError ? error.details : [];
  const lead = error instanceof ApiError && details.length > 0 && FIELD_CODES.has(error.code)
    ? 'sbems refused these values:'
    : describeError(error);
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p>{lead}</p>
      {details.length > 0 && (
        <ul className="mt-1 list-disc pl-5">
          {details.map((d, i) => (
            <li key={i} className="[overflow-wrap:anywhere]">
              {d.field ? <span className="font-semibold">{label ? label(d.field) : d.field}: </span> : null}
              {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
