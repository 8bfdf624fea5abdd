import { render } from "preact";
import { act } from "preact/test-utils";
import type { AccountRow } from "./bindings/AccountRow";
import type { ProviderInfo } from "./bindings/ProviderInfo";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock("./charts", () => ({ Sparkline: () => null, HistoryChart: () => null }));

import { AccountsTable } from "./views/Accounts";
import { filterProviders } from "./views/Wizard";
import { BackfillBar, SourceErrors } from "./views/Logs";
import { PaymentLinkButton, barPos } from "./ui";

function row(id: number, label: string, p50: number | null, remaining: number, unit: string): AccountRow {
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
    sparkline: [],
    last_event: null,
  };
}

function mount(el: preact.ComponentChild): HTMLElement {
  const host = document.createElement("div");
  document.body.appendChild(host);
  act(() => render(el, host));
  return host;
}

describe("AccountsTable", () => {
  it("shows remaining with its unit, the runway band, and is keyboard navigable", () => {
    const onOpen = vi.fn();
    const host = mount(
      <AccountsTable rows={[row(1, "llm-main", 14, 12.5, "usd"), row(2, "scraper", null, 4820, "credits")]} now={new Date("2026-11-21T12:00:00Z")} onOpen={onOpen} />,
    );
    const trs = host.querySelectorAll<HTMLTableRowElement>("tbody tr");
    expect(trs[0].textContent).toContain("$12.50");
    expect(trs[0].textContent).toContain("~14 h");
    expect(trs[0].textContent).toContain("8–21 h");
    expect(trs[0].querySelector(".runway-main")?.className).toContain("tone-crit"); // P10 < 24 h
    expect(trs[0].querySelector(".chip")?.textContent).toBe("critical"); // answers fine, runs out soon
    expect(trs[1].querySelector(".chip")?.textContent).toBe("ok"); // learning: no runway yet
    expect(trs[1].textContent).toContain("4,820 credits");
    expect(trs[1].textContent).toContain("learning");
    trs[0].focus();
    act(() => {
      trs[0].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    });
    expect(document.activeElement).toBe(trs[1]);
    act(() => {
      trs[1].dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    });
    expect(onOpen).toHaveBeenCalledWith(2);
  });
});

describe("PaymentLinkButton", () => {
  it("opens an untrusted link only after a dialog that names its domain", async () => {
    invoke.mockReset();
    invoke.mockResolvedValue(null);
    const host = mount(
      <PaymentLinkButton link={{ url: "https://pay.evil.example/x", domain: "pay.evil.example", provider_domain: false, label: "" }} />,
    );
    act(() => host.querySelector("button")!.click());
    expect(invoke).not.toHaveBeenCalled();
    const dialog = host.querySelector("#payment-confirm")!;
    expect(dialog.textContent).toContain("pay.evil.example");
    expect(dialog.textContent).toContain("not the provider's own domain");
    const open = Array.from(dialog.querySelectorAll("button")).find((b) => b.textContent?.startsWith("Open"))!;
    await act(async () => open.click());
    expect(invoke).toHaveBeenCalledWith("open_top_up", { url: "https://pay.evil.example/x" });
  });
});

describe("filterProviders", () => {
  const p = (id: string, name: string, category: ProviderInfo["category"]): ProviderInfo => ({
    id,
    name,
    category,
    default_base_url: "",
    units: "credits",
    key_help: "",
    top_up_url: "",
    min_poll_interval_s: 60,
    options: [],
  });
  it("matches id, name and category words", () => {
    const all = [p("openrouter", "OpenRouter", "llm"), p("twocaptcha", "2Captcha", "captcha"), p("scraperapi", "ScraperAPI", "scraping")];
    expect(filterProviders(all, "captcha").map((x) => x.id)).toEqual(["twocaptcha"]);
    expect(filterProviders(all, "scrap").map((x) => x.id)).toEqual(["scraperapi"]);
    expect(filterProviders(all, "").length).toBe(3);
  });
});

describe("barPos", () => {
  it("puts hours on a log scale capped at a week", () => {
    expect(barPos(0)).toBe(0);
    expect(barPos(24 * 7)).toBe(100);
    expect(barPos(1000)).toBe(100);
    expect(barPos(24)).toBeGreaterThan(50); // a day is well past halfway: hours matter most
  });
});

describe("BackfillBar", () => {
  it("shows how much of a backfill is read, and nothing when none is under way", () => {
    const host = mount(
      <BackfillBar progress={{ source_id: 3, files_done: 1, files_total: 4, bytes_done: 3 * 1024 * 1024, bytes_total: 12 * 1024 * 1024, path: "/logs/b.log" }} />,
    );
    const bar = host.querySelector<HTMLElement>("[role=progressbar]");
    expect(bar?.getAttribute("aria-valuenow")).toBe("25");
    expect(host.querySelector<HTMLElement>(".backfill-fill")?.style.width).toBe("25%");
    expect(host.textContent).toContain("reading 3.0 MiB of 12.0 MiB, file 2 of 4");
    const none = mount(<BackfillBar progress={undefined} />);
    expect(none.textContent).toBe("");
  });
});

describe("SourceErrors", () => {
  it("says how many files of a source cannot be read and the last error, and nothing when none", () => {
    const host = mount(<SourceErrors count={2} last="cannot read /logs/a.log.1.gz: invalid gzip header" />);
    expect(host.textContent).toBe("2 files cannot be read and are skipped: cannot read /logs/a.log.1.gz: invalid gzip header");
    const none = mount(<SourceErrors count={0} last={null} />);
    expect(none.textContent).toBe("");
  });
});
