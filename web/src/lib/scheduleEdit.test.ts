import { describe, expect, it } from 'vitest';
import {
  addServerDetails, checkComfort, checkDay, checkWeek, compactSchedule, comfortDraft, convertDraft, copyMondayToWeekdays,
  draftFromSchedule, emptyServerErrors, fieldCelsius, formatDayKey, nextPeriod, parseClock, parseDayKey,
  forZone, parseScheduleStrict, patchBody, scheduleInWords, toCelsius, weekInWords,
} from './scheduleEdit';
import type { ComfortDraft, WeekPeriods } from './scheduleEdit';

const EMPTY: WeekPeriods = [[], [], [], [], [], [], []];
const week = (s: Record<string, string>) => {
  const r = parseScheduleStrict(s);
  if (!r.week) throw new Error(r.errors.join('; '));
  return r.week;
};

describe('the server schedule grammar', () => {
  it('reads clocks as parse_hhmm does', () => {
    expect(parseClock('07:00')).toBe(420);
    expect(parseClock('7:05')).toBe(425); // one-digit hours are accepted
    expect(parseClock('24:00')).toBe(1440);
    expect(parseClock('24:01')).toBeNull();
    expect(parseClock('25:00')).toBeNull();
    expect(parseClock('07:60')).toBeNull();
    expect(parseClock(' 7:00')).toBeNull(); // no padding
    expect(parseClock('0700')).toBeNull();
    expect(parseClock('1:2')).toBeNull();
  });

  it('reads day keys: days, ranges that wrap, lists, daily', () => {
    expect(parseDayKey('mon-fri')).toEqual([0, 1, 2, 3, 4]);
    expect(parseDayKey('fri-mon')).toEqual([0, 4, 5, 6]);
    expect(parseDayKey('sat,sun')).toEqual([5, 6]);
    expect(parseDayKey('daily')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(parseDayKey('sun-sun')).toEqual([6]);
    for (const bad of ['Mon', ' mon', 'mon,', 'daily,sat', 'monday', 'mon-tue-wed', '']) expect(parseDayKey(bad)).toBeNull();
  });

  it('accepts what sbems accepts, sorting periods', () => {
    const w = week({ mon: '12:00-13:00,7:00-9:00', tue: '22:00-24:00', wed: '00:00-24:00', 'fri-sun': 'closed', thu: '08:00-09:00,09:00-10:00' });
    expect(w[0]).toEqual([[420, 540], [720, 780]]);
    expect(w[1]).toEqual([[1320, 1440]]);
    expect(w[3]).toEqual([[480, 540], [540, 600]]); // touching periods do not overlap
    expect(w[6]).toEqual([]);
    expect(parseScheduleStrict({}).week).toEqual(EMPTY);
  });

  it('refuses what sbems refuses, with every reason', () => {
    const r = parseScheduleStrict({ 'mon-fri': '09:00-08:00', sat: '08:00-12:00,11:00-13:00', xyz: 'closed', 'fri,sun': 'closed' });
    expect(r.week).toBeNull();
    expect(r.errors).toEqual([
      '"mon-fri": "09:00-08:00" is not a period hh:mm-hh:mm with start before end (periods cannot cross midnight)',
      '"sat": periods overlap',
      '"xyz" is not a day or day range (mon..sun, e.g. "mon-fri")',
      '"fri,sun" names a day already given by another key',
    ]);
    expect(parseScheduleStrict({ mon: '01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,07:00-08:00' }).errors)
      .toEqual(['"mon": more than 6 periods in a day']);
    expect(parseScheduleStrict({ mon: '07:00-09:00,' }).week).toBeNull();
    expect(parseScheduleStrict({ mon: '00:00-00:00' }).week).toBeNull();
    expect(parseScheduleStrict({ mon: '' }).week).toBeNull();
    expect(parseScheduleStrict({ mon: 'Closed' }).week).toBeNull();
  });

  it('round-trips: parse -> compact -> parse is the same week, and compact is the server export', () => {
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ 'mon-fri': '07:00-19:00', sat: '08:00-12:00', sun: 'closed' }, { 'mon-fri': '07:00-19:00', sat: '08:00-12:00' }],
      [{ daily: '08:00-18:00' }, { 'mon-sun': '08:00-18:00' }],
      [{ 'fri-mon': '08:00-09:00', tue: 'closed' }, { 'mon,fri-sun': '08:00-09:00' }],
      [{ mon: '08:00-09:00', tue: '08:00-09:00', thu: '08:00-09:00' }, { 'mon-tue,thu': '08:00-09:00' }],
      [{ 'sat-sun,mon-tue': '08:00-12:00' }, { 'mon-tue,sat-sun': '08:00-12:00' }],
      [{ mon: '7:00-9:00,09:00-10:00', wed: '0:00-24:00' }, { mon: '07:00-09:00,09:00-10:00', wed: '00:00-24:00' }],
      [{ mon: '12:00-13:00,08:00-09:00' }, { mon: '08:00-09:00,12:00-13:00' }],
      [{ 'mon-sun': 'closed' }, {}],
      [{}, {}],
    ];
    for (const [input, canonical] of cases) {
      const w = week(input);
      expect(compactSchedule(w)).toEqual(canonical);
      expect(week(compactSchedule(w))).toEqual(w);
      expect(compactSchedule(week(canonical))).toEqual(canonical);
      // key order as the server writes it: by the first day of each group
      expect(Object.keys(compactSchedule(w))).toEqual(Object.keys(canonical));
    }
  });

  it('compacts equal days into ranges when saving', () => {
    const w: WeekPeriods = [[[420, 1140]], [[420, 1140]], [[420, 1140]], [[420, 1140]], [[420, 1140]], [[480, 720]], []];
    expect(compactSchedule(w)).toEqual({ 'mon-fri': '07:00-19:00', sat: '08:00-12:00' });
    expect(formatDayKey([0, 2, 4])).toBe('mon,wed,fri');
    expect(formatDayKey([0, 5, 6])).toBe('mon,sat-sun'); // never a wrapping range
  });

  it('writes the week in words', () => {
    expect(scheduleInWords({ 'mon-fri': '07:00-19:00', sat: '08:00-12:00' })).toBe('Mon–Fri 07:00–19:00, Sat 08:00–12:00, Sun closed');
    expect(scheduleInWords({ daily: '00:00-24:00' })).toBe('Daily all day');
    expect(scheduleInWords({})).toBe('Closed all week');
    expect(scheduleInWords(null)).toBe('No schedule (never occupied)');
    expect(weekInWords(week({ 'mon,wed': '08:00-12:00,13:00-17:00' })))
      .toBe('Mon & Wed 08:00–12:00 and 13:00–17:00, Tue & Thu–Sun closed');
  });
});

