/**
 * Alert notification subscriptions (GET/POST /api/v1/alert-subscriptions,
 * DELETE .../{id}; src/api/h_alerts.c) and the pure rules of their page:
 * a subscription in words, and the form's checks before anything is sent.
 *
 * The checks follow what the server and the notifier accept, so a refusal
 * is caught here rather than at 3 a.m. when a notice fails:
 *  - webhook: the API wants "http://" or "https://" (lower case) and the
 *    store printable ASCII without spaces; the notifier refuses an empty
 *    host (src/alerts/notify.c url_ok).
 *  - e-mail: the API only wants one "@", but the notifier sends to a plain
 *    dot-atom address on a host name (notify.c addr_ok), so that is checked.
 *  - MQTT: the notifier publishes to <alerts.mqtt_topic>/<building>/<severity>
 *    and ignores the target, so none is sent.
 *  - quiet hours: both or none, HH:MM; equal times would never be quiet
 *    (src/alerts/service.c quiet), so they are refused.
 *  - level: 0 hears of an alert when it is raised; 1..3 when it is still not
 *    acknowledged after level x alerts.escalate_after, which the list gives
 *    as escalate_after_s (0: nothing escalates on that server).  Sent only
 *    when not 0 (the server's default).
 */
import type { ApiClient } from './client';
import type { Severity } from './alerts';
import { durationWords } from './alerts';

export type Channel = 'webhook' | 'email' | 'mqtt';
export const CHANNELS: readonly Channel[] = ['webhook', 'email', 'mqtt'];
export const CHANNEL_TEXT: Record<Channel, string> = { webhook: 'Webhook', email: 'E-mail', mqtt: 'MQTT' };

/** A subscription as the server lists it (the secret is never listed; has_secret says one is stored). */
export interface Subscription {
  id: number;
  user: string;
  channel: Channel;
  /** URL, address, or '' for MQTT */
  target: string;
  /** null: every building the user may see */
  building: string | null;
  /** null: every severity */
  min_severity: Severity | null;
  quiet_start: string | null;
  quiet_end: string | null;
  has_secret: boolean;
  enabled: boolean;
  /** 0: when an alert is raised; 1..3: when it is still not acknowledged after level x escalate_after */
  level: number;
}

/** The creation answer: a webhook's HMAC key is in it, and only in it. */
export interface CreatedSubscription extends Subscription {
  secret?: string;
}

/** What POST takes (absent members mean "all" or "none"). */
export interface NewSubscription {
  channel: Channel;
  target?: string;
  building?: string;
  min_severity?: Severity;
  quiet_start?: string;
  quiet_end?: string;
  /** 1..3; absent = 0 */
  level?: number;
}

/** The list and what a level means in time. */
export interface SubscriptionList {
  items: Subscription[];
  /** alerts.escalate_after in seconds; 0: nothing escalates; null: the server did not say */
  escalateAfterS: number | null;
}

/** Escalation levels a subscription may hear (SB_ALERT_SUB_LEVEL_MAX, src/db/appdb.h). */
export const LEVELS = [0, 1, 2, 3] as const;

/** At most this many per user (SB_ALERT_SUBS_MAX, src/db/appdb.h). */
export const SUBS_MAX = 64;
/** Bytes of a target (SB_ALERT_TARGET_MAX); an address is at most 254 (SB_EMAIL_MAX). */
export const TARGET_MAX = 512;
export const EMAIL_MAX = 254;

/** The list takes no query at all (the server refuses limit and cursor), so not listAll. */
export async function listSubscriptions(c: ApiClient, signal?: AbortSignal): Promise<SubscriptionList> {
  const page = await c.get<{ items: Subscription[]; escalate_after_s?: number }>('/api/v1/alert-subscriptions', undefined, signal);
  return { items: page.items, escalateAfterS: typeof page.escalate_after_s === 'number' ? page.escalate_after_s : null };
}

export function createSubscription(c: ApiClient, s: NewSubscription): Promise<CreatedSubscription> {
  return c.request<CreatedSubscription>('POST', '/api/v1/alert-subscriptions', { body: s });
}

export async function deleteSubscription(c: ApiClient, id: number): Promise<void> {
  await c.request<void>('DELETE', `/api/v1/alert-subscriptions/${id}`);
}

/** The list's copy of a created subscription: the secret must not live on in the list. */
export function withoutSecret(s: CreatedSubscription): Subscription {
  const { secret: _secret, ...rest } = s;
  return rest;
}

// ---- in words -----------------------------------------------------------------------------

/** "major and more severe"; critical stands alone, info (like none) takes every severity. */
export function severityWords(s: Severity | null | undefined): string {
  switch (s) {
    case 'critical':
      return 'critical only';
    case 'major':
      return 'major and more severe';
    case 'minor':
      return 'minor and more severe';
    case 'info':
      return 'every severity (info and more severe)';
    default:
      return 'every severity';
  }
}

/** "quiet 22:00–06:00, building time", or "no quiet hours". */
export function quietWords(s: Pick<Subscription, 'quiet_start' | 'quiet_end'>): string {
  return s.quiet_start && s.quiet_end ? `quiet ${s.quiet_start}–${s.quiet_end}, building time` : 'no quiet hours';
}

/** "Level 2: if not acknowledged after 2 × 30 min (1 h)", "When raised (level 0)": the form's choices. */
export function levelChoice(level: number, escalateAfterS: number | null): string {
  return level === 0 ? 'When raised (level 0)' : `Level ${level}: ${levelWords(level, escalateAfterS)}`;
}

