/**
 * The proposals of a finished discovery, grouped by device, and the accept
 * step.  Every entry of a device's `points` is a proposal the server makes
 * (it has no separate "suggested" flag; trend logs, schedules and other
 * objects are not points), so all start chosen and the person unticks what
 * is not wanted.  Accept sends exactly the ticked points, with equipment for
 * the devices they belong to, to one building, after a confirmation; the
 * points added are then marked so they are not sent twice.
 */
import { useMemo, useState } from 'react';
import { acceptDiscovery, guessEquipType, pointObject, slugify } from '../api/admin';
import type { AcceptBody, AcceptResult, DiscoveryResult } from '../api/admin';
import { useClient } from '../auth/AuthContext';
import { useAsync } from '../lib/useAsync';
import { AdminError } from './AdminError';
import { AdminProposalDevice, deviceTitle, pointKey } from './AdminProposalDevice';
import type { EquipDraft } from './AdminProposalDevice';
import { ConfirmDialog } from './ConfirmDialog';
import { ErrorBox } from './ui';

const SLUG = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Labels for the server's detail fields: "building", "equipment[0]", "points[3]". */
function fieldLabel(body: AcceptBody | null) {
  return (f: string | undefined): string => {
    if (!f) return '';
    if (f === 'building') return 'Building';
    const m = /^(equipment|points)\[(\d+)\]/.exec(f);
    if (m && body) {
      const i = Number(m[2]);
      if (m[1] === 'equipment' && body.equipment[i]) return `Equipment of device ${body.equipment[i].device}`;
      const p = body.points[i];
      if (m[1] === 'points' && p) return `Point ${p.object} of device ${p.device}`;
    }
    if (f === 'equipment') return 'Equipment';
    if (f === 'points') return 'Points';
    return f;
  };
}

