// Live updates: the Rust side emits CHANGED_EVENT on every change (a poll, a scan, an edit);
// bursts (a backfill emits many) are coalesced into one re-fetch.
import { listen } from "@tauri-apps/api/event";
import { CHANGED_EVENT } from "./events";

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

/** Calls `onChange` (batched) whenever stored data changes. Returns the unsubscribe. */
export function onDataChanged(onChange: () => void): () => void {
  const b = batched(onChange, REFRESH_BATCH_MS);
  let unlisten: (() => void) | null = null;
  let stopped = false;
  listen(CHANGED_EVENT, () => b.trigger())
    .then((u) => {
      if (stopped) u();
      else unlisten = u;
    })
    .catch(() => {
      // Outside Tauri (unit tests) there is no event bus.
    });
  return () => {
    stopped = true;
    b.cancel();
    unlisten?.();
  };
}