/**
 * When a level hears of an alert: "when raised", "if not acknowledged after 2 × 30 min (1 h)";
 * without the interval, "… after 2 × the escalation interval".
 */
export function levelWords(level: number | undefined, escalateAfterS: number | null): string {
  const n = level ?? 0;
  if (n === 0) return 'when raised';
  if (!escalateAfterS) return `if not acknowledged after ${n} × the escalation interval`;
  const each = durationWords(escalateAfterS);
  return n === 1 ? `if not acknowledged after 1 × ${each}` : `if not acknowledged after ${n} × ${each} (${durationWords(n * escalateAfterS)})`;
}

export function buildingWords(slug: string | null, nameOf: (slug: string) => string | undefined): string {
  return slug ? nameOf(slug) ?? slug : 'all your buildings';
}

/** Where a notice goes, in words. */
export function targetWords(s: Pick<Subscription, 'channel' | 'target'>): string {
  if (s.channel === 'mqtt') return "sbems's MQTT alert topic, per building and severity";
  return s.target;
}

/** One sentence naming a subscription (dialogs, announcements, button names). */
export function subscriptionName(s: Pick<Subscription, 'channel' | 'target'>): string {
  if (s.channel === 'mqtt') return 'the MQTT notification';
  return `the ${s.channel === 'email' ? 'e-mail' : 'webhook'} notification to ${s.target}`;
}

// ---- the form's checks ----------------------------------------------------------------------

export interface Draft {
  channel: Channel;
  target: string;
  /** '' = all your buildings */
  building: string;
  /** '' = every severity */
  min_severity: Severity | '';
  quiet_start: string;
  quiet_end: string;
  /** '0'..'3' as the select holds it */
  level: string;
}

export type DraftField = 'channel' | 'target' | 'building' | 'min_severity' | 'quiet' | 'level';

export function emptyDraft(): Draft {
  return { channel: 'webhook', target: '', building: '', min_severity: 'major', quiet_start: '', quiet_end: '', level: '0' };
}

const PRINTABLE = /^[\x21-\x7e]+$/;
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const DOT_ATOM = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`);
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

export function webhookError(url: string): string | null {
  if (!url) return 'Enter the URL that receives the alerts.';
  if (!/^https?:\/\//.test(url)) return 'The URL starts with https:// (or http://).';
  if (!PRINTABLE.test(url)) return 'No spaces or non-ASCII characters (percent-encode them).';
  if (url.length > TARGET_MAX) return `At most ${TARGET_MAX} characters.`;
  const rest = url.slice(url.indexOf('//') + 2);
  if (!rest || rest.startsWith('/')) return 'The URL needs a host name after //.';
  try {
    new URL(url);
  } catch {
    return 'This is not a valid URL.';
  }
  return null;
}

export function emailError(addr: string): string | null {
  if (!addr) return 'Enter the address that receives the alerts.';
  const at = addr.lastIndexOf('@');
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  const ok = at > 0 && at <= 64 && addr.length <= EMAIL_MAX && !local.includes('@') && DOT_ATOM.test(local) &&
    domain.split('.').every((l) => LABEL.test(l));
  return ok ? null : 'Enter one plain address, like name@example.com (no name, list or spaces).';
}

/** HH:MM from what was typed: "7:30" -> "07:30"; anything else as typed. */
export function normaliseTime(s: string): string {
  const t = s.trim();
  return /^\d:\d\d$/.test(t) ? `0${t}` : t;
}

export function quietError(start: string, end: string): string | null {
  if (!start && !end) return null;
  if (!start || !end) return 'Give both times, or neither for no quiet hours.';
  if (!HHMM.test(start) || !HHMM.test(end)) return 'Times are HH:MM on a 24-hour clock, like 22:00.';
  if (start === end) return 'The two times are the same, so it would never be quiet; give different times or none.';
  return null;
}

/** The POST body for a draft, or the messages to show on its fields. */
export function buildSubscription(d: Draft): { body?: NewSubscription; errors: Partial<Record<DraftField, string>> } {
  const errors: Partial<Record<DraftField, string>> = {};
  const target = d.target.trim();
  const body: NewSubscription = { channel: d.channel };
  if (d.channel === 'webhook') {
    const e = webhookError(target);
    if (e) errors.target = e;
    body.target = target;
  } else if (d.channel === 'email') {
    const e = emailError(target);
    if (e) errors.target = e;
    body.target = target;
  }
  if (d.building) body.building = d.building;
  if (d.min_severity) body.min_severity = d.min_severity;
  const qs = normaliseTime(d.quiet_start);
  const qe = normaliseTime(d.quiet_end);
  const qErr = quietError(qs, qe);
  if (qErr) errors.quiet = qErr;
  else if (qs && qe) Object.assign(body, { quiet_start: qs, quiet_end: qe });
  const level = Number(d.level);
  if (!Number.isInteger(level) || level < 0 || level > LEVELS.length - 1) errors.level = 'Choose when to be told.';
  else if (level > 0) body.level = level;
  return Object.keys(errors).length ? { errors } : { body, errors };
}

/** The server's 400 detail fields -> this form's fields (both quiet times share one fieldset). */
export const SERVER_FIELD: Record<string, DraftField> = {
  channel: 'channel', target: 'target', building: 'building', min_severity: 'min_severity',
  quiet_start: 'quiet', quiet_end: 'quiet', level: 'level',
};
