/**
 * Scheduled building reports (GET/POST /api/v1/reports, GET/PUT/DELETE
 * /reports/{id}, POST /reports/{id}/run, GET /reports/{id}/files, GET
 * /report-files/{id}; src/api/h_reports.c) and the pure rules of their page:
 * a definition in words, a kept file's period in the building's zone, and
 * the form's checks before anything is sent.
 *
 * The checks are the server's (sb_analytics_report_check in
 * src/analytics/svc_report.c), so a refusal is caught on the field before
 * the request; the server's 400 message starts with the field it names
 * ("keep: 1..100 periods kept for download"), which fieldOf() reads so the
 * page can show the message as is beside that field.
 */
import type { ApiClient } from './client';
import { ApiError } from './errors';
import { emailError, webhookError } from './notify';
import { dayKey } from '../lib/enduse';

export type Frequency = 'daily' | 'weekly' | 'monthly';
export type ReportFormat = 'xlsx' | 'csv' | 'json';

export const FREQUENCIES: readonly Frequency[] = ['daily', 'weekly', 'monthly'];
export const REPORT_FORMATS: readonly ReportFormat[] = ['xlsx', 'csv', 'json'];

/**
 * A definition as the server stores it.  Members the creator left out stay
 * out of GET answers (the document is kept as sent), so the optional ones
 * carry the service's defaults: no e-mail, no webhook, keep 12, no
 * baseline, enabled.
 */
export interface ReportDef {
  id: string;
  building: string;
  name: string;
  frequency: Frequency;
  formats: ReportFormat[];
  email?: string[];
  webhook?: string | null;
  keep?: number;
  /** "YYYY-MM-DD/YYYY-MM-DD", local days, at least 300 days apart */
  baseline?: string | null;
  enabled?: boolean;
}

/** As GET lists it: the webhook's secret is never shown, only whether one is kept. */
export interface Report extends ReportDef {
  has_secret: boolean;
}

/** The answer to POST (and to a PUT that set a new webhook): the secret, this once. */
export interface SavedReport extends Report {
  webhook_secret?: string;
}

/** One kept file (GET /reports/{id}/files); times are RFC 3339 UTC, [from, to) local midnights. */
export interface ReportFile {
  id: number;
  report: string;
  building: string;
  format: ReportFormat;
  name: string;
  from: string;
  to: string;
  created: string;
  bytes: number;
}

/** A file made by a run (POST /reports/{id}/run answers these, without the period). */
export interface RunFile {
  id: number;
  name: string;
  format: ReportFormat;
  bytes: number;
  created: string;
}

/** svc_report.c run_period: a definition without "keep" keeps 12 periods. */
export const KEEP_DEFAULT = 12;
export const KEEP_MAX = 100;
/** MAX_EMAILS in svc_report.c. */
export const EMAIL_MAX_COUNT = 20;
/** local_period_ok: the baseline's last day is at least this many days after its first. */
export const BASELINE_MIN_DAYS = 300;
/** SB_NOTIFY_TARGET_MAX (src/alerts/notify.h): the URL must be shorter. */
const WEBHOOK_MAX = 512;
/** SB_SLUG_MAX (src/model/slug.h): a slug is shorter than this. */
const SLUG_MAX = 64;

const path = (id: string) => `/api/v1/reports/${encodeURIComponent(id)}`;

// ---- calls --------------------------------------------------------------------------------

/** The list takes only ?building (no limit or cursor), so not listAll. */
export async function listReports(c: ApiClient, building: string, signal?: AbortSignal): Promise<Report[]> {
  const page = await c.get<{ items: Report[] }>('/api/v1/reports', { building }, signal);
  return page.items;
}

export function createReport(c: ApiClient, def: ReportDef): Promise<SavedReport> {
  return c.request<SavedReport>('POST', '/api/v1/reports', { body: def });
}

/** PUT replaces the whole definition; the id in the body must be the one in the path. */
export function putReport(c: ApiClient, def: ReportDef): Promise<SavedReport> {
  return c.request<SavedReport>('PUT', path(def.id), { body: def });
}

export async function deleteReport(c: ApiClient, id: string): Promise<void> {
  await c.request<void>('DELETE', path(id));
}

/** No day: the last complete period; a day: the period holding it (400 if it has not ended). */
export async function runReport(c: ApiClient, id: string, day?: string): Promise<RunFile[]> {
  const r = await c.request<{ files: RunFile[] }>('POST', `${path(id)}/run`, { body: day ? { day } : {} });
  return r.files;
}

