// How an account's severity looks. Core decides the severity (from the account's state, its
// forecast and the user's alert thresholds: the same answer the tray and the alerts give);
// the window only maps it to colours and words, here, and never decides it itself.
import type { AccountSeverity } from "./bindings/AccountSeverity";
import type { AccountState } from "./bindings/AccountState";
import { stateLabel } from "./format";

/** The colour families of styles.css (`tone-*`, `bg-*`, `border-*`). */
export type Tone = "ok" | "warn" | "crit" | "ooc" | "unknown";

/** Severity → colour. A failed poll is red, as its state chip (`chip-error`) has always been. */
export const SEVERITY_TONE: Readonly<Record<AccountSeverity, Tone>> = {
  ok: "ok",
  unknown: "unknown",
  error: "crit",
  warning: "warn",
  critical: "crit",
  out_of_credit: "ooc",
};

/** The tone of a severity; "unknown" for a value this build does not know (a newer core). */
export function severityTone(s: AccountSeverity | null | undefined): Tone {
  return s != null && Object.prototype.hasOwnProperty.call(SEVERITY_TONE, s) ? SEVERITY_TONE[s] : "unknown";
}

/** A state chip: its CSS class suffix (`chip-…`) and its word. */
export interface Chip {
  kind: string;
  label: string;
}

/** What a key that answers fine (state "ok") says when core rates it worse than ok: it runs
 * out soon, or has run out. Other severities of a working key show the state itself. */
const WORKING_KEY_CHIP: Partial<Record<AccountSeverity, Chip>> = {
  warning: { kind: "warning", label: "warning" },
  critical: { kind: "critical", label: "critical" },
  out_of_credit: { kind: "out_of_credit", label: stateLabel("out_of_credit") },
};

/** The chip of an account: its state in one word, except that a working key that core rates
 * warning, critical or out of credit says so. Without a severity (a poll result, a row just
 * added) the state alone. */
export function stateChip(state: AccountState, severity?: AccountSeverity | null): Chip {
  const chip = state === "ok" && severity ? WORKING_KEY_CHIP[severity] : undefined;
  return chip ?? { kind: state, label: stateLabel(state) };
}