export function AdminProposals({ result }: { result: DiscoveryResult }) {
  const client = useClient();
  const devices = useMemo(() => result.devices ?? [], [result]);
  const buildings = useAsync((signal) => client.buildings(signal), [client]);
  const [checked, setChecked] = useState<Set<string>>(
    () => new Set(devices.flatMap((d) => (d.points ?? []).map((p) => pointKey(d.device, pointObject(p))))));
  const [equip, setEquip] = useState<Record<number, EquipDraft>>(() => Object.fromEntries(devices.map((d) => [d.device, {
    id: slugify(d.name ?? '') || `device-${d.device}`,
    name: deviceTitle(d),
    type: guessEquipType(d.name),
  }])));
  const [added, setAdded] = useState<Set<string>>(new Set());
  const [building, setBuilding] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [pending, setPending] = useState<AcceptBody | null>(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<AcceptBody | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<{ r: AcceptResult; building: string } | null>(null);

  const list = buildings.data ?? [];
  const chosenBuilding = building || (list.length === 1 ? list[0]?.id ?? '' : '');
  const buildingName = (id: string) => list.find((b) => b.id === id)?.name ?? id;

  function body(): AcceptBody {
    const b: AcceptBody = { building: chosenBuilding, equipment: [], points: [] };
    for (const d of devices) {
      const pts = (d.points ?? []).map(pointObject).filter((o) => checked.has(pointKey(d.device, o)) && !added.has(pointKey(d.device, o)));
      if (pts.length === 0) continue;
      const e = equip[d.device];
      if (e) b.equipment.push({ device: d.device, id: e.id.trim(), name: e.name.trim() || deviceTitle(d), type: e.type });
      for (const o of pts) b.points.push({ device: d.device, object: o });
    }
    return b;
  }

  const draft = body();
  const badIds = new Map(draft.equipment.filter((e) => !SLUG.test(e.id)).map((e) => [e.device, 'Lower-case letters, digits, and . _ - (up to 64), starting with a letter or digit.']));

  function ask() {
    setDone(null);
    setError(null);
    if (!chosenBuilding) return setProblem('Choose the building the points go to.');
    if (draft.points.length === 0) return setProblem('Tick at least one point.');
    if (badIds.size) return setProblem('Fix the equipment ids marked above.');
    setProblem(null);
    setPending(draft);
  }

  async function accept() {
    if (!pending) return;
    setBusy(true);
    setSent(pending);
    try {
      const r = await acceptDiscovery(client, pending);
      const keys = pending.points.map((p) => pointKey(p.device, p.object));
      setAdded((a) => new Set([...a, ...keys]));
      setChecked((c) => new Set([...c].filter((k) => !keys.includes(k))));
      setDone({ r, building: pending.building });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setPending(null);
    }
  }

  const setAll = (device: number, on: boolean) => setChecked((c) => {
    const n = new Set(c);
    const d = devices.find((x) => x.device === device);
    for (const p of d?.points ?? []) {
      const k = pointKey(device, pointObject(p));
      if (on && !added.has(k)) n.add(k);
      else n.delete(k);
    }
    return n;
  });

  if (devices.length === 0) return <p className="card mt-4 text-sm">No devices answered.</p>;
  return (
    <section aria-labelledby="prop-h" className="mt-4">
      <h3 id="prop-h" className="text-base font-semibold">Proposed points</h3>
      <p className="muted text-sm">Review the points sbems proposes for each device; ticked points are added to the model with their equipment when you accept.</p>
      {devices.map((d) => (
        <AdminProposalDevice key={d.device} d={d} equip={equip[d.device] ?? { id: '', name: '', type: 'other' }}
                             onEquip={(e) => setEquip((m) => ({ ...m, [d.device]: e }))}
                             checked={checked} added={added}
                             onCheck={(k, on) => setChecked((c) => { const n = new Set(c); if (on) n.add(k); else n.delete(k); return n; })}
                             onAll={(on) => setAll(d.device, on)} idError={badIds.get(d.device)} />
      ))}
      <div className="card mt-4 grid gap-3 sm:grid-cols-[1fr_auto] sm:items-end">
        <div>
          <label className="label" htmlFor="accept-building">Add to building</label>
          {buildings.error !== undefined ? <ErrorBox error={buildings.error} onRetry={buildings.reload} /> : (
            <select id="accept-building" className="input" value={chosenBuilding} onChange={(e) => setBuilding(e.target.value)}>
              <option value="">Choose a building…</option>
              {list.map((b) => <option key={b.id} value={b.id}>{b.name} ({b.id})</option>)}
            </select>
          )}
          <p className="mt-1 text-sm">{draft.points.length} {draft.points.length === 1 ? 'point' : 'points'} of {draft.equipment.length} {draft.equipment.length === 1 ? 'device' : 'devices'} chosen.</p>
        </div>
        <button type="button" className="btn-primary" onClick={ask} disabled={busy}>{busy ? 'Adding…' : 'Add chosen points'}</button>
        {problem && <p role="alert" className="text-sm font-medium text-red-800 dark:text-red-300 sm:col-span-2">{problem}</p>}
      </div>
      {error !== null && <div className="mt-3"><AdminError error={error} label={fieldLabel(sent)} /></div>}
      {done && (
        <div role="status" className="card mt-3 text-sm">
          <p className="font-semibold">
            Added {done.r.points.length} {done.r.points.length === 1 ? 'point' : 'points'} and {done.r.equipment.length} equipment to {buildingName(done.building)}.
          </p>
          <p className="mt-1 [overflow-wrap:anywhere]">Equipment: {done.r.equipment.map((e) => e.id).join(', ') || 'none'}.</p>
          <p className="muted mt-1">The drivers start reading them now.</p>
        </div>
      )}
      {pending && (
        <ConfirmDialog title="Add discovered points?" confirmLabel={busy ? 'Adding…' : 'Add them'} busy={busy}
                       onCancel={() => setPending(null)} onConfirm={() => void accept()}>
          <p>
            {pending.points.length} {pending.points.length === 1 ? 'point' : 'points'} and {pending.equipment.length} equipment
            will be added to <strong>{buildingName(pending.building)}</strong>:
          </p>
          <ul className="mt-2 list-disc pl-5">
            {pending.equipment.map((e) => (
              <li key={e.device}>
                {e.name} as <code>{e.id}</code>: {pending.points.filter((p) => p.device === e.device).length} points
              </li>
            ))}
          </ul>
          <p className="mt-2">Equipment that already exists in that building is reused. sbems starts reading the points at once.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
