import { render } from "preact";
import { act } from "preact/test-utils";

// The API module is replaced: the views get core's answers from the test, none reaches Tauri.
const api = vi.hoisted(() => ({
  events: vi.fn(),
  account: vi.fn(),
  saveSettings: vi.fn(),
  readApi: vi.fn(() => Promise.resolve({ state: "off", address: null, from_command_line: false, message: null })),
  proxy: vi.fn(() => Promise.resolve({ state: "off", address: null, from_command_line: false, message: null })),
  channelKinds: vi.fn(() => Promise.resolve([])),
  channels: vi.fn(() => Promise.resolve([])),
}));
vi.mock("./api", async (importOriginal) => ({ ...(await importOriginal<typeof import("./api")>()), api }));
vi.mock("./charts", () => ({ Sparkline: () => null, HistoryChart: () => null }));

import { EventsView } from "./views/Events";
import { AccountDetailView } from "./views/AccountDetail";
import { SettingsView, wholeOrOff } from "./views/Settings";
import { accountDetail, defaultRules, eventRow } from "./test-fixtures";

const hosts: HTMLElement[] = [];
function mount(el: preact.ComponentChild): HTMLElement {
  const host = document.createElement("div");
  document.body.appendChild(host);
  hosts.push(host);
  act(() => render(el, host));
  return host;
}
// Each test unmounts its views: two views' ids in one document would make `#id` look-ups find
// the earlier test's element.
afterEach(() => {
  for (const host of hosts.splice(0)) {
    act(() => render(null, host));
    host.remove();
  }
});

async function flush() {
  await act(async () => {});
}

describe("the 402 history and payments", () => {
  beforeEach(() => {
    for (const f of Object.values(api)) f.mockReset();
  });

  it("shows core's words for a payment next to the outcome, and a dash for an event without one", async () => {
    api.events.mockResolvedValue([
      eventRow(1, "payment_required", {
        protocol: "x402 v2",
        stage: "challenge",
        price: "0.01 USDC",
        network: "eip155:8453",
        pay_to: "0x2096…287C",
        resource: "https://api.example.com/v1/data",
        description: "One weather report",
        note: null,
      }),
      eventRow(2, "out_of_credit"),
    ]);
    const host = mount(<EventsView dash={null} version={0} />);
    await flush();
    const trs = host.querySelectorAll<HTMLTableRowElement>("#events tbody tr");
    const pay = trs[0].querySelector("td.pay")!;
    // Shown as core formatted it: the window neither rounds the price nor shortens the address.
    expect(pay.textContent).toContain("x402 v2 · 0.01 USDC");
    expect(pay.querySelector(".pay-where")?.textContent).toBe("eip155:8453 → 0x2096…287C");
    expect(pay.textContent).toContain("https://api.example.com/v1/data");
    expect(pay.querySelector("[title]")?.getAttribute("title")).toBe("One weather report");
    // A price asked is calm news, not out of credit's violet.
    expect(trs[0].querySelector(".chip")?.className).toContain("outcome-payment_required");
    expect(trs[0].querySelector(".chip")?.textContent).toBe("payment required");
    expect(trs[1].querySelector("td.pay")?.textContent).toBe("—");
  });

  it("offers payment_required in the outcome filter and asks core for it", async () => {
    api.events.mockResolvedValue([]);
    const host = mount(<EventsView dash={null} version={0} />);
    await flush();
    const select = host.querySelector<HTMLSelectElement>("#filter-outcome")!;
    const option = Array.from(select.options).find((o) => o.value === "payment_required");
    expect(option?.textContent).toBe("payment required (price asked)");
    await act(async () => {
      select.value = "payment_required";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    expect(api.events).toHaveBeenLastCalledWith(expect.objectContaining({ outcome: "payment_required" }));
  });
});

describe("pay-per-call spend on the account", () => {
  beforeEach(() => api.account.mockReset());

  it("lists protocol, host, payments and total when there is spend", async () => {
    api.account.mockResolvedValue(accountDetail([{ protocol: "x402", host: "api.example.com", payments: 42n, total: "0.42 USDC" }]));
    const host = mount(<AccountDetailView id={1} version={0} onBack={() => {}} onRemoved={() => {}} />);
    await flush();
    const section = host.querySelector("#pay-per-call")!;
    expect(section.querySelector("h3")?.textContent).toBe("Pay-per-call spend (30 days)");
    const cells = Array.from(section.querySelectorAll("tbody td")).map((td) => td.textContent);
    expect(cells).toEqual(["x402", "api.example.com", "42", "0.42 USDC"]);
  });

  it("shows no spend section when there is none", async () => {
    api.account.mockResolvedValue(accountDetail([]));
    const host = mount(<AccountDetailView id={1} version={0} onBack={() => {}} onRemoved={() => {}} />);
    await flush();
    expect(host.querySelector("#account-detail .detail-title")).not.toBeNull(); // the detail did render
    expect(host.querySelector("#pay-per-call")).toBeNull();
    expect(host.textContent).not.toContain("Pay-per-call");
  });

  it("says what the forecast stands on, in core's words", async () => {
    api.account.mockResolvedValue(accountDetail([]));
    const host = mount(<AccountDetailView id={1} version={0} onBack={() => {}} onRemoved={() => {}} />);
    await flush();
    expect(host.querySelector("#detail-basis")?.textContent).toBe(
      "from 2 days of readings; band widened: too little history to check past forecasts yet",
    );
  });
});

describe("the unpaid-challenges setting", () => {
  it("is a whole number of 1 or more, or off", () => {
    expect(wholeOrOff("")).toBeNull();
    expect(wholeOrOff("0")).toBeNull(); // as the CLI: 0 is off
    expect(wholeOrOff("5")).toBe(5);
    expect(wholeOrOff("2.6")).toBe(3); // core stores a whole number
  });

  it("saves what was typed, and null once emptied", async () => {
    api.saveSettings.mockImplementation((s) => Promise.resolve(s));
    const initial = { poll_interval_s: 300, rules: defaultRules(), quiet_hours: null, notifications: true, theme: "system" as const, listen: null, proxy: null };
    const host = mount(<SettingsView initial={initial} onSaved={() => {}} />);
    const input = host.querySelector<HTMLInputElement>("#unpaid-challenges")!;
    expect(input.value).toBe(""); // off by default
    const type = (v: string) =>
      act(() => {
        input.value = v;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    const save = () => act(async () => host.querySelector<HTMLButtonElement>("#settings-save")!.click());
    type("20");
    await save();
    expect(api.saveSettings.mock.lastCall?.[0].rules.unpaid_challenges_per_hour).toBe(20);
    type("");
    await save();
    expect(api.saveSettings.mock.lastCall?.[0].rules.unpaid_challenges_per_hour).toBeNull();
  });
});
