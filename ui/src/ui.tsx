// Small shared pieces: chips, the runway band bar, dialogs, error banners, data loading.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { AccountState } from "./bindings/AccountState";
import type { Outcome } from "./bindings/Outcome";
import type { Forecast } from "./bindings/Forecast";
import type { PaymentLink } from "./bindings/PaymentLink";
import type { PollResult } from "./bindings/PollResult";
import { ApiError, api } from "./api";
import { formatAmount, formatBand, formatHours, outcomeLabel, stateLabel } from "./format";

/** The account's state in one word. A key that answers fine but runs out soon says so:
 * "critical" when the early end of its runway (P10) is under 24 h, "warning" under 72 h, the
 * thresholds of the default alert rules and of the tray colour. */
export function StateChip({ state, forecast }: { state: AccountState; forecast?: Forecast }) {
  if (state === "ok" && forecast) {
    const t = tone(forecast, state);
    if (t === "crit") return <span class="chip chip-critical">critical</span>;
    if (t === "warn") return <span class="chip chip-warning">warning</span>;
    if (t === "ooc") return <span class="chip chip-out_of_credit">{stateLabel("out_of_credit")}</span>;
  }
  return <span class={`chip chip-${state}`}>{stateLabel(state)}</span>;
}

export function OutcomeChip({ outcome }: { outcome: Outcome }) {
  return <span class={`chip outcome-${outcome}`}>{outcomeLabel(outcome)}</span>;
}

/** The colour family of a runway: what the user should feel. */
export function tone(f: Forecast, state: AccountState): "ok" | "warn" | "crit" | "ooc" | "unknown" {
  // A failed poll is shown by the state chip; the runway keeps the forecast's colour.
  if (state === "out_of_credit" || f.state === "out_of_credit") return "ooc";
  const p10 = f.runway_hours?.p10;
  if (f.state === "ok" && p10 !== undefined) {
    if (p10 < 24) return "crit";
    if (p10 < 72) return "warn";
    return "ok";
  }
  if (f.state === "idle") return "ok";
  return "unknown";
}

/** Scale of the runway bar: 0 at the left, a week at the right edge (log-ish so hours show). */
export const BAR_HOURS = 24 * 7;
export function barPos(h: number): number {
  const c = Math.min(Math.max(h, 0), BAR_HOURS);
  return (Math.log1p(c) / Math.log1p(BAR_HOURS)) * 100;
}

/** "~14 h" with the P10–P90 band under it and a bar: where the cliff is, and how sure. */
export function Runway({ f, state }: { f: Forecast; state: AccountState }) {
  const t = tone(f, state);
  if (f.state === "out_of_credit" || state === "out_of_credit") {
    return (
      <div class="runway">
        <span class={`runway-main tone-${t}`}>out now</span>
      </div>
    );
  }
  if (f.state === "ok" && f.runway_hours) {
    const r = f.runway_hours;
    const left = barPos(r.p10);
    const right = barPos(r.p90);
    return (
      <div class="runway" title={f.message}>
        <span class={`runway-main tone-${t}`}>~{formatHours(r.p50)}</span>
        <span class="runway-band">{formatBand(r.p10, r.p90)}</span>
        <div class="runway-bar" aria-hidden="true">
          <div class={`runway-range bg-${t}`} style={{ left: `${left}%`, width: `${Math.max(right - left, 1.5)}%` }} />
          <div class="runway-p50" style={{ left: `${barPos(r.p50)}%` }} />
        </div>
      </div>
    );
  }
  const word = f.state === "learning" ? "learning" : f.state === "idle" ? "> 30 d" : "—";
  return (
    <div class="runway" title={f.message}>
      <span class={`runway-main muted`}>{word}</span>
      {f.state === "learning" && <span class="runway-band">{f.message.replace(/^learning: /, "")}</span>}
    </div>
  );
}

export function ErrorBanner({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert" data-kind={error.kind}>
      {error.message}
    </p>
  );
}

export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class={`modal ${wide ? "modal-wide" : ""}`} role="dialog" aria-modal="true" aria-label={title}>
        <header class="modal-head">
          <h2>{title}</h2>
          <button class="icon-btn" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

/**
 * A payment link from a 402 body is untrusted: it opens only after this dialog, which shows
 * the domain it goes to and warns when that is not the provider's.
 */
export function PaymentLinkButton({ link }: { link: PaymentLink }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <>
      <button class={`btn btn-small ${link.provider_domain ? "" : "btn-warn"}`} onClick={() => setOpen(true)}>
        Pay link · {link.domain}
      </button>
      {open && (
        <Modal title="Open a payment link?" onClose={() => setOpen(false)}>
          <div class="confirm" id="payment-confirm">
            <p>This link came from the body of a 402 answer. Anyone between you and the API can write one.</p>
            <p class="confirm-domain">{link.domain}</p>
            {!link.provider_domain && (
              <p class="warn-box">This is not the provider's own domain. Check it before you pay anything.</p>
            )}
            <p class="muted break">{link.url}</p>
            <ErrorBanner error={error} />
            <div class="actions">
              <button class="btn" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button
                class="btn btn-primary"
                onClick={() =>
                  api.openTopUp(link.url).then(
                    () => setOpen(false),
                    (e: ApiError) => setError(e),
                  )
                }
              >
                Open {link.domain}
              </button>
            </div>
          </div>
        </Modal>
      )}
    </>
  );
}

/** Loads `fn` whenever `deps` change; keeps the previous data while reloading (no flicker). */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): { data: T | null; error: ApiError | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    fn().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
      },
      (e: ApiError) => live && setError(e instanceof ApiError ? e : new ApiError("ipc", String(e))),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

/** "Test connection" / "Poll now": the parsed reading, or the classified error in words. */
export function TestConnection({ id, store }: { id: number; store?: boolean }) {
  const [result, setResult] = useState<PollResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const run = () => {
    setBusy(true);
    setError(null);
    (store ? api.pollAccount(id) : api.testAccount(id))
      .then(setResult, (e: ApiError) => setError(e))
      .finally(() => setBusy(false));
  };
  return (
    <div class="test-conn">
      <button class="btn" id={store ? "poll-now" : "test-connection"} onClick={run} disabled={busy}>
        {busy ? "Asking the provider…" : store ? "Poll now" : "Test connection"}
      </button>
      {result && <PollOutcome r={result} />}
      <ErrorBanner error={error} />
    </div>
  );
}

export function PollOutcome({ r }: { r: PollResult }) {
  if (r.error) {
    return (
      <p class={`poll-result bad border-${r.state === "out_of_credit" ? "ooc" : "crit"}`} id="poll-result" data-kind={r.error.kind}>
        <StateChip state={r.state} /> {r.error.message}
      </p>
    );
  }
  return (
    <p class="poll-result good border-ok" id="poll-result">
      <StateChip state={r.state} /> The provider answered: <strong>{formatAmount(r.remaining, r.unit)}</strong> left
      {r.limit != null && <> of {formatAmount(r.limit, r.unit)}</>}
      {r.note && <span class="muted"> ({r.note})</span>}
    </p>
  );
}
