// One account: balance history with the forecast band, its 402s on a timeline, the latest
// parsed error body, Top up, remove.
import { useState } from "preact/hooks";
import { api, ApiError, optionsFromForm } from "../api";
import type { AccountDetail } from "../bindings/AccountDetail";
import type { AccountRow } from "../bindings/AccountRow";
import type { EventRow } from "../bindings/EventRow";
import type { SpendRow } from "../bindings/SpendRow";
import { HistoryChart } from "../charts";
import { formatAgo, formatAmount, formatRate, formatTime } from "../format";
import type { PollResult } from "../bindings/PollResult";
import { useCoreNow, useLoad } from "../hooks";
import { severityTone } from "../severity";
import { ErrorBanner, Modal, OutcomeChip, PaymentLinkButton, PollOutcome, Runway, StateChip } from "../ui";
import { ExportButton } from "../export";

/** One account; `version` is App's data version: it moves on a change event or an action
 * (not on the minute tick, which only re-renders "last reading 3 min ago"). */
export function AccountDetailView({ id, version, onBack, onRemoved }: { id: number; version: number; onBack: () => void; onRemoved: () => void }) {
  const { data, error } = useLoad(() => api.account(id), [id, version]);
  return (
    <section id="account-detail">
      <button class="link-btn" onClick={onBack}>
        ← All accounts
      </button>
      <ErrorBanner error={error} />
      {data && <Detail d={data} onRemoved={onRemoved} />}
    </section>
  );
}