export async function listReportFiles(c: ApiClient, id: string, signal?: AbortSignal): Promise<ReportFile[]> {
  const page = await c.get<{ items: ReportFile[] }>(`${path(id)}/files`, undefined, signal);
  return page.items;
}

/** The file's bytes with the token in a header (never in a URL), and its name. */
export async function downloadReportFile(c: ApiClient, f: Pick<ReportFile, 'id' | 'name'>): Promise<{ blob: Blob; name: string }> {
  const r = await c.download(`/api/v1/report-files/${f.id}`);
  return { blob: r.blob, name: r.filename ?? f.name };
}

/** The list's copy of a saved definition: the secret must not live on in it. */
export function withoutSecret(r: SavedReport): Report {
  const { webhook_secret: _secret, ...rest } = r;
  return rest;
}

// ---- in words -----------------------------------------------------------------------------

export const FREQUENCY_TEXT: Record<Frequency, string> = { daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly' };

/** What a period is and when sbems makes it (svc_reports_due: 06:00 local the day after). */
export const FREQUENCY_WORDS: Record<Frequency, string> = {
  daily: 'Daily: each day, made after 06:00 the next morning',
  weekly: 'Weekly: Monday to Sunday, made after 06:00 the next Monday',
  monthly: 'Monthly: each calendar month, made after 06:00 on the 1st of the next',
};

export const FORMAT_TEXT: Record<ReportFormat, string> = { xlsx: 'Excel (XLSX)', csv: 'CSV', json: 'JSON' };

export function frequencyWords(f: string): string {
  return FREQUENCY_WORDS[f as Frequency] ?? f;
}

export function formatsWords(fs: readonly string[]): string {
  return fs.map((f) => FORMAT_TEXT[f as ReportFormat] ?? f).join(', ');
}

/** "850 bytes", "12.3 KB", "1.4 MB". */
export function sizeWords(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** "2025-01-01/2025-12-31" -> "2025-01-01 to 2025-12-31". */
export function baselineWords(b: string | null | undefined): string {
  if (!b) return 'none';
  const [from, to] = b.split('/');
  return `${from} to ${to}`;
}

/** A kept file's period as local days in tz: "2026-11-16 to 2026-11-22", or one day. */
export function periodWords(f: Pick<ReportFile, 'from' | 'to'>, tz: string): string {
  const from = Date.parse(f.from);
  const to = Date.parse(f.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return `${f.from} to ${f.to}`;
  const first = dayKey(from, tz);
  const last = dayKey(to - 1, tz); // [from, to): the last day is the one before local midnight
  return first === last ? first : `${first} to ${last}`;
}

/** Where a run's files go, in words ("2 e-mail addresses and the webhook"), or null for nowhere. */
export function deliveryWords(r: Pick<ReportDef, 'email' | 'webhook'>): string | null {
  const n = r.email?.length ?? 0;
  const parts = [
    n === 1 ? `the e-mail address ${r.email?.[0] ?? ''}` : n > 1 ? `${n} e-mail addresses` : '',
    r.webhook ? 'the webhook' : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' and ') : null;
}

// ---- the form -----------------------------------------------------------------------------

export interface ReportDraft {
  id: string;
  name: string;
  frequency: Frequency;
  formats: ReportFormat[];
  /** addresses, one a line (commas and spaces also part them) */
  email: string;
  /** '' = no webhook */
  webhook: string;
  keep: string;
  /** both '' = no baseline */
  baselineFrom: string;
  baselineTo: string;
  enabled: boolean;
}

export type ReportField = 'id' | 'name' | 'frequency' | 'formats' | 'email' | 'webhook' | 'keep' | 'baseline' | 'enabled';
const FIELDS: readonly ReportField[] = ['id', 'name', 'frequency', 'formats', 'email', 'webhook', 'keep', 'baseline', 'enabled'];

export function emptyDraft(): ReportDraft {
  return { id: '', name: '', frequency: 'weekly', formats: ['xlsx'], email: '', webhook: '', keep: String(KEEP_DEFAULT),
           baselineFrom: '', baselineTo: '', enabled: true };
}

export function draftOf(r: ReportDef): ReportDraft {
  const [from = '', to = ''] = r.baseline ? r.baseline.split('/') : [];
  return {
    id: r.id, name: r.name, frequency: r.frequency, formats: [...r.formats], email: (r.email ?? []).join('\n'),
    webhook: r.webhook ?? '', keep: String(r.keep ?? KEEP_DEFAULT), baselineFrom: from, baselineTo: to, enabled: r.enabled ?? true,
  };
}

/** A suggested id from a name: "HQ weekly energy" -> "hq-weekly-energy". */
export function slugOf(name: string): string {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '').slice(0, SLUG_MAX - 1).replace(/-+$/, '');
}

const SLUG = /^[a-z0-9][a-z0-9_.-]*$/;
const DAY = /^(\d{4})-(\d\d)-(\d\d)$/;

/** Days since 1970-01-01 of a real calendar date, else null. */
function dayNumber(s: string): number | null {
  const m = DAY.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? t / 86_400_000 : null;
}

/** The addresses of the e-mail field, without blanks or repeats. */
export function emailList(s: string): string[] {
  return [...new Set(s.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean))];
}

function baselineError(from: string, to: string): string | null {
  if (!from && !to) return null;
  if (!from || !to) return 'Give both days, or neither for no savings baseline.';
  const a = dayNumber(from);
  const b = dayNumber(to);
  if (a === null || b === null) return 'Days are dates like 2025-01-01.';
  if (b < a + BASELINE_MIN_DAYS) return `The baseline must span at least ${BASELINE_MIN_DAYS} days (its last day ${BASELINE_MIN_DAYS} or more days after its first); a year is usual.`;
  return null;
}

/** The body to send for a draft of building's report, or the messages for its fields. */
export function buildReport(d: ReportDraft, building: string): { body?: ReportDef; errors: Partial<Record<ReportField, string>> } {
  const errors: Partial<Record<ReportField, string>> = {};
  const id = d.id.trim();
  const name = d.name.trim();
  if (!SLUG.test(id) || id.length >= SLUG_MAX) {
    errors.id = `Lower-case letters, digits and - _ . (starting with a letter or digit), at most ${SLUG_MAX - 1} characters.`;
  }
  const nameBytes = new TextEncoder().encode(name).length;
  if (nameBytes === 0) errors.name = 'Give the report a name.';
  else if (nameBytes > 200) errors.name = 'At most 200 bytes (about 200 letters).';
  if (!FREQUENCIES.includes(d.frequency)) errors.frequency = 'Choose daily, weekly or monthly.';
  const formats = REPORT_FORMATS.filter((f) => d.formats.includes(f));
  if (formats.length === 0) errors.formats = 'Choose at least one format.';
  const email = emailList(d.email);
  if (email.length > EMAIL_MAX_COUNT) errors.email = `At most ${EMAIL_MAX_COUNT} addresses.`;
  const bad = email.find((a) => emailError(a) !== null);
  if (bad !== undefined) errors.email = `${bad}: not a plain address like name@example.com (no name or quotes).`;
  const webhook = d.webhook.trim();
  if (webhook) {
    const e = webhook.length >= WEBHOOK_MAX ? `At most ${WEBHOOK_MAX - 1} characters.` : webhookError(webhook);
    if (e) errors.webhook = e;
  }
  const keep = Number(d.keep);
  if (!/^\s*\d+\s*$/.test(d.keep) || keep < 1 || keep > KEEP_MAX) errors.keep = `A whole number from 1 to ${KEEP_MAX}.`;
  const be = baselineError(d.baselineFrom.trim(), d.baselineTo.trim());
  if (be) errors.baseline = be;
  if (Object.keys(errors).length) return { errors };
  return {
    body: {
      id, building, name, frequency: d.frequency, formats, email, webhook: webhook || null, keep,
      baseline: d.baselineFrom ? `${d.baselineFrom.trim()}/${d.baselineTo.trim()}` : null, enabled: d.enabled,
    },
    errors,
  };
}

/**
 * The form field a server refusal names: details carry it ("building",
 * "id"); the definition check puts it first in the message
 * ("email[2]: an e-mail address").  Undefined: not one of the form's.
 */
export function fieldOf(e: unknown): ReportField | undefined {
  if (!(e instanceof ApiError)) return undefined;
  const named = e.details.find((x) => x.field)?.field ?? /^([a-z_]+)(\[\d+\])?:/.exec(e.message)?.[1];
  return FIELDS.find((f) => f === named);
}
