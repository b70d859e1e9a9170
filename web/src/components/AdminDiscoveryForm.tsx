/**
 * The BACnet discovery form: where to send Who-Is (broadcast, addresses,
 * an address range), which device instances to take, how long to listen.
 * Checked here with the server's own bounds (drivers/bacnet/discover.c
 * check_args) so a typo is caught before a 400; the server checks again.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { DiscoverArgs } from '../api/admin';

const MAX_INSTANCE = 4_194_303;
const MAX_TARGETS = 256;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(:\d{1,5})?$/;

function validTarget(t: string): boolean {
  const m = IPV4.exec(t);
  if (!m) return false;
  const port = m[5] ? Number(m[5].slice(1)) : 47808;
  return [m[1], m[2], m[3], m[4]].every((x) => Number(x) <= 255) && port >= 1 && port <= 65535;
}

type Errors = Partial<Record<'targets' | 'range' | 'low' | 'high' | 'wait' | 'form', string>>;

interface Fields {
  targets: string;
  range: string;
  low: string;
  high: string;
  broadcast: boolean;
  wait: string;
}

/** The request body, or the problems in words. */
export function discoverArgs(f: Fields): { args?: DiscoverArgs; errors: Errors } {
  const errors: Errors = {};
  const targets = f.targets.split(/[\s,]+/).filter(Boolean);
  const bad = targets.filter((t) => !validTarget(t));
  if (bad.length) errors.targets = `Not an IPv4 address (with an optional :port): ${bad.slice(0, 3).join(', ')}`;
  else if (targets.length > MAX_TARGETS) errors.targets = `At most ${MAX_TARGETS} addresses.`;
  const range = f.range.trim();
  if (range && !/^\d{1,3}(\.\d{1,3}){3}-\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$/.test(range)) {
    errors.range = 'Write the range as first-last, for example 10.0.0.1-10.0.0.40 (at most 1024 addresses).';
  }
  const num = (s: string) => (s.trim() === '' ? null : Number(s));
  const low = num(f.low);
  const high = num(f.high);
  const inst = (v: number | null) => v === null || (Number.isInteger(v) && v >= 0 && v <= MAX_INSTANCE);
  if (!inst(low)) errors.low = `A whole number from 0 to ${MAX_INSTANCE}.`;
  if (!inst(high)) errors.high = `A whole number from 0 to ${MAX_INSTANCE}.`;
  if (!errors.low && !errors.high && (low === null) !== (high === null)) {
    errors[low === null ? 'low' : 'high'] = 'Give both ends of the instance range, or neither.';
  }
  if (!errors.low && !errors.high && low !== null && high !== null && low > high) errors.high = 'The highest instance must not be below the lowest.';
  const wait = num(f.wait);
  if (wait !== null && !(wait >= 0.5 && wait <= 600)) errors.wait = 'From 0.5 to 600 seconds.';
  if (!f.broadcast && targets.length === 0 && !range) {
    errors.form = 'Nothing to ask: turn broadcast on or give addresses or a range.';
  }
  if (Object.keys(errors).length) return { errors };
  const args: DiscoverArgs = { broadcast: f.broadcast };
  if (targets.length) args.targets = targets;
  if (range) args.range = range;
  if (low !== null && high !== null) {
    args.low = low;
    args.high = high;
  }
  if (wait !== null) args.wait_ms = Math.round(wait * 1000);
  return { args, errors };
}

function FieldError({ id, msg }: { id: string; msg?: string }) {
  return msg ? <p id={id} className="mt-1 text-sm font-medium text-red-800 dark:text-red-300">{msg}</p> : null;
}

export function AdminDiscoveryForm({ onStart, busy }: { onStart: (a: DiscoverArgs) => void; busy: boolean }) {
  const id = useId();
  const [f, setF] = useState<Fields>({ targets: '', range: '', low: '', high: '', broadcast: true, wait: '' });
  const [errors, setErrors] = useState<Errors>({});
  const set = <K extends keyof Fields>(k: K, v: Fields[K]) => setF((o) => ({ ...o, [k]: v }));

  function submit(e: FormEvent) {
    e.preventDefault();
    const r = discoverArgs(f);
    setErrors(r.errors);
    if (r.args) onStart(r.args);
  }

  const described = (k: keyof Errors) => (errors[k] ? { 'aria-invalid': true, 'aria-describedby': `${id}-${k}-e` } : {});
  return (
    <form onSubmit={submit} noValidate className="card grid gap-4 sm:grid-cols-2" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`} className="text-base font-semibold sm:col-span-2">Find BACnet devices</h3>
      <div className="sm:col-span-2">
        <label className="flex min-h-[44px] items-center gap-2 text-sm font-medium">
          <input type="checkbox" className="h-5 w-5" checked={f.broadcast} onChange={(e) => set('broadcast', e.target.checked)} />
          Broadcast Who-Is on the local network
        </label>
      </div>
      <div>
        <label className="label" htmlFor={`${id}-targets`}>Device addresses (optional)</label>
        <textarea id={`${id}-targets`} className="input" rows={3} value={f.targets} placeholder="10.0.0.5&#10;10.0.0.6:47809"
                  onChange={(e) => set('targets', e.target.value)} {...described('targets')} />
        <p className="muted mt-1 text-xs">One per line: IPv4 address, optionally :port (47808 by default).</p>
        <FieldError id={`${id}-targets-e`} msg={errors.targets} />
      </div>
      <div>
        <label className="label" htmlFor={`${id}-range`}>Address range (optional)</label>
        <input id={`${id}-range`} className="input" value={f.range} placeholder="10.0.0.1-10.0.0.40"
               onChange={(e) => set('range', e.target.value)} {...described('range')} />
        <FieldError id={`${id}-range-e`} msg={errors.range} />
      </div>
      <fieldset className="grid grid-cols-2 gap-2">
        <legend className="label">Device instances (optional)</legend>
        <div>
          <label className="label" htmlFor={`${id}-low`}>Lowest</label>
          <input id={`${id}-low`} className="input" inputMode="numeric" value={f.low} onChange={(e) => set('low', e.target.value)} {...described('low')} />
          <FieldError id={`${id}-low-e`} msg={errors.low} />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-high`}>Highest</label>
          <input id={`${id}-high`} className="input" inputMode="numeric" value={f.high} onChange={(e) => set('high', e.target.value)} {...described('high')} />
          <FieldError id={`${id}-high-e`} msg={errors.high} />
        </div>
      </fieldset>
      <div>
        <label className="label" htmlFor={`${id}-wait`}>Listen for answers (seconds)</label>
        <input id={`${id}-wait`} className="input" inputMode="decimal" value={f.wait} placeholder="3"
               onChange={(e) => set('wait', e.target.value)} {...described('wait')} />
        <p className="muted mt-1 text-xs">After the last Who-Is; 3 s when empty.</p>
        <FieldError id={`${id}-wait-e`} msg={errors.wait} />
      </div>
      <div className="sm:col-span-2">
        <FieldError id={`${id}-form-e`} msg={errors.form} />
        <button type="submit" className="btn-primary mt-1" disabled={busy}>
          {busy ? 'Discovery running…' : 'Start discovery'}
        </button>
        <p className="muted mt-2 text-xs">Discovery only reads devices; nothing is added to the model until you accept points below.</p>
      </div>
    </form>
  );
}
