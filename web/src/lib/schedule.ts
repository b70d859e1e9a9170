/**
 * Zone occupancy from its weekly schedule, the same rules as sbems
 * (src/model/schedule.c, docs/site-format.md "zones"): keys are days
 * ("mon"), ranges that may wrap ("mon-fri", "fri-mon"), lists ("sat,sun") or
 * "daily"; values are "hh:mm-hh:mm" periods separated by commas ("24:00"
 * ends the day) or "closed"; days not named are unoccupied; the time is the
 * building's local time.  A zone without a schedule is unoccupied, as the
 * server's zone status says.  The UI evaluates it itself so that a building
 * dashboard colours fifty zones without fifty status requests.
 */
import type { Band, Comfort, ComfortState, Schedule } from '../api/types';
import { zonedParts } from './time';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Minutes [start, end) of each weekday, Monday first. */
export type WeekPeriods = [number, number][][];

function dayIndex(s: string): number {
  return DAYS.indexOf(s.trim());
}

function parseDays(key: string): number[] | null {
  if (key.trim() === 'daily') return [0, 1, 2, 3, 4, 5, 6];
  const out: number[] = [];
  for (const item of key.split(',')) {
    const [a, b] = item.split('-');
    const i = dayIndex(a ?? '');
    const j = b === undefined ? i : dayIndex(b);
    if (i < 0 || j < 0) return null;
    for (let d = i; ; d = (d + 1) % 7) {
      out.push(d);
      if (d === j) break;
    }
  }
  return out;
}

function parseClock(s: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}

/** Parse a schedule; null when it is malformed (the server would have refused it). */
export function parseSchedule(s: Schedule): WeekPeriods | null {
  const week: WeekPeriods = [[], [], [], [], [], [], []];
  for (const [key, value] of Object.entries(s)) {
    const days = parseDays(key);
    if (!days || typeof value !== 'string') return null;
    const periods: [number, number][] = [];
    if (value.trim() !== 'closed') {
      for (const part of value.split(',')) {
        const [a, b] = part.split('-');
        const start = parseClock(a ?? '');
        const end = parseClock(b ?? '');
        if (start === null || end === null || start >= end) return null;
        periods.push([start, end]);
      }
    }
    for (const d of days) week[d] = periods;
  }
  return week;
}

/** Whether a zone with this schedule is occupied at `now` in the building's zone tz. */
export function isOccupied(schedule: Schedule | null | undefined, tz: string, now: number): boolean {
  if (!schedule) return false;
  const week = parseSchedule(schedule);
  if (!week) return false;
  const p = zonedParts(now, tz);
  return (week[p.weekday] ?? []).some(([a, b]) => p.minute >= a && p.minute < b);
}

/** The band in force: occupied or unoccupied. */
export function bandNow(comfort: Comfort | null | undefined, occupied: boolean): Band | null {
  if (!comfort) return null;
  return occupied ? comfort.occupied : comfort.unoccupied;
}

/** Temperature (°C) against a band, as the server's zone status. */
export function comfortState(tempC: number | null | undefined, band: Band | null): ComfortState {
  if (!band || tempC === null || tempC === undefined || !Number.isFinite(tempC)) return 'unknown';
  if (tempC > band.cooling) return 'too_warm';
  if (tempC < band.heating) return 'too_cold';
  return 'in_band';
}
