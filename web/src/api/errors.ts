/**
 * API errors and the sentences the UI shows for them.
 *
 * The server's one error shape is {"error":{"code","message","details"}}
 * (docs/api.md, "Conventions"); its message is already written for a human,
 * so it is shown as is where it adds something, after a sentence that says
 * what the status means for the user.
 */
import type { ApiErrorBody } from './types';

export interface FieldError {
  field?: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[];
  /** seconds, from Retry-After (429, 503) */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details: FieldError[] = [],
              retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** The message of the detail naming field, if any. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((d) => d.field === field)?.message;
  }
}

/** fetch() itself failed: no answer from sbems at all. */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('network error');
    this.name = 'NetworkError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** The session is over (refresh refused, logged out): sign in again. */
export class SessionEndedError extends Error {
  constructor(message = 'Your session has ended. Please sign in again.') {
    super(message);
    this.name = 'SessionEndedError';
  }
}

/** Parse Retry-After: delay-seconds or an HTTP-date (RFC 9110 s.10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.ceil((t - now) / 1000));
}

/** Build an ApiError from a non-2xx answer, whatever its body. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retry = parseRetryAfter(res.headers.get('retry-after'));
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const e = (body as Partial<ApiErrorBody> | null)?.error;
  if (e && typeof e.code === 'string') {
    return new ApiError(res.status, e.code, typeof e.message === 'string' ? e.message : '',
                        Array.isArray(e.details) ? e.details : [], retry);
  }
  return new ApiError(res.status, `http_${res.status}`, res.statusText || '', [], retry);
}

function seconds(n: number): string {
  return n === 1 ? '1 second' : `${n} seconds`;
}

/** One readable sentence for any error the UI can meet. */
export function describeError(err: unknown): string {
  if (err instanceof SessionEndedError) return err.message;
  if (err instanceof NetworkError) {
    return 'Cannot reach sbems. Check the network connection; the page retries by itself.';
  }
  if (!(err instanceof ApiError)) {
    if (err instanceof DOMException && err.name === 'AbortError') return 'The request was cancelled.';
    return err instanceof Error && err.message ? err.message : 'Something went wrong.';
  }
  const server = err.message ? ` (${err.message})` : '';
  switch (err.code) {
    case 'invalid_credentials':
      return 'Wrong user name or password.';
    case 'too_many_attempts':
      return err.retryAfter !== null
        ? `Too many failed sign-ins. Try again in ${seconds(err.retryAfter)}.`
        : 'Too many failed sign-ins. Try again later.';
    case 'rate_limited':
      return err.retryAfter !== null
        ? `Too many requests. Try again in ${seconds(err.retryAfter)}.`
        : 'Too many requests. Try again shortly.';
    case 'token_expired':
    case 'invalid_token':
    case 'unauthenticated':
      return 'Your session has ended. Please sign in again.';
    case 'password_change_required':
      return 'You must choose a new password before going on.';
    case 'forbidden':
      return 'Your role does not allow this.';
    case 'not_found':
      return 'Not found, or not in the buildings you may see.';
    case 'not_writable':
      return 'This point cannot be commanded.';
    case 'rejected':
      return `The device refused the command${server}.`;
    case 'device_error':
      return `The device did not answer${server}.`;
    case 'not_implemented':
    case 'not_supported':
      return `Not available yet${server}.`;
    case 'busy':
    case 'unavailable':
      return `sbems cannot do this right now${server}.`;
    case 'invalid':
    case 'invalid_json':
    case 'bad_request': {
      const d = err.details.map((x) => x.message).join('; ');
      return d ? `Please check: ${d}.` : `The request was refused${server}.`;
    }
  }
  if (err.status === 504) return `The device did not answer in time${server}.`;
  if (err.status >= 500) return `sbems had a problem (HTTP ${err.status})${server}.`;
  return err.message || `The request failed (HTTP ${err.status}).`;
}
