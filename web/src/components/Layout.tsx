/** The frame of every signed-in page: header, preferences, sign-out, content. */
import { Link, NavLink, Outlet, useMatch } from 'react-router-dom';
import { hasRole } from '../api/client';
import { useAuth, useClient } from '../auth/AuthContext';
import { usePrefs } from '../lib/prefs';
import type { Theme } from '../lib/prefs';
import type { EnergyUnit, TempUnit } from '../lib/units';
import { ConnectionBadge } from './ConnectionBadge';

/** Active link: bold and underlined, not by colour alone; aria-current comes from NavLink. */
function navClass({ isActive }: { isActive: boolean }): string {
  return isActive ? 'link font-bold underline' : 'link';
}

const BUILDING_PAGES = [
  { to: '', label: 'Dashboard' },
  { to: 'equipment/', label: 'Equipment' },
  { to: 'analytics/', label: 'Analytics' },
  { to: 'forecast/', label: 'Forecast' },
  { to: 'savings/', label: 'Savings' },
  { to: 'cost/', label: 'Cost' },
  { to: 'models/', label: 'Models' },
  { to: 'faults/', label: 'Faults' },
  { to: 'control/', label: 'Control' },
  { to: 'reports/', label: 'Reports' },
  { to: 'schedules/', label: 'Schedules' },
  { to: 'alert-rules/', label: 'Alert rules' },
  { to: 'export/', label: 'Exports' },
];

/** The building's pages, on every page under /buildings/:building/. */
function BuildingNav() {
  const m = useMatch('/buildings/:building/*');
  const b = m?.params.building;
  if (!b) return null;
  const base = `/buildings/${encodeURIComponent(b)}/`;
  return (
    <nav aria-label="Building" className="mb-3 flex flex-wrap gap-x-4 gap-y-1 border-b border-slate-200 pb-2 text-sm dark:border-slate-700">
      {BUILDING_PAGES.map((p) => (
        <NavLink key={p.label} to={base + p.to} end className={navClass}>{p.label}</NavLink>
      ))}
    </nav>
  );
}

export function Layout() {
  const { user } = useAuth();
  const client = useClient();
  const prefs = usePrefs();

  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2 focus:text-slate-900">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-2">
          <Link to="/" className="text-lg font-bold text-teal-800 dark:text-teal-300">
            sbems
          </Link>
          <nav aria-label="Main" className="flex flex-wrap gap-x-3 text-sm">
            <NavLink to="/" end className={navClass}>Portfolio</NavLink>
            <NavLink to="/alerts/" className={navClass}>Alerts</NavLink>
            <NavLink to="/tariffs/" className={navClass}>Tariffs</NavLink>
            {hasRole(user?.roles, 'admin') && <NavLink to="/devices/" className={navClass}>Devices</NavLink>}
            {hasRole(user?.roles, 'admin') && <NavLink to="/users/" className={navClass}>Users</NavLink>}
            {hasRole(user?.roles, 'manager') && <NavLink to="/audit/" className={navClass}>Audit log</NavLink>}
          </nav>
          <div className="ml-auto flex flex-wrap items-center gap-3">
            <ConnectionBadge />
            <label className="flex items-center gap-1 text-sm">
              <span className="muted">Units</span>
              <span className="sr-only">temperature</span>
              <select
                className="rounded border border-slate-500 bg-white px-1 py-1 dark:border-slate-400 dark:bg-slate-800"
                value={prefs.tempUnit}
                onChange={(e) => prefs.setTempUnit(e.target.value as TempUnit)}
              >
                <option value="C">°C</option>
                <option value="F">°F</option>
              </select>
            </label>
            <label className="flex items-center gap-1 text-sm">
              <span className="sr-only">Power and energy units</span>
              <select
                className="rounded border border-slate-500 bg-white px-1 py-1 dark:border-slate-400 dark:bg-slate-800"
                value={prefs.energyUnit}
                onChange={(e) => prefs.setEnergyUnit(e.target.value as EnergyUnit)}
              >
                <option value="kWh">kW, kWh</option>
                <option value="MWh">MW, MWh</option>
                <option value="kBtu">kBtu/h, kBtu</option>
              </select>
            </label>
            <label className="flex items-center gap-1 text-sm">
              <span className="muted">Theme</span>
              <select
                className="rounded border border-slate-500 bg-white px-1 py-1 dark:border-slate-400 dark:bg-slate-800"
                value={prefs.theme}
                onChange={(e) => prefs.setTheme(e.target.value as Theme)}
              >
                <option value="system">System</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
            <span className="text-sm" title={user?.roles.join(', ')}>
              {user?.username}
              <span className="muted"> ({user?.roles.join(', ')})</span>
            </span>
            <button type="button" className="btn-secondary min-h-[36px] px-3 py-1" onClick={() => void client.logout()}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-4 focus:outline-none">
        <BuildingNav />
        <Outlet />
      </main>
    </div>
  );
}