describe('the week editor', () => {
  it('says what is wrong with a day in words', () => {
    expect(checkDay([{ start: '19:00', end: '07:00' }]).errors).toEqual([
      'the start (19:00) must be before the end (07:00). A period cannot cross midnight: end it at 24:00 and go on at 00:00 the next day.',
    ]);
    expect(checkDay([{ start: '08:00', end: '12:00' }, { start: '11:00', end: '13:00' }]).errors)
      .toEqual(['Periods 1 and 2 overlap (08:00–12:00 and 11:00–13:00).']);
    expect(checkDay([{ start: '8h', end: '24:30' }]).errors)
      .toEqual(['enter the start as hh:mm, from 00:00 to 23:59.', 'enter the end as hh:mm, from 00:01 to 24:00.']);
    expect(checkDay([{ start: '24:00', end: '24:00' }]).errors[0]).toMatch(/start as hh:mm/);
    expect(checkDay([{ start: '22:00', end: '24:00' }, { start: '08:00', end: '12:00' }])).toEqual({ periods: [[480, 720], [1320, 1440]], errors: [] });
    expect(checkDay(Array.from({ length: 7 }, (_, i) => ({ start: `0${i}:00`, end: `0${i}:30` }))).errors).toContain('At most 6 periods a day.');
  });

  it('checks the whole week and copies Monday to the weekdays', () => {
    const d = draftFromSchedule({ mon: '07:00-19:00', sat: '08:00-12:00' });
    const c = copyMondayToWeekdays(d);
    expect(checkWeek(c).week?.map((x) => x.length)).toEqual([1, 1, 1, 1, 1, 1, 0]);
    expect(compactSchedule(checkWeek(c).week as WeekPeriods)).toEqual({ 'mon-fri': '07:00-19:00', sat: '08:00-12:00' });
    c[0]?.push({ start: '18:00', end: '20:00' });
    expect(c[1]).toHaveLength(1); // a copy, not the same list
    const bad = checkWeek(c);
    expect(bad.week).toBeNull();
    expect(bad.dayErrors[0]).toHaveLength(1);
    expect(draftFromSchedule(null).every((x) => x.length === 0)).toBe(true);
  });

  it('offers the next period after the last', () => {
    expect(nextPeriod([])).toEqual({ start: '08:00', end: '18:00' });
    expect(nextPeriod([{ start: '08:00', end: '12:00' }])).toEqual({ start: '12:00', end: '14:00' });
    expect(nextPeriod([{ start: '08:00', end: '23:00' }])).toEqual({ start: '23:00', end: '24:00' });
    expect(nextPeriod(Array.from({ length: 6 }, () => ({ start: '', end: '' })))).toBeNull();
  });
});

