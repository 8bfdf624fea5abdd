// Data hooks: loading from the API, and the clock that relative times ("3 min ago") read.
// Data is fetched on mount, when a hook's inputs change, on the "changed" event (App bumps a
// version) and on the user's actions; the clock's tick only re-renders, it fetches nothing.
import { createContext } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";

/** How often relative times ("3 min ago") are refreshed without a data change. */
export const TICK_MS = 60_000;

/** The time relative labels are written against; App provides it, ticking every TICK_MS. */
export const NowContext = createContext<Date | null>(null);

/** The wall clock, moved every `ms` (for the NowContext provider). */
export function useTick(ms: number = TICK_MS): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** The provided clock; outside a provider (a component mounted alone in a test) the time of
 * this render. */
export function useNow(): Date {
  return useContext(NowContext) ?? new Date();
}

/**
 * Core's "now" at the latest tick: `asOf`, the time core wrote a payload by its own clock (the
 * demo's runs compressed, 30 minutes a second), moved on by the wall time since the payload
 * arrived here. Labels such as "last reading 3 min ago" then age between fetches and agree
 * with core's clock after each one.
 */
export function useCoreNow(asOf: string): Date {
  const now = useNow();
  const seen = useRef<{ asOf: string; wall: number } | null>(null);
  if (seen.current?.asOf !== asOf) seen.current = { asOf, wall: Date.now() };
  const base = Date.parse(asOf);
  if (!Number.isFinite(base)) return now;
  return new Date(base + Math.max(0, now.getTime() - seen.current.wall));
}

/** Counts how often `deps` changed (element by element, by Object.is, as hook deps compare). */
function useGeneration(deps: readonly unknown[]): number {
  const ref = useRef<{ deps: readonly unknown[]; gen: number } | null>(null);
  const prev = ref.current;
  if (prev === null) ref.current = { deps, gen: 0 };
  else if (prev.deps.length !== deps.length || prev.deps.some((d, i) => !Object.is(d, deps[i]))) ref.current = { deps, gen: prev.gen + 1 };
  return ref.current!.gen;
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  reload: () => void;
}

/**
 * Runs `load` on mount, again whenever a value in `deps` changes, and on `reload()`. `deps`
 * lists what `load` reads that should fetch again (an id, a filter, App's data version);
 * `load` itself may be a new closure each render: the latest one is called, from a ref, and
 * a new closure alone does not fetch. The previous data stays while reloading (no flicker);
 * an answer that arrives after a newer load started, or after unmount, is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [reloads, setReloads] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  const gen = useGeneration(deps);
  useEffect(() => {
    let live = true;
    loader.current().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
      },
      (e: unknown) => live && setError(e instanceof ApiError ? e : new ApiError("ipc", String(e))),
    );
    return () => {
      live = false;
    };
  }, [gen, reloads]);
  const reload = useRef(() => setReloads((x) => x + 1)).current;
  return { data, error, reload };
}
