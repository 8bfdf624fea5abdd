import { render } from "preact";
import { act } from "preact/test-utils";
import { useState } from "preact/hooks";
import type { Dashboard } from "./bindings/Dashboard";
import { CHANGED_EVENT } from "./events";
import { accountRow } from "./test-fixtures";

// The API module is replaced: every call is counted, none reaches Tauri.
const api = vi.hoisted(() => ({
  dashboard: vi.fn(),
  appInfo: vi.fn(),
  settings: vi.fn(),
  account: vi.fn(),
  events: vi.fn(),
  logSources: vi.fn(),
  providers: vi.fn(),
}));
vi.mock("./api", async (importOriginal) => ({ ...(await importOriginal<typeof import("./api")>()), api }));
// Core's events: the test fires them by hand.
const listeners = vi.hoisted(() => new Map<string, (e: { payload: unknown }) => void>());
vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, cb: (e: { payload: unknown }) => void) => {
    listeners.set(name, cb);
    return Promise.resolve(() => listeners.delete(name));
  },
}));
vi.mock("./charts", () => ({ Sparkline: () => null, HistoryChart: () => null }));

import { App } from "./App";
import { TICK_MS, useLoad } from "./hooks";

function dashboard(generatedAt: string, observedAt: string): Dashboard {
  const row = accountRow(1, "llm-main", 30, 12.5, "usd");
  row.latest!.observed_at = observedAt;
  return { generated_at: generatedAt, data_dir: "/tmp/cw", accounts: [row], alerts: [] };
}

async function flush() {
  await act(async () => {});
}

function mount(el: preact.ComponentChild): HTMLElement {
  const host = document.createElement("div");
  document.body.appendChild(host);
  act(() => render(el, host));
  return host;
}

describe("the minute tick", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-21T12:00:00Z"));
    for (const f of Object.values(api)) f.mockReset();
    api.appInfo.mockResolvedValue({ version: "0", demo: false, data_dir: "/tmp/cw" });
    api.settings.mockRejectedValue(new Error("no settings in this test"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("re-renders relative times without asking the API, which answers only a change", async () => {
    api.dashboard.mockResolvedValue(dashboard("2026-11-21T12:00:00Z", "2026-11-21T11:58:00Z"));
    const host = mount(<App />);
    await flush();
    const ago = () => host.querySelector("td.ago")?.textContent;
    expect(ago()).toBe("2 min ago");
    expect(api.dashboard).toHaveBeenCalledTimes(1);

    await act(async () => {
      vi.advanceTimersByTime(TICK_MS);
    });
    expect(ago()).toBe("3 min ago");
    await act(async () => {
      vi.advanceTimersByTime(2 * TICK_MS);
    });
    expect(ago()).toBe("5 min ago");
    expect(api.dashboard).toHaveBeenCalledTimes(1);
    expect(api.appInfo).toHaveBeenCalledTimes(1);

    // Core says something changed: now the dashboard is fetched again (once, after the batch).
    api.dashboard.mockResolvedValue(dashboard("2026-11-21T12:03:00Z", "2026-11-21T12:03:00Z"));
    await act(async () => {
      listeners.get(CHANGED_EVENT)?.({ payload: null });
      vi.advanceTimersByTime(300);
    });
    await flush();
    expect(api.dashboard).toHaveBeenCalledTimes(2);
    expect(ago()).toBe("0 s ago");
    act(() => render(null, host));
  });

  it("ages labels on core's clock (the demo's runs days ahead of the wall)", async () => {
    // Core's time is 40 days past the wall clock; its reading is 2 minutes old by core's time.
    api.dashboard.mockResolvedValue(dashboard("2027-01-01T00:00:00Z", "2026-12-31T23:58:00Z"));
    const host = mount(<App />);
    await flush();
    const ago = () => host.querySelector("td.ago")?.textContent;
    expect(ago()).toBe("2 min ago");
    await act(async () => {
      vi.advanceTimersByTime(TICK_MS);
    });
    expect(ago()).toBe("3 min ago");
    act(() => render(null, host));
  });
});

describe("useLoad", () => {
  it("fetches on mount, when a dep changes and on reload; a new closure alone does not", async () => {
    const load = vi.fn((id: number) => Promise.resolve(`account ${id}`));
    let setId: (n: number) => void = () => {};
    let setOther: (n: number) => void = () => {};
    let reload: () => void = () => {};
    function Probe() {
      const [id, _setId] = useState(1);
      const [other, _setOther] = useState(0);
      setId = _setId;
      setOther = _setOther;
      const r = useLoad(() => load(id), [id]);
      reload = r.reload;
      return <p data-other={other}>{r.data ?? "…"}</p>;
    }
    const host = mount(<Probe />);
    await flush();
    expect(host.textContent).toBe("account 1");
    expect(load).toHaveBeenCalledTimes(1);

    await act(async () => setOther(1)); // re-render with a new closure, same deps
    expect(load).toHaveBeenCalledTimes(1);

    await act(async () => setId(2));
    await flush();
    expect(load).toHaveBeenLastCalledWith(2);
    expect(host.textContent).toBe("account 2");

    await act(async () => reload());
    await flush();
    expect(load).toHaveBeenCalledTimes(3);
    expect(load).toHaveBeenLastCalledWith(2);
  });

  it("drops an answer that arrives after a newer load started", async () => {
    const answers: ((s: string) => void)[] = [];
    let setId: (n: number) => void = () => {};
    function Probe() {
      const [id, _setId] = useState(1);
      setId = _setId;
      const r = useLoad(() => new Promise<string>((res) => answers.push(res)).then((s) => `${s} for ${id}`), [id]);
      return <p>{r.data ?? "…"}</p>;
    }
    const host = mount(<Probe />);
    await act(async () => setId(2));
    expect(answers.length).toBe(2);
    await act(async () => answers[1]("new"));
    await act(async () => answers[0]("old"));
    expect(host.textContent).toBe("new for 2");
  });
});
