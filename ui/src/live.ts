// Live updates: the Rust side emits CHANGED_EVENT on every change (a poll, a scan, an edit);
// bursts (a backfill emits many) are coalesced into one re-fetch.
import { listen } from "@tauri-apps/api/event";
import { useEffect, useState } from "preact/hooks";
import type { LogProgress } from "./bindings/LogProgress";
import { CHANGED_EVENT, LOG_PROGRESS_EVENT, OPEN_ACCOUNT_EVENT } from "./events";

/** Coalesces calls: `fn` runs once, `ms` after the first call of a burst. */
export function batched(fn: () => void, ms: number): { trigger: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    trigger() {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

/** How long a burst of change events is collected before the dashboard re-fetches. */
export const REFRESH_BATCH_MS = 250;

/** Runs `onEvent` for each Tauri event `name` until the returned unsubscribe is called, then
 * `batch` is cancelled (pending work dropped). Outside Tauri (unit tests) nothing arrives. */
function subscribe<T>(name: string, onEvent: (payload: T) => void, batch: { cancel: () => void }): () => void {
  let unlisten: (() => void) | null = null;
  let stopped = false;
  listen<T>(name, (e) => onEvent(e.payload))
    .then((u) => {
      if (stopped) u();
      else unlisten = u;
    })
    .catch(() => {
      // Outside Tauri (unit tests) there is no event bus.
    });
  return () => {
    stopped = true;
    batch.cancel();
    unlisten?.();
  };
}

/** Calls `onChange` (batched) whenever stored data changes. Returns the unsubscribe. */
export function onDataChanged(onChange: () => void): () => void {
  const b = batched(onChange, REFRESH_BATCH_MS);
  return subscribe(CHANGED_EVENT, () => b.trigger(), b);
}

/** Calls `show(id)` when a notification about account `id` was clicked. Returns the
 * unsubscribe. */
export function onOpenAccount(show: (id: number) => void): () => void {
  return subscribe<number>(OPEN_ACCOUNT_EVENT, show, { cancel: () => {} });
}

/** Backfills under way, by log source id. A finished one (every file done) is dropped. */
export type Backfills = ReadonlyMap<number, LogProgress>;

/** Folds one progress event into the backfills under way. */
export function withProgress(backfills: Backfills, p: LogProgress): Backfills {
  const next = new Map(backfills);
  if (p.files_done >= p.files_total || p.bytes_done >= p.bytes_total) next.delete(p.source_id);
  else next.set(p.source_id, p);
  return next;
}

/** Share of a backfill read, 0..1 (by bytes). */
export function progressShare(p: LogProgress): number {
  if (p.bytes_total <= 0) return 1;
  return Math.min(1, Math.max(0, p.bytes_done / p.bytes_total));
}

/** How often the progress bars repaint at most while a backfill emits events. */
export const PROGRESS_REPAINT_MS = 100;

/** A backfill that has said nothing for this long stopped (a file could not be read, the
 * scan failed): its bar goes. A live one reports after every batch, many times a second. */
export const PROGRESS_STALE_MS = 10_000;

/** The backfills whose last report (`seen`, by source id) is newer than `now - staleMs`. */
export function withoutStale(backfills: Backfills, seen: ReadonlyMap<number, number>, now: number, staleMs: number): Backfills {
  const next = new Map(backfills);
  for (const id of backfills.keys()) {
    if ((seen.get(id) ?? 0) < now - staleMs) next.delete(id);
  }
  return next;
}

/** The backfills under way, kept current from LOG_PROGRESS_EVENT (repainted at most every
 * PROGRESS_REPAINT_MS, however fast the scanner reports). */
export function useBackfills(): Backfills {
  const [shown, setShown] = useState<Backfills>(new Map());
  useEffect(() => {
    let latest: Backfills = new Map();
    const seen = new Map<number, number>();
    const paint = batched(() => setShown(latest), PROGRESS_REPAINT_MS);
    const sweep = setInterval(() => {
      if (latest.size === 0) return;
      const kept = withoutStale(latest, seen, Date.now(), PROGRESS_STALE_MS);
      if (kept.size !== latest.size) {
        latest = kept;
        paint.trigger();
      }
    }, PROGRESS_STALE_MS / 2);
    const unsubscribe = subscribe<LogProgress>(
      LOG_PROGRESS_EVENT,
      (p) => {
        seen.set(p.source_id, Date.now());
        latest = withProgress(latest, p);
        paint.trigger();
      },
      paint,
    );
    return () => {
      clearInterval(sweep);
      unsubscribe();
    };
  }, []);
  return shown;
}
