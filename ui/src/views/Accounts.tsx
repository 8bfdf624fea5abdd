// The accounts table: nearest cliff first, keyboard navigable (↑/↓ move, Enter opens).
import { useRef } from "preact/hooks";
import type { Dashboard } from "../bindings/Dashboard";
import type { AccountRow } from "../bindings/AccountRow";
import { Sparkline } from "../charts";
import { formatAgo, formatAmount, formatHours, formatRate, formatTime } from "../format";
import { useCoreNow } from "../hooks";
import { severityTone } from "../severity";
import { Runway, StateChip } from "../ui";
import { ExportButton } from "../export";

export function AccountsView({ data, onOpen, onAdd }: { data: Dashboard; onOpen: (id: number) => void; onAdd: () => void }) {
  // Core's time of the dashboard, aged by the window's minute tick (no re-fetch for that).
  const now = useCoreNow(data.generated_at);
  if (data.accounts.length === 0) return <EmptyState dataDir={data.data_dir} onAdd={onAdd} />;
  return (
    <>
      <Summary data={data} onOpen={onOpen} />
      <AccountsTable rows={data.accounts} now={now} onOpen={onOpen} />
      <div class="exports muted small" id="exports">
        Export
        <ExportButton dataset="balances" label="balances…" />
        <ExportButton dataset="alerts" label="alerts…" />
        <ExportButton dataset="usage" label="usage…" />
        <span>as CSV (a balances file reads back through <code>cliffwatch import balances</code>) or JSON</span>
      </div>
    </>
  );
}

function Summary({ data, onOpen }: { data: Dashboard; onOpen: (id: number) => void }) {
  const first = data.accounts[0];
  const out = data.accounts.filter((a) => a.severity === "out_of_credit");
  const critical = data.alerts.filter((a) => a.severity === "critical").length;
  const t = severityTone(first?.severity);
  const p50 = first?.forecast.runway_hours?.p50;
  return (
    <section class="summary" id="summary">
      {first && (
        <button class={`card card-hero border-${t}`} onClick={() => onOpen(first.account.id)}>
          <span class="card-label">Nearest cliff</span>
          <span class={`card-value tone-${t}`}>
            {out.includes(first) ? "out of credit" : first.forecast.state === "ok" && p50 !== undefined ? `~${formatHours(p50)}` : first.forecast.state === "learning" ? "learning" : "none in sight"}
          </span>
          <span class="card-sub">
            {first.provider_name} · {first.account.label}
          </span>
        </button>
      )}
      <div class="card">
        <span class="card-label">Accounts</span>
        <span class="card-value">{data.accounts.length}</span>
        <span class="card-sub">{out.length ? `${out.length} out of credit` : "none out of credit"}</span>
      </div>
      <div class="card">
        <span class="card-label">Open alerts</span>
        <span class={`card-value ${critical ? "tone-crit" : data.alerts.length ? "tone-warn" : ""}`}>{data.alerts.length}</span>
        <span class="card-sub">{critical ? `${critical} critical` : data.alerts[0]?.title ?? "all quiet"}</span>
      </div>
    </section>
  );
}

export function AccountsTable({ rows, now, onOpen }: { rows: AccountRow[]; now: Date; onOpen: (id: number) => void }) {
  const body = useRef<HTMLTableSectionElement>(null);
  const onKey = (e: KeyboardEvent, i: number, id: number) => {
    const trs = body.current?.querySelectorAll<HTMLTableRowElement>("tr") ?? [];
    if (e.key === "ArrowDown" || e.key === "j") {
      trs[Math.min(i + 1, trs.length - 1)]?.focus();
      e.preventDefault();
    } else if (e.key === "ArrowUp" || e.key === "k") {
      trs[Math.max(i - 1, 0)]?.focus();
      e.preventDefault();
    } else if (e.key === "Enter") {
      onOpen(id);
      e.preventDefault();
    }
  };
  return (
    // The card scrolls sideways when the window is too narrow for the table (never clipped).
    <div class="table-card table-scroll">
      <table id="accounts" class="accounts" aria-label="Accounts, nearest cliff first">
        <thead>
          <tr>
            <th>Account</th>
            <th class="num">Remaining</th>
            <th class="num">Burn</th>
            <th>Runway</th>
            <th>Last 7 days</th>
            <th>State</th>
            <th>Last reading</th>
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.map((r, i) => {
            const unit = r.latest?.unit ?? r.forecast.unit;
            const remaining = r.forecast.remaining ?? r.latest?.remaining ?? null;
            const t = severityTone(r.severity);
            return (
              <tr
                key={r.account.id}
                data-account={r.account.label}
                tabIndex={0}
                class={`row tone-row-${t}`}
                onClick={() => onOpen(r.account.id)}
                onKeyDown={(e) => onKey(e, i, r.account.id)}
              >
                <td class="acc">
                  <div class="acc-label" title={r.account.label}>
                    {r.account.label}
                  </div>
                  <div class="acc-provider" title={r.provider_name}>
                    {r.provider_name}
                  </div>
                </td>
                <td class="num remaining">
                  <Amount text={formatAmount(remaining, unit)} />
                </td>
                <td class="num muted burn">{formatRate(r.forecast.rate_per_day, unit)}</td>
                <td>
                  <Runway f={r.forecast} severity={r.severity} />
                </td>
                <td>
                  <Sparkline points={r.sparkline} tone={t === "unknown" ? "accent" : t} />
                </td>
                <td title={r.account.state_message ?? ""}>
                  <StateChip state={r.account.state} severity={r.severity} />
                </td>
                <td class="muted ago" title={formatTime(r.latest?.observed_at)}>
                  {formatAgo(r.latest?.observed_at, now)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** An amount with its unit in small type ("4,820 credits", "1,234.56 CHF"); when the table
 * is short of room the unit wraps under the number instead of widening the column. The text
 * stays one line for readers of it ("4,820 credits"); a symbol stays in front ("$12.50"). */
function Amount({ text }: { text: string }) {
  const m = /^(\S+) ([A-Za-z][A-Za-z ]*)$/.exec(text);
  if (!m) return <>{text}</>;
  return (
    <span title={text}>
      {m[1]} <span class="amount-unit">{m[2]}</span>
    </span>
  );
}

function EmptyState({ dataDir, onAdd }: { dataDir: string; onAdd: () => void }) {
  return (
    <section id="empty-state" class="empty">
      <h2>No accounts yet</h2>
      <p>Cliffwatch watches the balances of your API keys and warns you before one runs dry.</p>
      <p>
        <button class="btn btn-primary" id="empty-add" onClick={onAdd}>
          Add your first account
        </button>
      </p>
      <p>Or add one from a terminal:</p>
      <pre>printenv OPENROUTER_API_KEY | cliffwatch account add --provider openrouter --label main --secret-stdin</pre>
      <p class="muted">
        Keys go to your OS keychain, never to disk. Data directory: <code>{dataDir}</code>
      </p>
    </section>
  );
}