describe('comfort bands', () => {
  const c = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15.5, cooling: 29.5 } };
  const typed = (d: ComfortDraft, t: Partial<ComfortDraft['text']>): ComfortDraft => ({ ...d, text: { ...d.text, ...t } });

  it('converts °F to °C exactly', () => {
    expect(toCelsius('70', 'F')).toBe(190 / 9);
    expect(toCelsius('70.1', 'F')).toBe(1905 / 90);
    expect(toCelsius('68', 'F')).toBe(20);
    expect(toCelsius('-40', 'F')).toBe(-40);
    expect(toCelsius('21,5', 'C')).toBe(21.5);
    for (const bad of ['', '-', '.', 'abc', '2e1', '21 °C']) expect(toCelsius(bad, 'F')).toBeNull();
  });

  it('keeps the stored °C of a field the user did not touch', () => {
    const stored = { occupied: { heating: 21.1111, cooling: 24 }, unoccupied: { heating: 15.5, cooling: 29.5 } };
    const d = comfortDraft(stored, 'F');
    expect(d.text['occupied.heating']).toBe('70');
    expect(checkComfort(d).comfort).toEqual(stored);
    expect(fieldCelsius(typed(d, { 'occupied.heating': '71' }), 'occupied.heating')).toBe(39 * 5 / 9);
    // switching scale keeps the temperatures
    expect(checkComfort(convertDraft(d, 'C')).comfort).toEqual(stored);
  });

  it('refuses what validate.c refuses, in words: range, order, containment', () => {
    const d = comfortDraft(c, 'C');
    expect(checkComfort(typed(d, { 'occupied.heating': '25' })).errors).toEqual({ occupied: 'Heating (25 °C) must be below cooling (24 °C).' });
    expect(checkComfort(typed(d, { 'unoccupied.heating': '22' })).errors).toEqual({
      unoccupied: 'Unoccupied heating (22 °C) must not be above occupied heating (21 °C): setback heats less.',
    });
    expect(checkComfort(typed(d, { 'unoccupied.cooling': '46', 'occupied.cooling': '' })).errors).toEqual({
      'unoccupied.cooling': 'Must be from 0 °C to 45 °C.',
      'occupied.cooling': 'Enter a temperature.',
    });
    const f = comfortDraft(c, 'F');
    expect(checkComfort(typed(f, { 'unoccupied.cooling': '114' })).errors['unoccupied.cooling']).toBe('Must be from 32 °F to 113 °F (0 °C to 45 °C).');
    expect(checkComfort(typed(f, { 'unoccupied.cooling': '113', 'unoccupied.heating': '32' })).comfort?.unoccupied).toEqual({ heating: 0, cooling: 45 });
  });

  it('advises the ASHRAE dead band without blocking', () => {
    const r = checkComfort(typed(comfortDraft(c, 'F'), { 'occupied.heating': '72', 'occupied.cooling': '74' }));
    expect(r.comfort).not.toBeNull();
    expect(r.warnings.occupied).toMatch(/^Heating and cooling are 2 °F apart; ASHRAE 90.1 recommends at least 5 °F/);
    expect(checkComfort(comfortDraft(c, 'C')).warnings).toEqual({});
  });
});

