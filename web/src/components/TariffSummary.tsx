/** One tariff in words: energy prices by period, demand and fixed charges, and the rest. */
import type { Tariff } from '../api/analytics';
import { demandWords, energyWords, fixedWords, otherWords } from './TariffWords';

function Block({ title, items }: { title: string; items: string[] }) {
  return (
    <div>
      <h4 className="text-sm font-semibold">{title}</h4>
      {items.length === 0 ? <p className="muted text-sm">none</p> : (
        <ul className="ml-5 list-disc text-sm">{items.map((x, i) => <li key={`${i}-${x}`}>{x}</li>)}</ul>
      )}
    </div>
  );
}

export function TariffSummary({ t }: { t: Tariff }) {
  return (
    <div className="space-y-2">
      {t.description && <p className="muted text-sm">{t.description}</p>}
      <div className="grid gap-3 md:grid-cols-3">
        <Block title="Energy" items={t.energy.map((r) => energyWords(r, t.currency))} />
        <Block title="Demand charges" items={(t.demand ?? []).map((d) => demandWords(d, t))} />
        <Block title="Fixed charges" items={(t.fixed ?? []).map((f) => fixedWords(f, t.currency))} />
      </div>
      <ul className="muted text-sm">{otherWords(t).map((x) => <li key={x}>{x}</li>)}</ul>
    </div>
  );
}
