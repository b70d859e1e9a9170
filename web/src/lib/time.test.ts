import { describe, expect, it } from 'vitest';
import { formatDateTime, formatTick, formatTime, isValidTimeZone, safeZone, zoneAbbreviation, zonedParts } from './time';

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
