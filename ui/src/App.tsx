import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import type { StatusReport } from "./bindings/StatusReport";
import { formatAgo, formatAmount } from "./format";

export function App() {
  const [report, setReport] = useState<StatusReport | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    api.status().then(setReport, (e: ApiError) => setError(e));
  }, []);

  return (
    <main>
      <header class="top">
        <h1>Cliffwatch</h1>
        <span class="sub">sees the 402 cliff coming</span>
      </header>
      {error && (
        <p class="error" role="alert" data-kind={error.kind}>
          {error.message}
        </p>
      )}
      {!report && !error && <p class="muted">Loading…</p>}
      {report && report.accounts.length === 0 && <EmptyState dataDir={report.data_dir} />}
      {report && report.accounts.length > 0 && (
        <table id="accounts" class="accounts">
          <thead>
            <tr>
              <th>Account</th>
              <th>Provider</th>
              <th>Remaining</th>
              <th>State</th>
              <th>Last poll</th>
            </tr>
          </thead>
          <tbody>
            {report.accounts.map((s) => (
              <tr key={s.account.id} data-account={s.account.label}>
                <td>{s.account.label}</td>
                <td>{s.provider_name}</td>
                <td class="num">{s.latest ? formatAmount(s.latest.remaining, s.latest.unit) : "—"}</td>
                <td>
                  <span class={`chip chip-${s.account.state}`}>{s.account.state.replace(/_/g, " ")}</span>
                </td>
                <td>{formatAgo(s.latest?.observed_at, new Date(report.generated_at))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function EmptyState({ dataDir }: { dataDir: string }) {
  return (
    <section id="empty-state" class="empty">
      <h2>No accounts yet</h2>
      <p>Cliffwatch watches the balances of your API keys and warns you before one runs dry.</p>
      <p>Add your first key from a terminal:</p>
      <pre>printenv OPENROUTER_API_KEY | cliffwatch account add --provider openrouter --label main --secret-stdin</pre>
      <p class="muted">
        Keys go to your OS keychain, never to disk. Data directory: <code>{dataDir}</code>
      </p>
    </section>
  );
}
