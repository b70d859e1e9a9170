/**
 * fetch() as the tests' sbems: a handler sees every request (method, path,
 * query, headers, parsed body) and answers with json() or empty().
 */
import { vi } from 'vitest';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function empty(status = 204): Response {
  return new Response(null, { status });
}

export function apiError(status: number, code: string, message = code, details?: unknown, headers: Record<string, string> = {}): Response {
  return json(status, { error: { code, message, ...(details ? { details } : {}) } }, headers);
}

export function mockFetch(handler: (c: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(input), 'http://sbems.test');
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const c: Call = {
      method: init?.method ?? 'GET',
      path: u.pathname,
      query: u.searchParams,
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      credentials: init?.credentials,
    };
    calls.push(c);
    return handler(c);
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

export function tokens(over: { token?: string; expires_in?: number; must_change_password?: boolean; roles?: string[] } = {}) {
  return {
    access_token: over.token ?? 'access-1',
    token_type: 'Bearer',
    expires_in: over.expires_in ?? 900,
    refresh_token: 'REFRESH-SECRET',
    refresh_expires_in: 2_592_000,
    user: { id: 1, username: 'vic', roles: over.roles ?? ['operator'], must_change_password: over.must_change_password ?? false },
  };
}
