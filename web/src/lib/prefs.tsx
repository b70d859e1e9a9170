/**
 * The user's display preferences: temperature scale, power/energy units and
 * colour theme.  They
 * are not secrets, so they live in localStorage (per browser); the theme key
 * is shared with public/theme.js, which applies it before the first paint.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { defaultTempUnit } from './units';
import type { EnergyUnit, TempUnit, UnitPrefs } from './units';

export type Theme = 'system' | 'light' | 'dark';

export const THEME_KEY = 'sbems.theme';
export const UNIT_KEY = 'sbems.tempUnit';
export const ENERGY_KEY = 'sbems.energyUnit';

export interface Prefs {
  tempUnit: TempUnit;
  energyUnit: EnergyUnit;
  /** both unit choices, for formatMeasure/toDisplay */
  units: UnitPrefs;
  theme: Theme;
  /** the theme actually shown */
  dark: boolean;
  setTempUnit: (u: TempUnit) => void;
  setEnergyUnit: (u: EnergyUnit) => void;
  setTheme: (t: Theme) => void;
}

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, v: string): void {
  try {
    localStorage.setItem(key, v);
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
}

function systemDark(): boolean {
  return typeof window !== 'undefined' && !!window.matchMedia?.('(prefers-color-scheme: dark)').matches;
}

const PrefsContext = createContext<Prefs | null>(null);

export function PrefsProvider({ children }: { children: ReactNode }) {
  const [tempUnit, setUnit] = useState<TempUnit>(() => {
    const v = read(UNIT_KEY);
    return v === 'C' || v === 'F' ? v : defaultTempUnit(typeof navigator !== 'undefined' ? navigator.language : undefined);
  });
  const [energyUnit, setEnergy] = useState<EnergyUnit>(() => {
    const v = read(ENERGY_KEY);
    return v === 'MWh' || v === 'kBtu' ? v : 'kWh';
  });
  const [theme, setThemeState] = useState<Theme>(() => {
    const v = read(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  });
  const [sysDark, setSysDark] = useState(systemDark);

  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!mq) return undefined;
    const on = () => setSysDark(mq.matches);
    mq.addEventListener?.('change', on);
    return () => mq.removeEventListener?.('change', on);
  }, []);

  const dark = theme === 'dark' || (theme === 'system' && sysDark);
  useEffect(() => {
    document.documentElement.classList.toggle('dark', dark);
  }, [dark]);

  const setTempUnit = useCallback((u: TempUnit) => {
    setUnit(u);
    write(UNIT_KEY, u);
  }, []);
  const setEnergyUnit = useCallback((u: EnergyUnit) => {
    setEnergy(u);
    write(ENERGY_KEY, u);
  }, []);
  const setTheme = useCallback((t: Theme) => {
    setThemeState(t);
    write(THEME_KEY, t);
  }, []);

  const units = useMemo(() => ({ temp: tempUnit, energy: energyUnit }), [tempUnit, energyUnit]);
  const value = useMemo(() => ({ tempUnit, energyUnit, units, theme, dark, setTempUnit, setEnergyUnit, setTheme }),
                        [tempUnit, energyUnit, units, theme, dark, setTempUnit, setEnergyUnit, setTheme]);
  return <PrefsContext.Provider value={value}>{children}</PrefsContext.Provider>;
}

export function usePrefs(): Prefs {
  const p = useContext(PrefsContext);
  if (!p) throw new Error('usePrefs outside PrefsProvider');
  return p;
}
