/**
 * The app: session gate, live connection life cycle, routes.  Pages other
 * than sign-in are loaded on demand (code-split), so the first load carries
 * React, the router and the sign-in page only; Recharts comes with the
 * first chart.
 *
 * Routes end with a slash (/buildings/hpo/, /zones/f1.west/): sbems serves
 * index.html for a path whose last segment has no dot, and slugs may contain
 * dots (src/api/static.c).
 */
import { Suspense, lazy, useEffect } from 'react';
import { Link, Navigate, Route, Routes } from 'react-router-dom';
import { useAuth } from './auth/AuthContext';
import { Layout } from './components/Layout';
import { Loading } from './components/ui';
import { useLive } from './live/LiveContext';
import { LoginPage, PasswordChangePage } from './pages/LoginPage';

const PortfolioPage = lazy(() => import('./pages/PortfolioPage'));
const BuildingPage = lazy(() => import('./pages/BuildingPage'));
const ZonePage = lazy(() => import('./pages/ZonePage'));
const SchedulesPage = lazy(() => import('./pages/SchedulesPage'));
const AnalyticsPage = lazy(() => import('./pages/AnalyticsPage'));
const AlertsPage = lazy(() => import('./pages/AlertsPage'));
const AlertRulesPage = lazy(() => import('./pages/AlertRulesPage'));
const NotificationsPage = lazy(() => import('./pages/NotificationsPage'));
const EquipmentListPage = lazy(() => import('./pages/EquipmentListPage'));
const EquipmentPage = lazy(() => import('./pages/EquipmentPage'));
const DevicesPage = lazy(() => import('./pages/DevicesPage'));
const UsersPage = lazy(() => import('./pages/UsersPage'));
const AuditPage = lazy(() => import('./pages/AuditPage'));
const ExportPage = lazy(() => import('./pages/ExportPage'));
const ForecastPage = lazy(() => import('./pages/ForecastPage'));
const SavingsPage = lazy(() => import('./pages/SavingsPage'));
const TariffCostPage = lazy(() => import('./pages/TariffCostPage'));
const AnalyticsModelsPage = lazy(() => import('./pages/AnalyticsModelsPage'));
const TariffsPage = lazy(() => import('./pages/TariffsPage'));
const ReportsPage = lazy(() => import('./pages/ReportsPage'));
const FaultsPage = lazy(() => import('./pages/FaultsPage'));
const FddSettingsPage = lazy(() => import('./pages/FddSettingsPage'));
const ControlPage = lazy(() => import('./pages/ControlPage'));

function NotFound() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="muted mt-2">
        <Link className="link" to="/">
          Back to the portfolio
        </Link>
      </p>
    </div>
  );
}

export function App() {
  const auth = useAuth();
  const { conn, store } = useLive();
  const signedIn = auth.status === 'signed_in';

  useEffect(() => {
    if (!signedIn) {
      conn.stop();
      store.clear();
      return undefined;
    }
    conn.start();
    return () => conn.stop();
  }, [signedIn, conn, store]);

  if (auth.status === 'unknown') {
    return (
      <main id="main" className="p-6">
        <Loading label="Starting…" />
      </main>
    );
  }
  if (auth.status === 'signed_out') return <LoginPage />;
  if (auth.status === 'password_change') return <PasswordChangePage />;

  return (
    <Suspense fallback={<main className="p-6"><Loading /></main>}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<PortfolioPage />} />
          <Route path="buildings/:building" element={<BuildingPage />} />
          <Route path="buildings/:building/schedules" element={<SchedulesPage />} />
          <Route path="buildings/:building/analytics" element={<AnalyticsPage />} />
          <Route path="buildings/:building/alert-rules" element={<AlertRulesPage />} />
          <Route path="buildings/:building/forecast" element={<ForecastPage />} />
          <Route path="buildings/:building/savings" element={<SavingsPage />} />
          <Route path="buildings/:building/cost" element={<TariffCostPage />} />
          <Route path="buildings/:building/models" element={<AnalyticsModelsPage />} />
          <Route path="buildings/:building/reports" element={<ReportsPage />} />
          <Route path="buildings/:building/faults" element={<FaultsPage />} />
          <Route path="buildings/:building/faults/settings" element={<FddSettingsPage />} />
          <Route path="buildings/:building/control" element={<ControlPage />} />
          <Route path="tariffs" element={<TariffsPage />} />
          <Route path="alerts/notifications" element={<NotificationsPage />} />
          <Route path="alerts/:id?" element={<AlertsPage />} />
          <Route path="buildings/:building/equipment" element={<EquipmentListPage />} />
          <Route path="equipment/:equipment" element={<EquipmentPage />} />
          <Route path="devices" element={<DevicesPage />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="audit" element={<AuditPage />} />
          <Route path="buildings/:building/export" element={<ExportPage />} />
          <Route path="zones/:zone" element={<ZonePage />} />
          <Route path="login" element={<Navigate to="/" replace />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
