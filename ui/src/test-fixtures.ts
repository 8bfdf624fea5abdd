// Test data shaped like core's answers (not bundled: only tests import this).
import type { AccountRow } from "./bindings/AccountRow";
import type { AccountDetail } from "./bindings/AccountDetail";
import type { AccountSeverity } from "./bindings/AccountSeverity";
import type { AlertRules } from "./bindings/AlertRules";
import type { EventRow } from "./bindings/EventRow";
import type { Outcome } from "./bindings/Outcome";
import type { PaymentView } from "./bindings/PaymentView";
import type { SpendRow } from "./bindings/SpendRow";

/** An account row as core sends it: a runway with median `p50` hours (null: still learning),
 * read at 11:58 on 21 Nov 2026 for a forecast as of 12:00, rated `severity` by core. */
export function accountRow(id: number, label: string, p50: number | null, remaining: number, unit: string, severity: AccountSeverity = "ok"): AccountRow {
  return {
    account: {
      id,
      provider: "openrouter",
      label,
      base_url: null,
      secret: "keychain",
      secret_hint: "…abcd",
      budget: null,
      budget_set_at: null,
      options: {},
      state: "ok",
      state_message: null,
      poll_interval_s: null,
      breaker: false,
      created_at: "2026-11-20T00:00:00Z",
      updated_at: "2026-11-21T00:00:00Z",
    },
    provider_name: "OpenRouter",
    category: "llm",
    top_up_url: "https://openrouter.ai/settings/credits",
    latest: { account_id: id, observed_at: "2026-11-21T11:58:00Z", remaining, limit: null, used: null, unit, resets_at: null, is_topup: false },
    forecast: {
      account_id: id,
      as_of: "2026-11-21T12:00:00Z",
      remaining,
      unit,
      observed_at: "2026-11-21T11:58:00Z",
      rate_per_day: 20,
      runway_hours: p50 === null ? null : { p10: p50 * 0.6, p50, p90: p50 * 1.5 },
      exhausts_at: null,
      resets_at: null,
      runs_out_before_reset: null,
      state: p50 === null ? "learning" : "ok",
      message: p50 === null ? "learning: 5 more hours of readings needed for a forecast" : "",
      history_hours: 40,
      calibrated_with: 0,
      basis: "from 2 days of readings; band widened: too little history to check past forecasts yet",
    },
    severity,
    sparkline: [],
    last_event: null,
    breaker_open_since: null,
  };
}

/** Core's default alert rules (the unpaid-challenges alert off). */
export function defaultRules(): AlertRules {
  return {
    low_balance_amount: null,
    low_balance_percent: 10,
    runway_warning_hours: 72,
    runway_critical_hours: 24,
    poll_failing_hours: 1,
    enabled: true,
    unpaid_challenges_per_hour: null,
  };
}

/** A logged event of account 1 at 11:30 on 21 Nov 2026, with core's words for its payment
 * (none unless given). */
export function eventRow(id: number, outcome: Outcome, payment_view: PaymentView | null = null): EventRow {
  return {
    event: {
      id,
      account_id: 1,
      provider: "openrouter",
      occurred_at: "2026-11-21T11:30:00Z",
      origin: "log",
      outcome,
      status: 402n,
      method: "GET",
      host: "api.example.com",
      url: "https://api.example.com/v1/data",
      code: null,
      message: outcome === "payment_required" ? "Payment required" : "Insufficient credits",
      quota: null,
      payment: null,
      log_file_id: null,
      byte_offset: null,
    },
    account_label: "llm-main",
    source_path: null,
    payment_link: null,
    payment_view,
  };
}

/** One account's detail screen as core sends it, with the given pay-per-call spend. */
export function accountDetail(pay_per_call: SpendRow[] = []): AccountDetail {
  const row = accountRow(1, "llm-main", 30, 12.5, "usd");
  return { row, unit: "usd", history: [], top_ups: [], band: [], events: [], latest_error: null, rules: defaultRules(), pay_per_call };
}
