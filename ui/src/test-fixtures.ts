// Test data shaped like core's answers (not bundled: only tests import this).
import type { AccountRow } from "./bindings/AccountRow";
import type { AccountSeverity } from "./bindings/AccountSeverity";

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
    },
    severity,
    sparkline: [],
    last_event: null,
  };
}
