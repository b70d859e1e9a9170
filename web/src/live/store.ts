/**
 * The newest reading of every point the page watches, fed by the WebSocket
 * (and by REST answers), with staleness.
 *
 * A value is stale when the server says so: quality bit 0 (SB_Q_STALE in
 * src/store/sample.h), which sbems sets on the held value when the driver
 * framework has had no good read and no COV confirmation of the point for
 * drivers.stale_factor = 3 poll intervals, and clears when it is fresh
 * again (the same reading re-sent with the new quality).  Its age alone says
 * nothing while the link is up: a point kept current by COV, or a meter whose
 * value holds, sends no new reading.  While the link is down (connecting,
 * offline: a stopped daemon, a dead path), no flag can arrive, so a value
 * older than STALE_FACTOR poll intervals of its point by the page's clock is
 * stale too.  Points without a poll interval (pushed: MQTT, virtual) are
 * judged by the flag alone.
 *
 * Readings are indexed by the integer point_id that the WebSocket uses; the
 * store maps slugs to ids from the point list (describe()).  A reading older
 * than the one held is ignored (frames may interleave with REST answers).
 */
import type { Point } from '../api/types';

export interface Reading {
  /** value in the point's canonical unit */
  v: number;
  /** source time, ms since the epoch */
  t: number;
  /** SB_Q_* flags: 1 stale, 2 fault, 4 overridden, 8 estimated */
  q: number;
}

export interface PointMeta {
  id: number;
  slug: string;
  /** poll interval, ms; null = pushed (no age rule) */
  pollMs: number | null;
}

export const QUALITY_STALE = 1;
export const QUALITY_FAULT = 2;
export const QUALITY_OVERRIDDEN = 4;
export const QUALITY_ESTIMATED = 8;
export const STALE_FACTOR = 3;
/** the driver framework's poll interval when a point names none (src/drivers/manager.c) */
export const DEFAULT_POLL_MS = 60_000;

/** A point's poll interval: its source's poll_s, the framework default, or null for pushed points. */
export function pollIntervalMs(p: Pick<Point, 'source'>): number | null {
  const s = p.source;
  if (!s || s.driver === 'virtual') return null;
  if (typeof s.poll_s === 'number' && s.poll_s > 0) return s.poll_s * 1000;
  if (s.driver === 'mqtt') return null; // pushed by the broker when it changes
  return DEFAULT_POLL_MS;
}

/**
 * Whether a reading is stale at `now` (see the file comment); linkLive: the
 * WebSocket is live, so the server's flag is current.  No reading: not
 * stale, just absent.
 */
export function isStale(r: Reading | undefined, pollMs: number | null, now: number, linkLive = false): boolean {
  if (!r) return false;
  if ((r.q & QUALITY_STALE) !== 0) return true;
  return !linkLive && pollMs !== null && pollMs > 0 && now - r.t > STALE_FACTOR * pollMs;
}

/** When a fresh reading turns stale by age while the link is down (ms since the epoch), or null if never. */
export function staleAt(r: Reading, pollMs: number | null): number | null {
  if ((r.q & QUALITY_STALE) !== 0) return r.t;
  return pollMs !== null && pollMs > 0 ? r.t + STALE_FACTOR * pollMs : null;
}

export type Row = [number, number, number | null, number];

type Listener = () => void;
type BatchListener = (changed: ReadonlySet<number>) => void;

export class LiveStore {
  private readonly readings = new Map<number, Reading>();
  private readonly meta = new Map<number, PointMeta>();
  private readonly bySlug = new Map<string, number>();
  private readonly pointListeners = new Map<number, Set<Listener>>();
  private readonly batchListeners = new Set<BatchListener>();
  private linkLive = false;

  /** Register points (from GET /points): ids, slugs and poll intervals. */
  describe(points: readonly Pick<Point, 'id' | 'point_id' | 'source'>[]): void {
    for (const p of points) {
      if (typeof p.point_id !== 'number') continue;
      this.meta.set(p.point_id, { id: p.point_id, slug: p.id, pollMs: pollIntervalMs(p) });
      this.bySlug.set(p.id, p.point_id);
    }
  }

  idOf(slug: string): number | undefined {
    return this.bySlug.get(slug);
  }

  metaOf(id: number): PointMeta | undefined {
    return this.meta.get(id);
  }

  get(id: number): Reading | undefined {
    return this.readings.get(id);
  }

  /** Stale by the rule above, with the point's registered poll interval. */
  stale(id: number, now: number): boolean {
    return isStale(this.readings.get(id), this.meta.get(id)?.pollMs ?? null, now, this.linkLive);
  }

  /** The WebSocket went live or down (LiveConnection): every shown value is judged again. */
  setLinkLive(live: boolean): void {
    if (live === this.linkLive) return;
    this.linkLive = live;
    for (const ls of [...this.pointListeners.values()]) for (const fn of [...ls]) fn();
  }

  /**
   * Take readings [point_id, t_ms, value, quality] (the WebSocket's
   * "readings" frame).  Listeners of the points that changed are called once
   * per batch.
   */
  ingest(rows: readonly Row[]): void {
    const changed = new Set<number>();
    for (const row of rows) {
      if (!Array.isArray(row) || row.length < 3) continue;
      const [id, t, v, q] = row;
      if (typeof id !== 'number' || !Number.isFinite(t) || typeof v !== 'number' || !Number.isFinite(v)) continue;
      const old = this.readings.get(id);
      if (old && old.t > t) continue;
      const quality = typeof q === 'number' ? q : 0;
      if (old && old.t === t && old.v === v && old.q === quality) continue;
      this.readings.set(id, { v, t, q: quality });
      changed.add(id);
    }
    if (changed.size === 0) return;
    for (const id of changed) {
      const ls = this.pointListeners.get(id);
      if (ls) for (const fn of [...ls]) fn();
    }
    for (const fn of [...this.batchListeners]) fn(changed);
  }

  /** Seed from a REST answer (GET .../latest, telemetry, zone status). */
  seed(latest: readonly { point: number; ts: number | null; value: number | null; quality: number | null }[]): void {
    const rows: Row[] = [];
    for (const l of latest) if (l.ts !== null && l.value !== null) rows.push([l.point, l.ts, l.value, l.quality ?? 0]);
    this.ingest(rows);
  }

  /** Call fn when point id gets a new reading. */
  subscribePoint(id: number, fn: Listener): () => void {
    let s = this.pointListeners.get(id);
    if (!s) {
      s = new Set();
      this.pointListeners.set(id, s);
    }
    s.add(fn);
    return () => {
      const cur = this.pointListeners.get(id);
      if (!cur) return;
      cur.delete(fn);
      if (cur.size === 0) this.pointListeners.delete(id);
    };
  }

  /** Call fn once per batch with the ids that changed. */
  subscribeBatch(fn: BatchListener): () => void {
    this.batchListeners.add(fn);
    return () => this.batchListeners.delete(fn);
  }

  /** Forget every reading (sign-out); metadata stays. */
  clear(): void {
    const ids = [...this.readings.keys()];
    this.readings.clear();
    for (const id of ids) {
      const ls = this.pointListeners.get(id);
      if (ls) for (const fn of [...ls]) fn();
    }
  }
}
