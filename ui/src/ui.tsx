// Small shared visual pieces: chips, the runway band bar, dialogs, error banners. Data hooks
// are in hooks.ts, severity's colours and words in severity.ts.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { AccountSeverity } from "./bindings/AccountSeverity";
import type { AccountState } from "./bindings/AccountState";
import type { Outcome } from "./bindings/Outcome";
import type { Forecast } from "./bindings/Forecast";
import type { PaymentLink } from "./bindings/PaymentLink";
import type { PollResult } from "./bindings/PollResult";
import { ApiError, api } from "./api";
import { formatAmount, formatBand, formatHours, outcomeLabel } from "./format";
import { severityTone, stateChip } from "./severity";

/** The account's state in one word. With core's severity, a key that answers fine but runs
 * out soon says "warning" or "critical" (by the user's alert thresholds, as the tray and the
 * alerts do). Without one (a poll result, a row just added) the state alone. */
export function StateChip({ state, severity }: { state: AccountState; severity?: AccountSeverity | null }) {
  const chip = stateChip(state, severity);
  return <span class={`chip chip-${chip.kind}`}>{chip.label}</span>;
}

export function OutcomeChip({ outcome }: { outcome: Outcome }) {
  return <span class={`chip outcome-${outcome}`}>{outcomeLabel(outcome)}</span>;
}

/** Scale of the runway bar: 0 at the left, a week at the right edge (log-ish so hours show). */
export const BAR_HOURS = 24 * 7;
export function barPos(h: number): number {
  const c = Math.min(Math.max(h, 0), BAR_HOURS);
  return (Math.log1p(c) / Math.log1p(BAR_HOURS)) * 100;
}

/** "~14 h" with the P10–P90 band under it and a bar: where the cliff is, and how sure. */
export function Runway({ f, severity }: { f: Forecast; severity: AccountSeverity }) {
  const t = severityTone(severity);
  if (severity === "out_of_credit" || f.state === "out_of_credit") {
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
  // No runway to colour (learning, idle, no forecast): the words stay neutral.
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
