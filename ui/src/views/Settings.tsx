// Settings: poll interval, alert rules, quiet hours, notifications, the local read API, theme;
// then the alert channels, which are saved one by one (Channels.tsx).
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import type { ReadApiStatus } from "../bindings/ReadApiStatus";
import type { Settings } from "../bindings/Settings";
import type { Theme } from "../bindings/Theme";
import { hhmmToMinute, minuteToHHMM } from "../format";
import { useLoad } from "../hooks";
import { ErrorBanner } from "../ui";
import { ChannelsSection } from "./Channels";

/** The read API's usual address (the README, the systemd drop-in and the Prometheus example). */
export const DEFAULT_LISTEN = "127.0.0.1:9402";
export const DEFAULT_PROXY = "127.0.0.1:8402";

/** A read-API address that cannot be one, in words; null when core may judge it (core alone
 * decides what is loopback). */
export function listenProblem(addr: string): string | null {
  const a = addr.trim();
  if (!a) return `Give the address to listen on, like ${DEFAULT_LISTEN}.`;
  const m = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(a);
  if (!m) return `Write the address as IP:port, like ${DEFAULT_LISTEN} or [::1]:9402.`;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return "The port must be from 1 to 65535.";
  return null;
}

export function SettingsView({ initial, onSaved, version = 0 }: { initial: Settings; onSaved: (s: Settings) => void; version?: number }) {
  return (
    <div id="settings-screen">
      <SettingsForm initial={initial} onSaved={onSaved} version={version} />
      <ChannelsSection version={version} />
    </div>
  );
}

