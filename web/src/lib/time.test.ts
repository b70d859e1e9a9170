import { describe, expect, it } from 'vitest';
import { formatDateTime, formatTick, formatTime, isValidTimeZone, safeZone, zoneAbbreviation, startOfZonedDay, zonedParts, zonedToUtc } from './time';

// 2026-11-27T19:54:37Z: a Friday; 14:54 in New York (EST, UTC-5), 20:54 in Berlin (CET, UTC+1)
const T = Date.UTC(2026, 10, 27, 19, 54, 37);

describe('time in the building zone', () => {
  it('formats the same instant as each building local time', () => {
    expect(formatTime(T, 'America/New_York', 'en-GB')).toBe('14:54');
    expect(formatTime(T, 'Europe/Berlin', 'en-GB')).toBe('20:54');
    expect(formatTime(T, 'Asia/Kolkata', 'en-GB')).toBe('01:24'); // UTC+5:30, next day
  });

  it('names the zone with the time', () => {
    expect(formatDateTime(T, 'America/New_York', 'en-US')).toMatch(/Nov 27.*02:54:37\s?PM EST/);
    expect(zoneAbbreviation(T, 'America/New_York', 'en-US')).toBe('EST');
  });

  it('follows daylight saving time', () => {
    // 2026-03-08: US clocks go 02:00 EST -> 03:00 EDT (07:00Z)
    const before = Date.UTC(2026, 2, 8, 6, 59);
    const after = Date.UTC(2026, 2, 8, 7, 1);
    expect(formatTime(before, 'America/New_York', 'en-GB')).toBe('01:59');
    expect(formatTime(after, 'America/New_York', 'en-GB')).toBe('03:01');
    expect(zoneAbbreviation(after, 'America/New_York', 'en-US')).toBe('EDT');
  });

  it('gives calendar fields with Monday = 0', () => {
    expect(zonedParts(T, 'America/New_York')).toEqual({ year: 2026, month: 11, day: 27, weekday: 4, minute: 14 * 60 + 54 });
    // Friday 20:30 in New York is already Saturday 01:30 UTC
    const sat = Date.UTC(2026, 10, 28, 1, 30);
    expect(zonedParts(sat, 'America/New_York')).toMatchObject({ day: 27, weekday: 4, minute: 20 * 60 + 30 });
    expect(zonedParts(sat, 'UTC')).toMatchObject({ day: 28, weekday: 5, minute: 90 });
    // midnight is minute 0, not 24:00
    expect(zonedParts(Date.UTC(2026, 10, 27, 5, 0), 'America/New_York').minute).toBe(0);
  });

  it('chooses axis labels by span', () => {
    expect(formatTick(T, 'Europe/Berlin', 6 * 3_600_000, 'en-GB')).toBe('20:54');
    expect(formatTick(T, 'Europe/Berlin', 7 * 86_400_000, 'en-GB')).toBe('27 Nov');
  });

  it('falls back to UTC for a zone the runtime does not know', () => {
    expect(isValidTimeZone('America/Boston')).toBe(false);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(safeZone('America/Boston')).toBe('UTC');
    expect(formatTime(T, 'America/Boston', 'en-GB')).toBe('19:54');
  });
});

describe('zonedToUtc', () => {
  it('finds the instant of a wall-clock time, across DST in both hemispheres', () => {
    expect(new Date(zonedToUtc(2026, 11, 27, 0, 0, 'America/New_York')).toISOString()).toBe('2026-11-27T05:00:00.000Z');
    expect(new Date(zonedToUtc(2026, 7, 1, 0, 0, 'America/New_York')).toISOString()).toBe('2026-07-01T04:00:00.000Z');
    expect(new Date(zonedToUtc(2026, 1, 15, 9, 30, 'Australia/Sydney')).toISOString()).toBe('2026-01-14T22:30:00.000Z');
    expect(new Date(zonedToUtc(2026, 6, 1, 12, 0, 'Asia/Kolkata')).toISOString()).toBe('2026-06-01T06:30:00.000Z');
    expect(new Date(zonedToUtc(2026, 6, 1, 12, 0, 'UTC')).toISOString()).toBe('2026-06-01T12:00:00.000Z');
  });
  it('resolves the spring gap forward and the autumn overlap to the earlier instant', () => {
    // 2026-03-08 02:30 does not exist in New York (02:00 -> 03:00 EDT)
    expect(new Date(zonedToUtc(2026, 3, 8, 2, 30, 'America/New_York')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // 2026-11-01 01:30 happens twice (EDT then EST): the first, 05:30Z
    expect(new Date(zonedToUtc(2026, 11, 1, 1, 30, 'America/New_York')).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
  it('gives local midnight of a day', () => {
    expect(new Date(startOfZonedDay(Date.UTC(2026, 10, 27, 3, 0), 'America/New_York')).toISOString()).toBe('2026-11-26T05:00:00.000Z');
    expect(new Date(startOfZonedDay(Date.UTC(2026, 10, 27, 23, 0), 'Europe/Berlin')).toISOString()).toBe('2026-11-27T23:00:00.000Z');
  });
});
