/**
 * The writable points of an equipment, each with its live value, the
 * control for roles that may command (On/Off/Release for two-state
 * commands, SetpointControl for values) and, on request, who holds it
 * (PriorityPanel).  Viewers see values and holders, no control at all.
 *
 * Every command goes to POST /points/{p}/write.  sbems also has
 * /equipment/{e}/control and /thermostats/{e}/control, but the three routes
 * share one handler (src/api/h_data.c, sb_api__h_control): same body, same
 * checks, same driver write, same answers and audit; the other two only
 * add "the point must belong to this equipment" (and "this equipment must
 * be a thermostat").  The page already names the point, so the point
 * route is used for thermostats too, and SetpointControl needs no change.
 */
import { useState } from 'react';
import type { EqPoint } from '../api/equipment';
import { commandUnit, isBinary } from '../api/equipment';
import { Disclosure } from './Disclosure';
import { EquipCommandControl } from './EquipCommandControl';
import { EquipValue } from './EquipValue';
import { PriorityPanel } from './PriorityPanel';
import { SetpointControl } from './SetpointControl';

function CommandCard({ p, tz, mayCommand }: { p: EqPoint; tz: string; mayCommand: boolean }) {
  const [done, setDone] = useState(0);
  const unit = commandUnit(p); // commands, range and priority slots: the declared unit
  const binary = isBinary(p);
  return (
    <li id={`cmd-${p.id}`} className="card space-y-3" aria-labelledby={`cmd-h-${p.id}`}>
      <div>
        <h3 id={`cmd-h-${p.id}`} className="font-semibold">{p.name}</h3>
        <p className="muted break-all text-xs">{p.id}</p>
        <p className="mt-1 text-xl font-semibold"><EquipValue point={p} tz={tz} /></p>
      </div>
      {mayCommand && (binary
        ? <EquipCommandControl point={p} tz={tz} onCommandDone={() => setDone((n) => n + 1)} />
        : <SetpointControl point={{ slug: p.id, name: p.name, unit, min: p.min, max: p.max }} tz={tz}
                           onCommandDone={() => setDone((n) => n + 1)} />)}
      <Disclosure summary="Who holds this point">
        <PriorityPanel slug={p.id} unit={binary ? '' : unit} tz={tz} refreshKey={done} />
      </Disclosure>
    </li>
  );
}

export function EquipCommands({ points, tz, mayCommand }: { points: readonly EqPoint[]; tz: string; mayCommand: boolean }) {
  const writable = points.filter((p) => p.writable);
  return (
    <section aria-labelledby="cmd-h" className="mb-6">
      <h2 id="cmd-h" className="mb-2 text-lg font-semibold">Commands</h2>
      {writable.length === 0 ? (
        <p className="muted">No point of this equipment can be commanded.</p>
      ) : (
        <>
          {!mayCommand && <p className="muted mb-2 text-sm">Your role can see these points and who holds them, not command them.</p>}
          <ul className="grid gap-4 lg:grid-cols-2">
            {writable.map((p) => <CommandCard key={p.id} p={p} tz={tz} mayCommand={mayCommand} />)}
          </ul>
        </>
      )}
    </section>
  );
}
