// Alert channels (in Settings): where alerts go besides the desktop. The list shows where each
// secret lives ("keychain …b3f9"), never the secret; the add form sends a secret to core once,
// and clears it the moment core has stored it.
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import type { ChannelForm } from "../bindings/ChannelForm";
import type { ChannelKind } from "../bindings/ChannelKind";
import type { ChannelKindInfo } from "../bindings/ChannelKindInfo";
import type { ChannelRow } from "../bindings/ChannelRow";
import type { ChannelTest } from "../bindings/ChannelTest";
import type { DeliveryRow } from "../bindings/DeliveryRow";
import type { Severity } from "../bindings/Severity";
import { formatTime } from "../format";
import { useLoad } from "../hooks";
import { ErrorBanner, Modal } from "../ui";

const KIND_NAMES: Record<ChannelKind, string> = {
  webhook: "Webhook (JSON POST)",
  slack: "Slack",
  discord: "Discord",
  ntfy: "ntfy",
  telegram: "Telegram",
  command: "Command (a local program)",
};

const SEVERITIES: [Severity, string][] = [
  ["info", "every alert"],
  ["warning", "warnings and critical"],
  ["critical", "critical only"],
];

/** What the add form holds while it is being filled in. */
export interface ChannelDraft {
  kind: ChannelKind;
  label: string;
  secret: string;
  min_severity: Severity;
  chat_id: string;
  program: string;
  /** One argument per line. */
  args: string;
}

export const emptyDraft: ChannelDraft = { kind: "webhook", label: "", secret: "", min_severity: "warning", chat_id: "", program: "", args: "" };

/** Kinds whose secret is a URL (Telegram's is a bot token). */
const URL_SECRET: ChannelKind[] = ["webhook", "slack", "discord", "ntfy"];

/** What is missing or wrong before the form goes to core, in words; null when it may go. Core
 * checks everything again (and more: https, the host, the program's name). */
