import { render } from "preact";
import { act } from "preact/test-utils";
import type { ProviderInfo } from "./bindings/ProviderInfo";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock("./charts", () => ({ Sparkline: () => null, HistoryChart: () => null }));

import { AccountsTable } from "./views/Accounts";
import { filterProviders } from "./views/Wizard";
import { BackfillBar, SourceErrors } from "./views/Logs";
import { PaymentLinkButton, StateChip, barPos } from "./ui";
import { accountRow as row } from "./test-fixtures";
import { BreakerPanel } from "./views/AccountDetail";

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
      <AccountsTable rows={[row(1, "llm-main", 14, 12.5, "usd", "critical"), row(2, "scraper", null, 4820, "credits")]} now={new Date("2026-11-21T12:00:00Z")} onOpen={onOpen} />,
    );
    const trs = host.querySelectorAll<HTMLTableRowElement>("tbody tr");
    expect(trs[0].textContent).toContain("$12.50");
    expect(trs[0].textContent).toContain("~14 h");
    expect(trs[0].textContent).toContain("8–21 h");
    expect(trs[0].querySelector(".runway-main")?.className).toContain("tone-crit"); // core rated it critical
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

describe("severity in the window", () => {
  it("follows core's rating, not a threshold of its own", () => {
    // A week of runway that the user's own warning threshold (say 10 days) makes a warning,
    // and a 14 h runway that a low critical threshold leaves ok: the window shows what core says.
    const host = mount(
      <AccountsTable
        rows={[row(1, "long", 24 * 7, 50, "usd", "warning"), row(2, "short", 14, 5, "usd", "ok"), row(3, "failing", 30, 8, "usd", "error")]}
        now={new Date("2026-11-21T12:00:00Z")}
        onOpen={() => {}}
      />,
    );
    const trs = host.querySelectorAll<HTMLTableRowElement>("tbody tr");
    expect(trs[0].querySelector(".chip")?.textContent).toBe("warning");
    expect(trs[0].querySelector(".runway-main")?.className).toContain("tone-warn");
    expect(trs[1].querySelector(".chip")?.textContent).toBe("ok");
    expect(trs[1].querySelector(".runway-main")?.className).toContain("tone-ok");
    // The key works (state ok) but the last poll failed: red like an error chip.
    expect(trs[2].querySelector(".runway-main")?.className).toContain("tone-crit");
  });
  it("shows the account's own state when its key does not work", () => {
    const r = row(1, "revoked", 14, 5, "usd", "critical");
    r.account.state = "invalid_key";
    const host = mount(<AccountsTable rows={[r]} now={new Date("2026-11-21T12:00:00Z")} onOpen={() => {}} />);
    expect(host.querySelector(".chip")?.textContent).toBe("invalid key");
  });
  it("says out now, in violet, for an account out of credit", () => {
    const r = row(1, "dry", 14, 0, "credits", "out_of_credit");
    r.account.state = "out_of_credit";
    const host = mount(<AccountsTable rows={[r]} now={new Date("2026-11-21T12:00:00Z")} onOpen={() => {}} />);
    const main = host.querySelector(".runway-main");
    expect(main?.textContent).toBe("out now");
    expect(main?.className).toContain("tone-ooc");
    expect(host.querySelector(".chip")?.textContent).toBe("out of credit");
  });
  it("keeps a poll result's chip to the state (no severity there)", () => {
    const host = mount(<StateChip state="ok" />);
    expect(host.textContent).toBe("ok");
  });
});

describe("AccountsTable layout", () => {
  it("sits in a card that scrolls sideways, with long names cut and titled", () => {
    const r = row(1, "a-very-long-account-label-that-would-widen-the-table", 30, 1e6, "credits");
    r.provider_name = "A Provider With A Long Name";
    const host = mount(<AccountsTable rows={[r]} now={new Date("2026-11-21T12:00:00Z")} onOpen={() => {}} />);
    expect(host.querySelector("table.accounts")?.parentElement?.className).toContain("table-scroll");
    expect(host.querySelector(".acc-label")?.getAttribute("title")).toBe(r.account.label);
    expect(host.querySelector(".acc-provider")?.getAttribute("title")).toBe(r.provider_name);
    const remaining = host.querySelector("td.remaining")!;
    expect(remaining.textContent).toBe("1,000,000 credits");
    expect(remaining.querySelector(".amount-unit")?.textContent).toBe("credits");
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

// Several panels are mounted at once here: ids repeat, so they are looked up as attributes.
describe("BreakerPanel", () => {
  it("says off, closed or open as core reports it, and the switch asks core", () => {
    invoke.mockReset();
    invoke.mockResolvedValue(null);
    const off = mount(<BreakerPanel row={row(1, "router", 14, 2, "usd")} onError={() => {}} />);
    expect(off.querySelector("[id=breaker-state]")?.getAttribute("data-state")).toBe("off");
    expect(off.textContent).toContain("http://127.0.0.1:8402/a/router");
    const closed = row(1, "router", 14, 2, "usd");
    closed.account.breaker = true;
    const shut = mount(<BreakerPanel row={closed} onError={() => {}} />);
    expect(shut.querySelector("[id=breaker-state]")?.getAttribute("data-state"), shut.innerHTML).toBe("closed");
    const open = { ...closed, breaker_open_since: "2026-11-21T11:00:00Z" };
    const host = mount(<BreakerPanel row={open} onError={() => {}} />);
    expect(host.querySelector("[id=breaker-state]")?.getAttribute("data-state")).toBe("open");
    expect(host.textContent).toContain("Open since");
    act(() => host.querySelector<HTMLInputElement>("[id=breaker-on]")!.click());
    expect(invoke).toHaveBeenCalledWith("set_breaker", { id: 1, on: false });
  });
});