describe('saving', () => {
  it('builds the PATCH body from the parts chosen', () => {
    const w: WeekPeriods = [[[420, 1140]], [[420, 1140]], [[420, 1140]], [[420, 1140]], [[420, 1140]], [], []];
    const comfort = { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15, cooling: 29 } };
    expect(patchBody(w, null)).toEqual({ schedule: { 'mon-fri': '07:00-19:00' } });
    expect(patchBody(null, comfort)).toEqual({ comfort });
    expect(patchBody(EMPTY, comfort)).toEqual({ schedule: {}, comfort });
  });

  it('removes the keys a zone has that the new week does not use (RFC 7396 merge)', () => {
    const body = { schedule: { 'mon-fri': '07:00-19:00' } };
    expect(forZone(body, { 'mon-fri': '06:00-18:00', sat: '08:00-12:00' }))
      .toEqual({ schedule: { 'mon-fri': '07:00-19:00', sat: null } });
    expect(forZone(body, null)).toEqual(body);
    expect(forZone({ schedule: {} }, { 'mon-sun': '00:00-24:00' })).toEqual({ schedule: { 'mon-sun': null } });
    const comfortOnly = { comfort: { occupied: { heating: 21, cooling: 24 }, unoccupied: { heating: 15, cooling: 29 } } };
    expect(forZone(comfortOnly, { sat: '08:00-12:00' })).toBe(comfortOnly);
  });

  it('places the server details on the fields', () => {
    const e = addServerDetails(emptyServerErrors(), [
      { message: 'zones[0] "f1-north": schedule "mon-fri": periods overlap' },
      { message: 'zones[0] "f1-north": schedule key "xyz" is not a day or day range (mon..sun, e.g. "mon-fri")' },
      { message: 'zones[0] "f1-north": comfort.occupied: heating 25 °C must be below cooling 24 °C' },
      { message: 'zones[0] "f1-north": comfort.unoccupied.cooling is missing' },
      { message: 'zones[0] "f1-north": comfort.unoccupied must contain comfort.occupied (setback heats less and cools less)' },
      { field: 'id', message: 'id cannot be changed (delete and create instead)' },
    ], 'North');
    expect(e.days.map((d) => d.length)).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(e.days[0]).toEqual(['North: schedule "mon-fri": periods overlap']);
    expect(e.schedule).toEqual(['North: schedule key "xyz" is not a day or day range (mon..sun, e.g. "mon-fri")']);
    expect(e.comfort.occupied).toEqual(['North: comfort.occupied: heating 25 °C must be below cooling 24 °C']);
    expect(e.comfort['unoccupied.cooling']).toEqual(['North: comfort.unoccupied.cooling is missing']);
    expect(e.comfort.unoccupied).toHaveLength(1);
    expect(e.other).toEqual(['North: id cannot be changed (delete and create instead)']);
  });
});
