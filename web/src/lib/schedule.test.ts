import { describe, expect, it } from 'vitest';
import { bandNow, comfortState, isOccupied, parseSchedule } from './schedule';

const NY = 'America/New_York';
/** An instant at local wall time in New York during EST (UTC-5), November 2026. */
function ny(day: number, hh: number, mm = 0): number {
  return Date.UTC(2026, 10, day, hh + 5, mm);
}
// 2026-11-23 is a Monday ... 2026-11-29 a Sunday

describe('schedules', () => {
  it('parses days, ranges, wrapping ranges, lists and daily', () => {
    const w = parseSchedule({ 'mon-wed': '07:00-19:00', 'sat,sun': '08:00-12:00,13:00-15:00', thu: 'closed' });
    expect(w?.[0]).toEqual([[420, 1140]]);
    expect(w?.[2]).toEqual([[420, 1140]]);
    expect(w?.[3]).toEqual([]);
    expect(w?.[4]).toEqual([]); // not named
    expect(w?.[6]).toEqual([[480, 720], [780, 900]]);
    expect(parseSchedule({ 'fri-mon': '00:00-24:00' })?.map((d) => d.length)).toEqual([1, 0, 0, 0, 1, 1, 1]);
    expect(parseSchedule({ daily: '06:00-07:00' })?.every((d) => d.length === 1)).toBe(true);
  });

  it('refuses what sbems would refuse', () => {
    expect(parseSchedule({ monday: '07:00-19:00' })).toBeNull();
    expect(parseSchedule({ mon: '19:00-07:00' })).toBeNull();
    expect(parseSchedule({ mon: null } as unknown as Record<string, string>)).toBeNull(); // never a crash on odd data
    expect(parseSchedule({ mon: '7:00-19:00' })).toBeNull();
    expect(parseSchedule({ mon: '07:00-24:30' })).toBeNull();
  });

  it('is occupied in the building local time, start inclusive, end exclusive', () => {
    const s = { 'mon-fri': '06:00-19:00' };
    expect(isOccupied(s, NY, ny(27, 5, 59))).toBe(false); // Friday
    expect(isOccupied(s, NY, ny(27, 6, 0))).toBe(true);
    expect(isOccupied(s, NY, ny(27, 18, 59))).toBe(true);
    expect(isOccupied(s, NY, ny(27, 19, 0))).toBe(false);
    expect(isOccupied(s, NY, ny(28, 10))).toBe(false); // Saturday
    // 20:00 UTC Friday is 15:00 in New York (occupied) but 21:00 in Berlin
    expect(isOccupied(s, 'Europe/Berlin', Date.UTC(2026, 10, 27, 20, 0))).toBe(false);
    expect(isOccupied(s, NY, Date.UTC(2026, 10, 27, 20, 0))).toBe(true);
  });

  it('treats a zone without a schedule as unoccupied, as the server does', () => {
    expect(isOccupied(null, NY, ny(27, 12))).toBe(false);
    expect(isOccupied(undefined, NY, ny(27, 12))).toBe(false);
  });
});

describe('comfort', () => {
  const comfort = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15.6, cooling: 26.7 } };

  it('uses the band in force', () => {
    expect(bandNow(comfort, true)).toEqual({ heating: 21, cooling: 24 });
    expect(bandNow(comfort, false)).toEqual({ heating: 15.6, cooling: 26.7 });
    expect(bandNow(null, true)).toBeNull();
  });

  it('places a temperature against the band, edges in band', () => {
    const b = comfort.occupied;
    expect(comfortState(21, b)).toBe('in_band');
    expect(comfortState(24, b)).toBe('in_band');
    expect(comfortState(24.01, b)).toBe('too_warm');
    expect(comfortState(20.99, b)).toBe('too_cold');
    expect(comfortState(null, b)).toBe('unknown');
    expect(comfortState(22, null)).toBe('unknown');
  });
});
