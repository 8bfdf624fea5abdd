import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "./api";
import type { Settings } from "./bindings/Settings";
import type { Theme } from "./bindings/Theme";
import { onDataChanged, onOpenAccount } from "./live";
import { NowContext, useLoad, useTick } from "./hooks";
import { ErrorBanner } from "./ui";
import { AccountsView } from "./views/Accounts";
import { AccountDetailView } from "./views/AccountDetail";
import { EventsView } from "./views/Events";
import { LogsView } from "./views/Logs";
import { SettingsView } from "./views/Settings";
import { Wizard } from "./views/Wizard";

import { routeFromHash, type Route } from "./route";
export type { Route } from "./route";

const NAV: [Route["view"], string][] = [
  ["accounts", "Accounts"],
  ["events", "402 history"],
  ["logs", "Logs"],
  ["settings", "Settings"],
];

export function applyTheme(theme: Theme) {
  document.documentElement.dataset.theme = theme;
}

export function App() {
  // A window opened from a notification starts at its account (`#account=<id>`).
  const [route, setRoute] = useState<Route>(() => routeFromHash(location.hash));
  useEffect(() => onOpenAccount((id) => setRoute({ view: "account", id })), []);
  // The data version: bumped by core's "changed" event and by the user's actions, it is what
  // makes the screens fetch again. The minute tick (`now`) only re-renders relative times.
  const [version, setVersion] = useState(0);
  const [wizard, setWizard] = useState(false);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  useEffect(() => onDataChanged(bump), [bump]);
  const now = useTick();
  const dash = useLoad(() => api.dashboard(), [version]);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [demo, setDemo] = useState(false);
  useEffect(() => {
    api.appInfo().then((i) => setDemo(i.demo), () => setDemo(false));
  }, []);
  useEffect(() => {
    api.settings().then((s) => {
      setSettings(s);
      applyTheme(s.theme);
    }, () => applyTheme("system"));
  }, []);

  const open = (id: number) => setRoute({ view: "account", id });
  const active = route.view === "account" ? "accounts" : route.view;
  const alerts = dash.data?.alerts.length ?? 0;
  const title = NAV.find(([v]) => v === active)?.[1] ?? "";

  return (
    <NowContext.Provider value={now}>
      <div class="shell">
        <nav class="side" aria-label="Sections">
          <div class="brand">
            <span class="logo" aria-hidden="true" />
            <span>Cliffwatch</span>
          </div>
          {NAV.map(([v, label]) => (
            <button key={v} id={`nav-${v}`} class={`nav ${active === v ? "on" : ""}`} aria-current={active === v ? "page" : undefined} onClick={() => setRoute({ view: v } as Route)}>
              {label}
              {v === "accounts" && alerts > 0 && <span class="badge">{alerts}</span>}
            </button>
          ))}
          <div class="side-foot muted">sees the 402 cliff coming</div>
        </nav>
        <main>
          {demo && (
            <p class="demo-banner" id="demo-banner" role="status">
              <strong>Demo mode</strong> — these accounts are played by a loopback server on a compressed clock
              (30 minutes a second), in a temporary data directory. No real key, no real money. Run without{" "}
              <code>--demo</code> to watch your own keys.
            </p>
          )}
          <header class="top">
            <h1>{route.view === "account" ? "Account" : title}</h1>
            <button class="btn btn-primary" id="add-account" onClick={() => setWizard(true)}>
              + Add account
            </button>
          </header>
          {route.view !== "account" && <ErrorBanner error={dash.error} />}
          {route.view === "accounts" && !dash.data && !dash.error && <p class="muted">Loading…</p>}
          {route.view === "accounts" && dash.data && <AccountsView data={dash.data} onOpen={open} onAdd={() => setWizard(true)} />}
          {route.view === "account" && (
            <AccountDetailView
              id={route.id}
              version={version}
              onBack={() => setRoute({ view: "accounts" })}
              onRemoved={() => {
                setRoute({ view: "accounts" });
                bump();
              }}
            />
          )}
          {route.view === "events" && <EventsView dash={dash.data} version={version} />}
          {route.view === "logs" && <LogsView version={version} />}
          {route.view === "settings" && settings && (
            <SettingsView
              initial={settings}
              version={version}
              onSaved={(s) => {
                setSettings(s);
                applyTheme(s.theme);
                // New alert thresholds change what core rates each account: fetch again.
                bump();
              }}
            />
          )}
        </main>
        {wizard && (
          <Wizard
            onClose={() => setWizard(false)}
            onAdded={() => bump()}
          />
        )}
      </div>
    </NowContext.Provider>
  );
}
