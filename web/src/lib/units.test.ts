import { describe, expect, it } from 'vitest';
import { convert, defaultTempUnit, formatMeasure, fromDisplay, toDisplay } from './units';

describe('convert', () => {
  it('converts temperatures exactly at the fixed points', () => {
    expect(convert(0, '°C', '°F')).toBeCloseTo(32, 10);
    expect(convert(100, '°C', '°F')).toBeCloseTo(212, 10);
    expect(convert(-40, '°F', '°C')).toBeCloseTo(-40, 10);
    expect(convert(72, '°F', '°C')).toBeCloseTo(22.2222222, 6);
    expect(convert(273.15, 'K', '°C')).toBeCloseTo(0, 10);
    expect(convert(21.5, '°C', '°C')).toBe(21.5);
  });

  it('converts power and energy', () => {
    expect(convert(1500, 'W', 'kW')).toBeCloseTo(1.5, 10);
    expect(convert(2.5, 'MW', 'kW')).toBeCloseTo(2500, 10);
    expect(convert(1, 'MWh', 'kWh')).toBeCloseTo(1000, 10);
  });

  it('refuses units of different dimensions or unknown ones', () => {
    expect(() => convert(1, 'kW', '°C')).toThrow(/cannot convert/);
    expect(() => convert(1, 'furlong', 'kW')).toThrow(/cannot convert/);
  });
});

describe('power and energy preference', () => {
  const kbtu = { temp: 'C', energy: 'kBtu' } as const;
  const mwh = { temp: 'F', energy: 'MWh' } as const;
  it('shows kW/kWh as kBtu/h/kBtu with 1 kWh = 3412.14 Btu', () => {
    expect(toDisplay(1, 'kWh', kbtu).unit).toBe('kBtu');
    expect(toDisplay(1, 'kWh', kbtu).value).toBeCloseTo(3.41214, 5);
    expect(toDisplay(100, 'kW', kbtu).value).toBeCloseTo(341.2142, 4);
    expect(toDisplay(100, 'kW', kbtu).unit).toBe('kBtu/h');
    expect(formatMeasure(1000, 'kWh', kbtu)).toBe(`${(3412).toLocaleString('en-US')} kBtu`);
  });
  it('shows MW/MWh, temperature by its own choice, and converts commands back', () => {
    expect(toDisplay(2500, 'kW', mwh)).toEqual({ value: 2.5, unit: 'MW' });
    expect(formatMeasure(20, '°C', mwh)).toBe('68.0 °F');
    expect(fromDisplay(68, '°C', mwh)).toBeCloseTo(20, 10);
    expect(fromDisplay(0.5, 'kW', mwh)).toBeCloseTo(500, 10);
    expect(toDisplay(412, 'ppm', mwh)).toEqual({ value: 412, unit: 'ppm' });
  });
});

describe('display units', () => {
  it('shows temperatures in the preferred scale and leaves other units alone', () => {
    expect(toDisplay(20, '°C', 'F')).toEqual({ value: 68, unit: '°F' });
    expect(toDisplay(20, '°C', 'C')).toEqual({ value: 20, unit: '°C' });
    expect(toDisplay(68, '°F', 'C').value).toBeCloseTo(20, 10);
    expect(toDisplay(412, 'ppm', 'F')).toEqual({ value: 412, unit: 'ppm' });
  });

  it('turns a typed value back into the point unit', () => {
    expect(fromDisplay(71.6, '°C', 'F')).toBeCloseTo(22, 10);
    expect(fromDisplay(22, '°C', 'C')).toBe(22);
    expect(fromDisplay(22, '°F', 'C')).toBeCloseTo(71.6, 10); // a setpoint declared in °F
    expect(fromDisplay(250, 'Pa', 'F')).toBe(250);
  });

  it('formats a measurement with its unit', () => {
    expect(formatMeasure(21.46, '°C', 'C', 'en-US')).toBe('21.5 °C');
    expect(formatMeasure(21.5, '°C', 'F', 'en-US')).toBe('70.7 °F');
    expect(formatMeasure(412.4, 'ppm', 'C', 'en-US')).toBe('412 ppm');
    expect(formatMeasure(45.2, '%', 'C', 'en-US')).toBe('45 %');
    expect(formatMeasure(1234.56, 'kW', 'C', 'en-US')).toBe('1,234.6 kW');
    expect(formatMeasure(21.5, '°C', 'C', 'de-DE')).toBe('21,5 °C');
    expect(formatMeasure(null, '°C', 'C')).toBe('—');
    expect(formatMeasure(Number.NaN, '°C', 'C')).toBe('—');
  });

  it('picks °F for the United States and °C elsewhere', () => {
    expect(defaultTempUnit('en-US')).toBe('F');
    expect(defaultTempUnit('en')).toBe('F'); // en maximizes to en-Latn-US
    expect(defaultTempUnit('en-GB')).toBe('C');
    expect(defaultTempUnit('de-DE')).toBe('C');
    expect(defaultTempUnit('fr')).toBe('C');
    expect(defaultTempUnit(undefined)).toBe('C');
  });
});
