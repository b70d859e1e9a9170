/**
 * The "now" card of an equipment page: the cells summaryCells() found for
 * its type (a missing point leaves its cell out), each value live, with its
 * setpoint and the difference where there is one.  Two cells are computed:
 * a chiller's COP (its own COP point, else cooling load ÷ electric power,
 * both live) and a meter's energy today (the counter's open daily bucket,
 * continued by the live counter reading).
 */
import { useEffect } from 'react';
import type { Cell } from '../api/equipment';
import { todayEnergy, todayWithLive } from '../api/equipment';
import { describeError } from '../api/errors';
import { useClient } from '../auth/AuthContext';
import { useLive, useNow, useReading } from '../live/LiveContext';
import { usePrefs } from '../lib/prefs';
import { energyDigits, formatMeasure, formatNumber } from '../lib/units';
import { useAsync } from '../lib/useAsync';
import { EquipDeviation, EquipValue } from './EquipValue';
import { LiveValue } from './LiveValue';
import { Stat } from './ui';

type ValueCell = Extract<Cell, { kind: 'value' }>;
type CopCell = Extract<Cell, { kind: 'cop' }>;
type TodayCell = Extract<Cell, { kind: 'today' }>;

function ValueStat({ cell, tz }: { cell: ValueCell; tz: string }) {
  const hint = cell.ref?.map((r) => (
    <span key={r.point.id} className="mr-2 inline-block">
      {r.label} <EquipValue point={r.point} tz={tz} />
      {r.compare && <EquipDeviation value={cell.point} setpoint={r.point} />}
    </span>
  ));
  return (
    <Stat label={cell.label} hint={cell.note ?? hint}>
      <EquipValue point={cell.point} tz={tz} state={cell.state} />
    </Stat>
  );
}

const COP_HOW = 'cooling load ÷ electric power, both live';

function DerivedCop({ load, electric }: { load: NonNullable<CopCell['load']>; electric: NonNullable<CopCell['electric']> }) {
  const { store } = useLive();
  const l = useReading(load.point_id);
  const e = useReading(electric.point_id);
  const now = useNow(15_000);
  const fresh = !!l && !!e && typeof load.point_id === 'number' && typeof electric.point_id === 'number' &&
    !store.stale(load.point_id, now) && !store.stale(electric.point_id, now);
  // below 0.1 kW the chiller is off and the ratio means nothing
  const cop = fresh && l && e && e.v >= 0.1 ? l.v / e.v : null;
  return (
    <Stat label="COP" hint={`derived: ${COP_HOW}`}>
      {cop !== null ? formatNumber(cop, 2) : <span className="muted" title={`needs ${COP_HOW}`}>—</span>}
    </Stat>
  );
}

function CopStat({ cell, tz }: { cell: CopCell; tz: string }) {
  if (cell.cop) {
    return (
      <Stat label="COP" hint="reported by the chiller">
        <LiveValue pointId={cell.cop.point_id} unit="" tz={tz} digits={2} />
      </Stat>
    );
  }
  return cell.load && cell.electric ? <DerivedCop load={cell.load} electric={cell.electric} /> : null;
}

function TodayStat({ cell, tz }: { cell: TodayCell; tz: string }) {
  const client = useClient();
  const { units } = usePrefs();
  const today = useAsync((signal) => todayEnergy(client, cell.point.id, tz, Date.now(), signal), [cell.point.id, tz]);
  useEffect(() => {
    // the open bucket grows all day; the live counter covers the minutes in between
    const h = setInterval(today.reload, 5 * 60_000);
    return () => clearInterval(h);
  }, [today.reload]);
  const r = useReading(cell.point.point_id);
  const kwh = today.data ? todayWithLive(today.data, r?.v) : null;
  const hint = today.error ? describeError(today.error) : today.data === null ? 'no reading today yet' : 'since midnight, building time';
  return (
    <Stat label={cell.label} hint={hint}>
      {formatMeasure(kwh, 'kWh', units, undefined, energyDigits(units))}
    </Stat>
  );
}

export function EquipSummary({ cells, tz }: { cells: readonly Cell[]; tz: string }) {
  if (cells.length === 0) return null;
  return (
    <section aria-label="Now" className="card mb-4">
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
        {cells.map((c) =>
          c.kind === 'value' ? <ValueStat key={c.key} cell={c} tz={tz} />
            : c.kind === 'cop' ? <CopStat key={c.key} cell={c} tz={tz} />
              : <TodayStat key={c.key} cell={c} tz={tz} />,
        )}
      </dl>
    </section>
  );
}