function SettingsForm({ initial, onSaved, version }: { initial: Settings; onSaved: (s: Settings) => void; version: number }) {
  const [s, setS] = useState<Settings>(initial);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  // New settings from the app (after a save) replace the form, during render: an effect would
  // run after paint and could undo a change made in between (seen as a flaky e2e under load).
  const [shown, setShown] = useState(initial);
  if (initial !== shown) {
    setShown(initial);
    setS(initial);
  }
  const r = s.rules;
  const set = (patch: Partial<Settings>) => {
    setSaved(false);
    setS({ ...s, ...patch });
  };
  const rules = (patch: Partial<Settings["rules"]>) => set({ rules: { ...r, ...patch } });
  const num = (v: string): number | null => (v.trim() === "" ? null : Number(v));
  const q = s.quiet_hours;
  // The address typed last, kept while the switch is off so that turning it on again restores it.
  const [lastListen, setLastListen] = useState(initial.listen ?? DEFAULT_LISTEN);
  const [lastProxy, setLastProxy] = useState(initial.proxy ?? DEFAULT_PROXY);
  const [saves, setSaves] = useState(0);
  // What the engine serves now: it applies a save as it hears it, then says "changed".
  const readApi = useLoad(() => api.readApi(), [version, saves]);
  const proxy = useLoad(() => api.proxy(), [version, saves]);
  return (
    <form
      id="settings-view"
      class="settings"
      onSubmit={(e) => {
        e.preventDefault();
        const listen = s.listen === null ? null : listenProblem(s.listen);
        const proxyProblem = s.proxy === null ? null : listenProblem(s.proxy);
        if (listen || proxyProblem) {
          setError(new ApiError("invalid_input", (listen ?? proxyProblem)!));
          return;
        }
        api.saveSettings(s).then(
          (x) => {
            setError(null);
            setSaved(true);
            setSaves((n) => n + 1);
            onSaved(x);
          },
          (e: ApiError) => setError(e),
        );
      }}
    >
      <section class="panel">
        <h3>Polling</h3>
        <label class="field">
          <span>Check balances every</span>
          <span class="inline">
            <input
              type="number"
              min={1}
              max={1440}
              id="poll-minutes"
              value={Math.round(s.poll_interval_s / 60)}
              onInput={(e) => set({ poll_interval_s: Math.round(Number(e.currentTarget.value) * 60) })}
            />
            minutes
          </span>
          <small class="muted">Each provider's own limit still applies; accounts can override it.</small>
        </label>
      </section>
      <section class="panel">
        <h3>Alerts</h3>
        <label class="check">
          <input type="checkbox" checked={r.enabled} onChange={(e) => rules({ enabled: e.currentTarget.checked })} /> Alerts on
        </label>
        <div class="grid-2">
          <label class="field">
            <span>Warn when the early runway (P10) is under</span>
            <span class="inline">
              <input type="number" min={0} step="any" value={r.runway_warning_hours} onInput={(e) => rules({ runway_warning_hours: Number(e.currentTarget.value) })} /> hours
            </span>
          </label>
          <label class="field">
            <span>Critical when it is under</span>
            <span class="inline">
              <input type="number" min={0} step="any" value={r.runway_critical_hours} onInput={(e) => rules({ runway_critical_hours: Number(e.currentTarget.value) })} /> hours
            </span>
          </label>
          <label class="field">
            <span>Low balance below</span>
            <span class="inline">
              <input type="number" min={0} max={100} step="any" value={r.low_balance_percent ?? ""} onInput={(e) => rules({ low_balance_percent: num(e.currentTarget.value) })} /> % of the last top-up
            </span>
          </label>
          <label class="field">
            <span>…or below the amount</span>
            <span class="inline">
              <input type="number" min={0} step="any" value={r.low_balance_amount ?? ""} placeholder="off" onInput={(e) => rules({ low_balance_amount: num(e.currentTarget.value) })} /> in the account's unit
            </span>
          </label>
          <label class="field">
            <span>Alert when balance checks fail for</span>
            <span class="inline">
              <input type="number" min={0} step="any" value={r.poll_failing_hours} onInput={(e) => rules({ poll_failing_hours: Number(e.currentTarget.value) })} /> hours
            </span>
          </label>
          <label class="field">
            <span>Alert when one host asks for payment</span>
            <span class="inline">
              <input
                type="number"
                id="unpaid-challenges"
                min={1}
                step={1}
                value={r.unpaid_challenges_per_hour ?? ""}
                placeholder="off"
                onInput={(e) => rules({ unpaid_challenges_per_hour: wholeOrOff(e.currentTarget.value) })}
              />{" "}
              times in an hour, none paid
            </span>
          </label>
        </div>
      </section>
      <section class="panel">
        <h3>Notifications</h3>
        <label class="check">
          <input type="checkbox" id="notifications" checked={s.notifications} onChange={(e) => set({ notifications: e.currentTarget.checked })} /> Desktop
          notifications
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={q !== null}
            onChange={(e) =>
              set({ quiet_hours: e.currentTarget.checked ? { start_minute: 22 * 60, end_minute: 7 * 60, ...localZone() } : null })
            }
          />{" "}
          Quiet hours (only critical alerts make a sound)
        </label>
        {q && (
          <span class="inline quiet">
            from
            <input type="time" value={minuteToHHMM(q.start_minute)} onInput={(e) => set({ quiet_hours: { ...q, ...localZone(), start_minute: hhmmToMinute(e.currentTarget.value) ?? q.start_minute } })} />
            to
            <input type="time" value={minuteToHHMM(q.end_minute)} onInput={(e) => set({ quiet_hours: { ...q, ...localZone(), end_minute: hhmmToMinute(e.currentTarget.value) ?? q.end_minute } })} />
            <span class="muted small">{q.zone ?? `UTC${q.utc_offset_minutes >= 0 ? "+" : "−"}${minuteToHHMM(Math.abs(q.utc_offset_minutes))}`}</span>
          </span>
        )}
      </section>
      <section class="panel" id="read-api">
        <h3>Local read API</h3>
        <label class="check">
          <input
            type="checkbox"
            id="listen-on"
            checked={s.listen !== null}
            onChange={(e) => set({ listen: e.currentTarget.checked ? lastListen : null })}
          />{" "}
          Local read API (Prometheus /metrics, /v1/…)
        </label>
        {s.listen !== null && (
          <label class="field listen-field">
            <span>Address</span>
            <input
              id="listen-address"
              class="mono"
              spellcheck={false}
              value={s.listen}
              onInput={(e) => {
                setLastListen(e.currentTarget.value);
                set({ listen: e.currentTarget.value });
              }}
            />
          </label>
        )}
        <small class="muted">
          Loopback only and read-only: programs on this computer (Prometheus, Grafana, your scripts) can read balances, forecasts, 402s
          and alerts, nothing can be changed through it, and no other machine reaches it. To serve another machine, run{" "}
          <code>cliffwatch watch --listen ADDR --token-env VAR</code> instead.
        </small>
        <ReadApiLine status={readApi.data} />
      </section>
      <section class="panel" id="proxy-settings">
        <h3>Recording proxy</h3>
        <label class="check">
          <input
            type="checkbox"
            id="proxy-on"
            checked={s.proxy !== null}
            onChange={(e) => set({ proxy: e.currentTarget.checked ? lastProxy : null })}
          />{" "}
          Recording proxy (point an SDK's base URL at it)
        </label>
        {s.proxy !== null && (
          <label class="field listen-field">
            <span>Address</span>
            <input
              id="proxy-address"
              class="mono"
              spellcheck={false}
              value={s.proxy}
              onInput={(e) => {
                setLastProxy(e.currentTarget.value);
                set({ proxy: e.currentTarget.value });
              }}
            />
          </label>
        )}
        <small class="muted">
          Loopback only. Requests to <code>/a/&lt;account label&gt;/…</code> go to that account's provider with the client's own key (none is
          added or stored); every failure, 402 and token cost is recorded on the account, and an account's breaker can answer with a local
          402 while it is out of credit.
        </small>
        <ProxyLine status={proxy.data} />
      </section>
      <section class="panel">
        <h3>Theme</h3>
        <div class="segmented" role="radiogroup" aria-label="Theme">
          {(["system", "light", "dark"] as Theme[]).map((t) => (
            <label class={s.theme === t ? "on" : ""} id={`theme-${t}`}>
              <input type="radio" name="theme" value={t} checked={s.theme === t} onChange={() => set({ theme: t })} />
              {t}
            </label>
          ))}
        </div>
      </section>
      <ErrorBanner error={error} />
      <div class="actions">
        {saved && <span class="muted" id="settings-saved">Saved.</span>}
        <button class="btn btn-primary" type="submit" id="settings-save">
          Save settings
        </button>
      </div>
    </form>
  );
}

/** What the engine serves now, under the switch: the URL, or why it could not listen. */
export function ReadApiLine({ status }: { status: ReadApiStatus | null }) {
  if (!status || status.state === "off") return null;
  if (status.state === "failed") {
    return (
      <p class="error" id="listen-status" data-state="failed" role="alert">
        Not serving: {status.message ?? `cannot listen on ${status.address ?? "that address"}`}
      </p>
    );
  }
  return (
    <p class="listen-status" id="listen-status" data-state="serving">
      Serving <code>http://{status.address}/metrics</code>
      {status.from_command_line && <span class="muted"> (started by cliffwatch watch --listen for this run; the setting waits)</span>}
    </p>
  );
}

/** What the engine's proxy serves now: the base URL to give an SDK, or why it could not listen. */
export function ProxyLine({ status }: { status: ReadApiStatus | null }) {
  if (!status || status.state === "off") return null;
  if (status.state === "failed") {
    return (
      <p class="error" id="proxy-status" data-state="failed" role="alert">
        Not serving: {status.message ?? `cannot listen on ${status.address ?? "that address"}`}
      </p>
    );
  }
  return (
    <p class="listen-status" id="proxy-status" data-state="serving">
      Base URL <code>http://{status.address}/a/&lt;account label&gt;</code>
      {status.from_command_line && <span class="muted"> (started by cliffwatch watch --proxy for this run; the setting waits)</span>}
    </p>
  );
}

/** A count of 1 or more, or null (off) when empty or under 1: what core stores as a whole number. */
export function wholeOrOff(v: string): number | null {
  const n = Math.round(Number(v));
  return v.trim() === "" || !Number.isFinite(n) || n < 1 ? null : n;
}

/** This computer's time zone: its IANA name (quiet hours then follow daylight saving) and the
 * current offset (used when the name is unknown to Cliffwatch). */
export function localZone(): { zone: string | null; utc_offset_minutes: number } {
  let zone: string | null = null;
  try {
    const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
    zone = name && name !== "Etc/Unknown" ? name : null;
  } catch {
    zone = null;
  }
  return { zone, utc_offset_minutes: -new Date().getTimezoneOffset() };
}
