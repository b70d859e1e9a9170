/**
 * Load data for a component: cancelled when the inputs change or it
 * unmounts.  reload() keeps the data shown while it loads again; new inputs
 * clear it (another zone's data must never show under this zone's title).
 */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

interface State<T> {
  key: number;
  data: T | undefined;
  error: unknown;
  loading: boolean;
}

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  // A generation number per distinct deps (compared by identity, like useEffect's).
  const depsRef = useRef<{ deps: readonly unknown[]; gen: number }>({ deps, gen: 0 });
  if (!same(depsRef.current.deps, deps)) depsRef.current = { deps, gen: depsRef.current.gen + 1 };
  const key = depsRef.current.gen;
  const [state, setState] = useState<State<T>>({ key, data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: undefined, loading: true }));
    fnRef.current(ac.signal).then(
      (data) => {
        if (!ac.signal.aborted) setState({ key, data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!ac.signal.aborted) setState((s) => ({ key, data: s.key === key ? s.data : undefined, error, loading: false }));
      },
    );
    return () => ac.abort();
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: current ? state.loading : true,
    reload,
  };
}