function Detail({ d, onRemoved }: { d: AccountDetail; onRemoved: () => void }) {
  const { row } = d;
  const a = row.account;
  const f = row.forecast;
  const unit = d.unit ?? row.latest?.unit ?? null;
  const t = severityTone(row.severity);
  const [error, setError] = useState<ApiError | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [editing, setEditing] = useState(false);
  // Core's time of this forecast, aged by the window's minute tick.
  const now = useCoreNow(f.as_of);
  const [polled, setPolled] = useState<PollResult | null>(null);
  const [busy, setBusy] = useState(false);
  const poll = (store: boolean) => {
    setBusy(true);
    setError(null);
    (store ? api.pollAccount(a.id) : api.testAccount(a.id))
      .then(setPolled, (e: ApiError) => setError(e))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <header class="detail-head">
        <div>
          <h2 class="detail-title">
            {a.label} <StateChip state={a.state} severity={row.severity} />
          </h2>
          <div class="muted">
            {row.provider_name}
            {a.secret_hint && <> · key {a.secret_hint}</>}
            {a.base_url && <> · {a.base_url}</>} · last reading {formatAgo(row.latest?.observed_at, now)}
          </div>
        </div>
        <div class="actions">
          <button class="btn" id="test-connection" disabled={busy} onClick={() => poll(false)}>
            Test connection
          </button>
          <button class="btn" id="poll-now" disabled={busy} onClick={() => poll(true)}>
            Poll now
          </button>
          {row.top_up_url && (
            <button class="btn btn-primary" id="top-up" title={row.top_up_url} onClick={() => api.openTopUp(row.top_up_url!).catch((e: ApiError) => setError(e))}>
              Top up
            </button>
          )}
          <button class="btn" id="edit-account" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button class="btn btn-danger-ghost" id="remove-account" onClick={() => setConfirmRemove(true)}>
            Remove
          </button>
        </div>
      </header>
      <ErrorBanner error={error} />
      {polled && <PollOutcome r={polled} />}
      {!polled && a.state_message && a.state !== "ok" && <p class={`state-msg border-${a.state === "out_of_credit" ? "ooc" : "crit"}`}>{a.state_message}</p>}
      <section class="stats">
        <div class="card">
          <span class="card-label">Remaining</span>
          <span class="card-value" id="detail-remaining">
            {formatAmount(f.remaining ?? row.latest?.remaining, unit)}
          </span>
          <span class="card-sub">{row.latest?.limit != null ? `of ${formatAmount(row.latest.limit, unit)}` : a.budget != null ? `budget ${formatAmount(a.budget, unit)}` : "\u00a0"}</span>
        </div>
        <div class="card">
          <span class="card-label">Burn</span>
          <span class="card-value">{formatRate(f.rate_per_day, unit)}</span>
          <span class="card-sub">
            {f.history_hours <= 0
              ? "no readings yet"
              : f.refined_by_logs
                ? `with ${f.refined_by_logs.toLocaleString()} logged requests`
                : "\u00a0"}
          </span>
        </div>
        <div class={`card border-${t}`}>
          <span class="card-label">Runway (P50, P10–P90)</span>
          <Runway f={f} severity={row.severity} />
          <span class="card-sub">{f.exhausts_at && f.state === "ok" ? `around ${formatTime(f.exhausts_at)}` : f.message}</span>
          {f.basis && <span class="card-sub card-note" id="detail-basis">{f.basis}</span>}
        </div>
      </section>
      <section class="panel">
        <div class="panel-head">
          <h3>Balance and forecast</h3>
          <ExportButton dataset="balances" label="Export history…" account={a.id} accountLabel={a.label} />
        </div>
        <HistoryChart history={d.history} band={d.band} topUps={d.top_ups} events={d.events} unit={unit} />
        <p class="muted small">{f.message}</p>
      </section>
      {d.pay_per_call.length > 0 && <PayPerCall rows={d.pay_per_call} />}
      <BreakerPanel row={row} onError={setError} />
      <div class="two-col">
        <section class="panel">
          <h3>Latest error</h3>
          {d.latest_error ? <ErrorBody e={d.latest_error} /> : <p class="muted">No failed request seen for this account.</p>}
        </section>
        <section class="panel">
          <h3>402s and failures</h3>
          <Timeline events={d.events} />
        </section>
      </div>
      {editing && <EditAccount d={d} onClose={() => setEditing(false)} />}
      {confirmRemove && (
        <Modal title={`Remove ${a.label}?`} onClose={() => setConfirmRemove(false)}>
          <p>Its readings and history are deleted and its key is removed from the keychain. This cannot be undone.</p>
          <div class="actions">
            <button class="btn" onClick={() => setConfirmRemove(false)}>
              Cancel
            </button>
            <button
              class="btn btn-danger"
              id="confirm-remove"
              onClick={() =>
                api.removeAccount(a.id).then(onRemoved, (e: ApiError) => {
                  setError(e);
                  setConfirmRemove(false);
                })
              }
            >
              Remove account
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}

export function ErrorBody({ e }: { e: EventRow }) {
  const ev = e.event;
  return (
    <div class="error-body" id="latest-error">
      <div class="error-body-head">
        <OutcomeChip outcome={ev.outcome} />
        {ev.status != null && <span class="mono">HTTP {String(ev.status)}</span>}
        <span class="muted">{formatTime(ev.occurred_at)}</span>
      </div>
      {ev.message && <blockquote>{ev.message}</blockquote>}
      <dl class="kv">
        {ev.code && (
          <>
            <dt>code</dt>
            <dd class="mono">{ev.code}</dd>
          </>
        )}
        {ev.quota && (
          <>
            <dt>quota</dt>
            <dd>{ev.quota}</dd>
          </>
        )}
        {ev.url && (
          <>
            <dt>request</dt>
            <dd class="mono break">
              {ev.method ?? ""} {ev.url}
            </dd>
          </>
        )}
        <dt>seen in</dt>
        <dd class="mono break">{e.source_path ? `${e.source_path} @ byte ${String(ev.byte_offset ?? 0)}` : "balance poll"}</dd>
        {ev.payment && (
          <>
            <dt>payment</dt>
            <dd class="mono break">{JSON.stringify(ev.payment)}</dd>
          </>
        )}
      </dl>
      {e.payment_link && <PaymentLinkButton link={e.payment_link} />}
    </div>
  );
}

/** Paid x402 / MPP / pay-per-crawl answers over core's 30 days, per protocol and host, in
 * core's words ("0.42 USDC"). Only shown when there is some. */
export function PayPerCall({ rows }: { rows: SpendRow[] }) {
  return (
    <section class="panel" id="pay-per-call">
      <div class="panel-head">
        <h3>Pay-per-call spend (30 days)</h3>
        <ExportButton dataset="usage" label="Export usage…" />
      </div>
      <table class="spend">
        <thead>
          <tr>
            <th>Protocol</th>
            <th>Host</th>
            <th class="num">Payments</th>
            <th class="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>{r.protocol}</td>
              <td class="mono break">{r.host ?? "—"}</td>
              <td class="num">{r.payments.toLocaleString()}</td>
              <td class="num">{r.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Events as dots on a time strip (where they cluster), then the newest as a list. */
function Timeline({ events }: { events: EventRow[] }) {
  if (events.length === 0) return <p class="muted">None. Cliffwatch records every 402 from polls and watched logs here.</p>;
  const ts = events.map((e) => new Date(e.event.occurred_at).getTime());
  const min = Math.min(...ts);
  const max = Math.max(...ts);
  const span = Math.max(max - min, 1);
  return (
    <>
      <div class="timeline" aria-hidden="true">
        {events.map((e, i) => (
          <span
            key={i}
            class={`tl-dot ${e.event.outcome === "out_of_credit" ? "bg-ooc" : "bg-muted"}`}
            style={{ left: `${events.length === 1 ? 50 : ((ts[i] - min) / span) * 100}%` }}
            title={`${formatTime(e.event.occurred_at)} ${e.event.outcome}`}
          />
        ))}
      </div>
      <div class="timeline-axis muted small">
        <span>{formatTime(new Date(min).toISOString())}</span>
        <span>{formatTime(new Date(max).toISOString())}</span>
      </div>
      <ul class="event-list">
        {events.slice(0, 8).map((e, i) => (
          <li key={i}>
            <span class="muted">{formatTime(e.event.occurred_at)}</span> <OutcomeChip outcome={e.event.outcome} />{" "}
            <span class="ellipsis">{e.event.message ?? e.event.code ?? ""}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** Base URL, budget and options; saving resumes polling (an invalid-key account waits for it). */
function EditAccount({ d, onClose }: { d: AccountDetail; onClose: () => void }) {
  const a = d.row.account;
  const [baseUrl, setBaseUrl] = useState(a.base_url ?? "");
  const [budget, setBudget] = useState(a.budget != null ? String(a.budget) : "");
  const [options, setOptions] = useState<Record<string, string>>(
    Object.fromEntries(Object.entries(a.options).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v, null, 2)])),
  );
  const [newKey, setNewKey] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const save = (e: Event) => {
    e.preventDefault();
    // One save at a time: a second key replacement racing the first would be refused.
    if (busy) return;
    const opts = optionsFromForm(options);
    if (opts instanceof ApiError) {
      setError(opts);
      return;
    }
    // A new key first: if the keychain refuses it, nothing else changes.
    const key = newKey.trim();
    setBusy(true);
    (key ? api.replaceKey(a.id, key).then(() => setNewKey("")) : Promise.resolve())
      .then(() => api.editAccount(a.id, { base_url: baseUrl.trim() || null, budget: budget.trim() ? Number(budget) : null, options: opts }))
      .then(onClose, (e: ApiError) => setError(e))
      .finally(() => setBusy(false));
  };
  return (
    <Modal title={`Edit ${a.label}`} onClose={onClose}>
      <form onSubmit={save}>
        <label class="field">
          <span>Base URL <span class="muted">(empty: the provider's default)</span></span>
          <input id="edit-base-url" class="mono" value={baseUrl} onInput={(e) => setBaseUrl(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Budget <span class="muted">(spend-only providers: what you prepaid)</span></span>
          <input id="edit-budget" type="number" min={0} step="any" value={budget} onInput={(e) => setBudget(e.currentTarget.value)} />
        </label>
        {Object.keys(options).map((k) => (
          <label class="field" key={k}>
            <span>{k}</span>
            {k === "spec" ? (
              <textarea class="mono" rows={6} value={options[k]} onInput={(e) => setOptions({ ...options, [k]: e.currentTarget.value })} />
            ) : (
              <input value={options[k]} onInput={(e) => setOptions({ ...options, [k]: e.currentTarget.value })} />
            )}
          </label>
        ))}
        <label class="field">
          <span>
            New key <span class="muted">(optional: replaces {a.secret_hint ?? "the current key"}; history and alerts stay)</span>
          </span>
          <input id="edit-secret" type="password" autoComplete="off" spellcheck={false} value={newKey} onInput={(e) => setNewKey(e.currentTarget.value)} />
          <small class="muted">Stored in your OS keychain; the old key is deleted from it.</small>
        </label>
        <ErrorBanner error={error} />
        <div class="actions">
          <button class="btn" type="button" onClick={onClose}>
            Cancel
          </button>
          <button class="btn btn-primary" type="submit" id="edit-save" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The proxy's breaker for this account: the switch, and whether it is open now (core decides). */
export function BreakerPanel({ row, onError }: { row: AccountRow; onError: (e: ApiError) => void }) {
  const a = row.account;
  const [busy, setBusy] = useState(false);
  const open = a.breaker && row.breaker_open_since != null;
  return (
    <section class="panel" id="breaker">
      <h3>Proxy breaker</h3>
      <label class="check">
        <input
          type="checkbox"
          id="breaker-on"
          checked={a.breaker}
          disabled={busy}
          onChange={(e) => {
            setBusy(true);
            api
              .setBreaker(a.id, e.currentTarget.checked)
              .catch((err: ApiError) => onError(err))
              .finally(() => setBusy(false));
          }}
        />{" "}
        Answer this account's proxied requests with a local 402 while it is out of credit
      </label>
      <p id="breaker-state" data-state={!a.breaker ? "off" : open ? "open" : "closed"} class={open ? "state-msg border-ooc" : "muted"}>
        {!a.breaker
          ? "Off: the proxy forwards every request."
          : open
            ? `Open since ${formatTime(row.breaker_open_since!)}: requests through the proxy are answered here, not sent, until a poll sees a top-up.`
            : "Closed: requests pass through; it opens at the next 402 or an empty balance."}
      </p>
      <small class="muted">
        Through the proxy: base URL <code>http://127.0.0.1:8402/a/{a.label}</code> (<code>cliffwatch proxy</code>, or the switch in Settings).
      </small>
    </section>
  );
}