export function channelProblem(d: ChannelDraft, secretIs: string | null): string | null {
  const label = d.label.trim();
  if (!label) return "Give the channel a label (it names the channel in lists and errors).";
  if ([...label].length > 64) return "A channel label is at most 64 characters.";
  if (secretIs !== null && !d.secret.trim()) return `Give ${secretIs}.`;
  if (URL_SECRET.includes(d.kind) && !/^https?:\/\//i.test(d.secret.trim())) return `${capitalise(secretIs ?? "the URL")} should start with https://.`;
  if (d.kind === "telegram" && !d.chat_id.trim()) return "Give the chat id to post to (a number, or @channelname).";
  if (d.kind === "command" && !d.program.trim()) return "Give the program to run (a path, or a name on PATH; no shell).";
  return null;
}

/** The draft as core takes it: options only for the kinds that have them, arguments one per
 * line (blank lines dropped), no secret for a kind without one. */
export function channelForm(d: ChannelDraft, secretIs: string | null): ChannelForm {
  return {
    kind: d.kind,
    label: d.label.trim(),
    secret: secretIs === null ? null : d.secret.trim(),
    min_severity: d.min_severity,
    options: {
      ...(d.kind === "telegram" ? { chat_id: d.chat_id.trim() } : {}),
      ...(d.kind === "command" ? { program: d.program.trim() } : {}),
      args:
        d.kind === "command"
          ? d.args
              .split("\n")
              .map((a) => a.trim())
              .filter(Boolean)
          : [],
    },
  };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function ChannelsSection({ version }: { version: number }) {
  const kinds = useLoad(() => api.channelKinds(), []);
  const list = useLoad(() => api.channels(), [version]);
  const [tests, setTests] = useState<Record<number, ChannelTest | ApiError | "busy">>({});
  const [removing, setRemoving] = useState<ChannelRow | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const test = (id: number) => {
    setTests((t) => ({ ...t, [id]: "busy" }));
    api.testChannel(id).then(
      (r) => setTests((t) => ({ ...t, [id]: r })),
      (e: ApiError) => setTests((t) => ({ ...t, [id]: e })),
    );
  };
  const rows = list.data ?? [];
  return (
    <section class="panel" id="channels-section">
      <h3>Alert channels</h3>
      <p class="muted small">
        Alerts also go here, under the same rules as desktop notifications (quiet hours, snooze, pause), each channel from the severity
        you choose. Secrets (webhook URLs, bot tokens) are kept in your OS keychain and never shown again.
      </p>
      <ErrorBanner error={list.error ?? error} />
      {rows.length === 0 && list.data && <p class="muted" id="channels-empty">No channel yet: alerts go to the desktop only.</p>}
      {rows.length > 0 && (
        <div class="table-scroll">
          <table id="channels" class="channels">
            <thead>
              <tr>
                <th>Channel</th>
                <th>Secret</th>
                <th>Alerts</th>
                <th>Last delivery</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => {
                const t = tests[c.id];
                return (
                  <tr key={c.id} data-channel={c.label}>
                    <td>
                      <div class="acc-label">{c.label}</div>
                      <div class="acc-provider">{KIND_NAMES[c.kind] ?? c.kind}</div>
                    </td>
                    <td class="mono small break">
                      {c.kind === "command" ? [c.options.program, ...c.options.args].filter(Boolean).join(" ") : c.secret}
                      {c.kind === "telegram" && c.options.chat_id && <div class="muted">chat {c.options.chat_id}</div>}
                    </td>
                    <td>{SEVERITIES.find(([s]) => s === c.min_severity)?.[1] ?? c.min_severity}</td>
                    <td class="small">
                      <LastDelivery d={c.last_delivery} />
                    </td>
                    <td class="channel-actions">
                      <button type="button" class="btn btn-small channel-test" disabled={t === "busy"} onClick={() => test(c.id)}>
                        {t === "busy" ? "Sending…" : "Test"}
                      </button>
                      <button type="button" class="btn btn-small btn-danger-ghost channel-remove" onClick={() => setRemoving(c)}>
                        Remove
                      </button>
                      {t && t !== "busy" && <TestResult t={t} />}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {kinds.data && <AddChannel kinds={kinds.data} onAdded={list.reload} />}
      <ErrorBanner error={kinds.error} />
      {removing && (
        <Modal title={`Remove ${removing.label}?`} onClose={() => setRemoving(null)}>
          <p>Alerts stop going to this channel, its delivery history is deleted, and its secret is removed from the keychain.</p>
          <div class="actions">
            <button type="button" class="btn" onClick={() => setRemoving(null)}>
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-danger"
              id="confirm-remove-channel"
              onClick={() => {
                const c = removing;
                setRemoving(null);
                api.removeChannel(c.id).then(
                  () => {
                    setError(null);
                    list.reload();
                  },
                  (e: ApiError) => setError(e),
                );
              }}
            >
              Remove channel
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

function TestResult({ t }: { t: ChannelTest | ApiError }) {
  if (t instanceof ApiError) {
    return (
      <p class="channel-result bad" role="alert" data-kind={t.kind}>
        {t.message}
      </p>
    );
  }
  return (
    <p class={`channel-result ${t.delivered ? "good" : "bad"}`} data-delivered={String(t.delivered)} role="status">
      {t.delivered ? "delivered" : t.message}
    </p>
  );
}

function LastDelivery({ d }: { d: DeliveryRow | null }) {
  if (!d) return <span class="muted">nothing sent yet</span>;
  const chip = d.state === "delivered" ? "chip-ok" : d.state === "failed" ? "chip-critical" : "chip-warning";
  return (
    <div class="last-delivery">
      <span class={`chip ${chip}`}>{d.state}</span>{" "}
      <span class="muted">
        {d.delivered_at ? formatTime(d.delivered_at) : d.next_attempt_at ? `retry ${formatTime(d.next_attempt_at)}` : ""}
        {d.attempts > 1 ? ` · ${d.attempts} tries` : ""}
      </span>
      {d.last_error && d.state !== "delivered" && <div class="small tone-crit break">{d.last_error}</div>}
    </div>
  );
}

function AddChannel({ kinds, onAdded }: { kinds: ChannelKindInfo[]; onAdded: () => void }) {
  const [d, setD] = useState<ChannelDraft>(emptyDraft);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const secretIs = kinds.find((k) => k.kind === d.kind)?.secret_is ?? null;
  const set = (patch: Partial<ChannelDraft>) => {
    setAdded(null);
    setD({ ...d, ...patch });
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const problem = channelProblem(d, secretIs);
    if (problem) {
      setError(new ApiError("invalid_input", problem));
      return;
    }
    setBusy(true);
    api
      .addChannel(channelForm(d, secretIs))
      .then(
        (row) => {
          // The secret is in the keychain now; it leaves the page with the rest of the draft.
          setD(emptyDraft);
          setError(null);
          setAdded(`Added ${row.label} (${row.secret}).`);
          onAdded();
        },
        (e: ApiError) => setError(e),
      )
      .finally(() => setBusy(false));
  };
  return (
    <form id="channel-form" class="channel-form" onSubmit={submit} autoComplete="off">
      <h4>Add a channel</h4>
      <div class="grid-2">
        <label class="field">
          <span>Kind</span>
          <select id="channel-kind" value={d.kind} onChange={(e) => set({ kind: e.currentTarget.value as ChannelKind, secret: "" })}>
            {kinds.map((k) => (
              <option value={k.kind}>{KIND_NAMES[k.kind] ?? k.kind}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Label</span>
          <input id="channel-label" maxLength={64} placeholder="ops-webhook" value={d.label} onInput={(e) => set({ label: e.currentTarget.value })} />
        </label>
      </div>
      {secretIs !== null && (
        <label class="field">
          <span>Secret: {secretIs}</span>
          <input
            id="channel-secret"
            type="password"
            class="mono"
            autoComplete="off"
            spellcheck={false}
            value={d.secret}
            onInput={(e) => set({ secret: e.currentTarget.value })}
          />
          <small class="muted">Stored in your OS keychain; the list shows only its last four characters.</small>
        </label>
      )}
      {d.kind === "telegram" && (
        <label class="field">
          <span>Chat id</span>
          <input id="channel-chat-id" class="mono" placeholder="-1001234567890 or @mychannel" value={d.chat_id} onInput={(e) => set({ chat_id: e.currentTarget.value })} />
        </label>
      )}
      {d.kind === "command" && (
        <div class="grid-2">
          <label class="field">
            <span>Program</span>
            <input id="channel-program" class="mono" placeholder="/usr/local/bin/page-me" value={d.program} onInput={(e) => set({ program: e.currentTarget.value })} />
            <small class="muted">Run without a shell; the alert arrives as JSON on its standard input.</small>
          </label>
          <label class="field">
            <span>Arguments, one per line</span>
            <textarea id="channel-args" class="mono" rows={3} value={d.args} onInput={(e) => set({ args: e.currentTarget.value })} />
          </label>
        </div>
      )}
      <label class="field">
        <span>Send</span>
        <select id="channel-min-severity" value={d.min_severity} onChange={(e) => set({ min_severity: e.currentTarget.value as Severity })}>
          {SEVERITIES.map(([s, words]) => (
            <option value={s}>{words}</option>
          ))}
        </select>
      </label>
      <ErrorBanner error={error} />
      <div class="actions">
        {added && (
          <span class="muted" id="channel-added" role="status">
            {added}
          </span>
        )}
        <button type="submit" class="btn btn-primary" id="channel-add" disabled={busy}>
          {busy ? "Adding…" : "Add channel"}
        </button>
      </div>
    </form>
  );
}
