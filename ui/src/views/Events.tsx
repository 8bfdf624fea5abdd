// The 402 history: every cliff event from polls and logs, filterable.
import { useState } from "preact/hooks";
import { api } from "../api";
import type { Outcome } from "../bindings/Outcome";
import type { Dashboard } from "../bindings/Dashboard";
import type { PaymentView } from "../bindings/PaymentView";
import { formatTime, outcomeLabel } from "../format";
import { useLoad } from "../hooks";
import { ErrorBanner, OutcomeChip, PaymentLinkButton } from "../ui";
import { ExportButton } from "../export";

const OUTCOMES: Outcome[] = ["out_of_credit", "payment_required", "rate_limited", "unauthorized", "forbidden", "server_error", "client_error", "bad_response"];
/** What a filter option adds to the outcome's word, where the word alone could be misread. */
const OUTCOME_HINT: Partial<Record<Outcome, string>> = { payment_required: "price asked" };
const RANGES: [string, number | null][] = [
  ["Last 24 h", 24],
  ["Last 7 days", 24 * 7],
  ["Last 30 days", 24 * 30],
  ["All time", null],
];

export interface EventFilter {
  account: number | null;
  provider: string;
  outcome: Outcome | "";
  hours: number | null;
}

export const defaultFilter: EventFilter = { account: null, provider: "", outcome: "", hours: null };

export function EventsView({ dash, version, initial }: { dash: Dashboard | null; version: number; initial?: Partial<EventFilter> }) {
  const [f, setF] = useState<EventFilter>({ ...defaultFilter, ...initial });
  const since = f.hours === null ? null : new Date(Date.now() - f.hours * 3600_000).toISOString();
  const { data, error } = useLoad(
    () => api.events({ account: f.account, provider: f.provider || null, outcome: f.outcome || null, since }),
    [f.account, f.provider, f.outcome, f.hours, version],
  );
  const accounts = dash?.accounts ?? [];
  const providerName = new Map(accounts.map((a) => [a.account.provider, a.provider_name]));
  const providers = Array.from(new Set(accounts.map((a) => a.account.provider).concat((data ?? []).map((e) => e.event.provider ?? "").filter(Boolean)))).sort();
  return (
    <section id="events-view">
      <div class="filters">
        <label>
          Account
          <select id="filter-account" value={f.account ?? ""} onChange={(e) => setF({ ...f, account: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
            <option value="">All</option>
            {accounts.map((a) => (
              <option value={a.account.id}>{a.account.label}</option>
            ))}
          </select>
        </label>
        <label>
          Provider
          <select id="filter-provider" value={f.provider} onChange={(e) => setF({ ...f, provider: e.currentTarget.value })}>
            <option value="">All</option>
            {providers.map((p) => (
              <option value={p}>{providerName.get(p) ?? p}</option>
            ))}
          </select>
        </label>
        <label>
          Outcome
          <select id="filter-outcome" value={f.outcome} onChange={(e) => setF({ ...f, outcome: e.currentTarget.value as Outcome | "" })}>
            <option value="">All</option>
            {OUTCOMES.map((o) => (
              <option value={o}>{OUTCOME_HINT[o] ? `${outcomeLabel(o)} (${OUTCOME_HINT[o]})` : outcomeLabel(o)}</option>
            ))}
          </select>
        </label>
        <label>
          Time
          <select id="filter-time" value={f.hours ?? ""} onChange={(e) => setF({ ...f, hours: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
            {RANGES.map(([label, h]) => (
              <option value={h ?? ""}>{label}</option>
            ))}
          </select>
        </label>
        <span class="muted filters-count">{data ? `${data.length} event${data.length === 1 ? "" : "s"}` : ""}</span>
        {/* The account and time filters apply to the file too (provider and outcome do not: the
            export has every outcome, as `cliffwatch export events` does). */}
        <ExportButton dataset="events" label="Export…" account={f.account} accountLabel={accounts.find((a) => a.account.id === f.account)?.account.label} since={since} />
      </div>
      <ErrorBanner error={error} />
      {data && data.length === 0 && (
        <div class="empty">
          <h2>No 402s {f.account || f.provider || f.outcome || f.hours ? "match these filters" : "yet"}</h2>
          <p class="muted">Out-of-credit answers and prices asked, from balance polls and from watched logs, land here, with the provider's own words.</p>
        </div>
      )}
      {data && data.length > 0 && (
        <table class="events" id="events">
          <thead>
            <tr>
              <th>When</th>
              <th>Account</th>
              <th>Outcome</th>
              <th>Payment</th>
              <th>Message</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {data.map((r) => {
              const e = r.event;
              return (
                <tr key={String(e.id)} data-event={String(e.id)}>
                  <td class="nowrap">{formatTime(e.occurred_at)}</td>
                  <td>
                    <div class="acc-label">{r.account_label ?? e.host ?? "—"}</div>
                    <div class="acc-provider">{e.provider ? providerName.get(e.provider) ?? e.provider : ""}</div>
                  </td>
                  <td>
                    <OutcomeChip outcome={e.outcome} />
                    {e.status != null && <div class="mono small muted">HTTP {String(e.status)}</div>}
                  </td>
                  <td class="pay">{r.payment_view ? <PaymentCell p={r.payment_view} /> : <span class="muted">—</span>}</td>
                  <td class="msg">
                    <div>{e.message ?? "—"}</div>
                    <div class="mono small muted">
                      {e.code}
                      {e.quota && ` · ${e.quota}`}
                    </div>
                    {r.payment_link && <PaymentLinkButton link={r.payment_link} />}
                  </td>
                  <td class="mono small src">
                    {r.source_path ? (
                      <span title={r.source_path}>
                        {basename(r.source_path)} @ {String(e.byte_offset ?? 0)}
                      </span>
                    ) : (
                      <span class="muted">{e.origin === "poll" ? "balance poll" : e.origin === "proxy" ? "proxy" : "log"}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Core's words for the payment: "x402 v2 · 0.01 USDC", then "eip155:8453 → 0x2096…287C", the
 * resource, and what could not be read. Shown as given; the window formats none of it. */
export function PaymentCell({ p }: { p: PaymentView }) {
  const where = [p.network, p.pay_to].filter(Boolean).join(" → ");
  return (
    <div class="payment" data-stage={p.stage} title={p.description ?? undefined}>
      <div>
        {p.protocol}
        {p.price && ` · ${p.price}`}
      </div>
      {where && <div class="mono small muted pay-where">{where}</div>}
      {p.resource && <div class="small muted pay-resource">{p.resource}</div>}
      {p.note && <div class="small muted">{p.note}</div>}
    </div>
  );
}

function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}
