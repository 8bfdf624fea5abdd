import { render } from "preact";
import { act } from "preact/test-utils";
import type { ChannelRow } from "./bindings/ChannelRow";
import type { ChannelKindInfo } from "./bindings/ChannelKindInfo";
import type { Settings } from "./bindings/Settings";

// The API module is replaced: the views get core's answers from the test, none reaches Tauri.
const api = vi.hoisted(() => ({
  saveSettings: vi.fn(),
  readApi: vi.fn(),
  proxy: vi.fn(),
  channelKinds: vi.fn(),
  channels: vi.fn(),
  addChannel: vi.fn(),
  testChannel: vi.fn(),
  removeChannel: vi.fn(),
}));
vi.mock("./api", async (importOriginal) => ({ ...(await importOriginal<typeof import("./api")>()), api }));

import { ApiError } from "./api";
import { SettingsView, listenProblem, DEFAULT_LISTEN } from "./views/Settings";
import { channelForm, channelProblem, emptyDraft } from "./views/Channels";
import { exportFileName, formatOfPath } from "./export";
import { defaultRules } from "./test-fixtures";

const KINDS: ChannelKindInfo[] = [
  { kind: "webhook", secret_is: "the webhook URL" },
  { kind: "slack", secret_is: "the incoming-webhook URL (https://hooks.slack.com/services/…)" },
  { kind: "discord", secret_is: "the webhook URL (https://discord.com/api/webhooks/…)" },
  { kind: "ntfy", secret_is: "the topic URL (https://ntfy.sh/<topic>)" },
  { kind: "telegram", secret_is: "the bot token (from BotFather)" },
  { kind: "command", secret_is: null },
];

const SECRET = "https://hooks.example.test/T000/B000/very-secret-path-b3f9";

function webhookRow(over: Partial<ChannelRow> = {}): ChannelRow {
  return {
    id: 7,
    kind: "webhook",
    label: "ops-hook",
    secret: "keychain …b3f9",
    min_severity: "warning",
    options: { args: [] },
    created_at: "2026-12-01T10:00:00Z",
    last_delivery: null,
    ...over,
  };
}

const settings: Settings = { poll_interval_s: 300, rules: defaultRules(), quiet_hours: null, notifications: true, theme: "system", listen: null, proxy: null };

const hosts: HTMLElement[] = [];
async function mount(el: preact.ComponentChild): Promise<HTMLElement> {
  const host = document.createElement("div");
  document.body.appendChild(host);
  hosts.push(host);
  await act(async () => render(el, host));
  await settle();
  return host;
}
/** Lets the mocked calls' promises resolve and the view re-render. */
async function settle() {
  for (let i = 0; i < 3; i++) await act(async () => await Promise.resolve());
}
function typeInto(el: HTMLInputElement | HTMLTextAreaElement, v: string) {
  act(() => {
    el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  });
}
function choose(el: HTMLSelectElement, v: string) {
  act(() => {
    el.value = v;
    el.dispatchEvent(new Event("change", { bubbles: true }));
  });
}
async function click(el: Element) {
  await act(async () => {
    (el as HTMLElement).click();
  });
  await settle();
}
async function submit(form: HTMLFormElement) {
  await act(async () => {
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
  });
  await settle();
}

beforeEach(() => {
  for (const f of Object.values(api)) f.mockReset();
  api.readApi.mockResolvedValue({ state: "off", address: null, from_command_line: false, message: null });
  api.proxy.mockResolvedValue({ state: "off", address: null, from_command_line: false, message: null });
  api.channelKinds.mockResolvedValue(KINDS);
  api.channels.mockResolvedValue([]);
});
afterEach(() => {
  for (const host of hosts.splice(0)) {
    act(() => render(null, host));
    host.remove();
  }
});

describe("alert channels in Settings", () => {
  it("lists where each secret lives, the severity and the last delivery, never a secret", async () => {
    api.channels.mockResolvedValue([
      webhookRow({
        last_delivery: {
          alert_id: 3,
          channel: "ops-hook",
          kind: "webhook",
          state: "failed",
          attempts: 10,
          next_attempt_at: null,
          delivered_at: null,
          last_error: "hooks.example.test refused the message (HTTP 404)",
        },
      }),
      webhookRow({ id: 8, kind: "command", label: "pager", secret: "none", min_severity: "critical", options: { program: "/usr/local/bin/page-me", args: ["--urgent"] } }),
    ]);
    const host = await mount(<SettingsView initial={settings} onSaved={() => {}} />);
    const hook = host.querySelector("tr[data-channel='ops-hook']")!;
    expect(hook.textContent).toContain("keychain …b3f9");
    expect(hook.textContent).toContain("warnings and critical");
    expect(hook.textContent).toContain("failed");
    expect(hook.textContent).toContain("HTTP 404"); // why it failed, in core's words
    const pager = host.querySelector("tr[data-channel='pager']")!;
    expect(pager.textContent).toContain("/usr/local/bin/page-me --urgent"); // a command has no secret: its program is shown
    expect(pager.textContent).toContain("critical only");
  });

  it("checks the form before core sees it, and shows core's message when core refuses", async () => {
    const host = await mount(<SettingsView initial={settings} onSaved={() => {}} />);
    const form = host.querySelector<HTMLFormElement>("#channel-form")!;
    await submit(form);
    expect(host.querySelector("#channel-form .error")?.textContent).toContain("label");
    typeInto(host.querySelector("#channel-label")!, "ops-hook");
    await submit(form);
    expect(host.querySelector("#channel-form .error")?.textContent).toBe("Give the webhook URL.");
    expect(api.addChannel).not.toHaveBeenCalled();
    typeInto(host.querySelector("#channel-secret")!, "http://10.0.0.9/hook");
    api.addChannel.mockRejectedValue(new ApiError("invalid_input", "the webhook URL must use https:// (plain http is refused except on this machine)"));
    await submit(form);
    expect(host.querySelector("#channel-form .error")?.textContent).toContain("must use https://");
  });

  it("sends the secret once, as a password, then clears it; the list shows only its hint", async () => {
    api.addChannel.mockResolvedValue(webhookRow());
    const host = await mount(<SettingsView initial={settings} onSaved={() => {}} />);
    const secret = host.querySelector<HTMLInputElement>("#channel-secret")!;
    expect(secret.type).toBe("password");
    typeInto(host.querySelector("#channel-label")!, "ops-hook");
    typeInto(secret, SECRET);
    choose(host.querySelector("#channel-min-severity")!, "critical");
    api.channels.mockResolvedValue([webhookRow({ min_severity: "critical" })]);
    await submit(host.querySelector<HTMLFormElement>("#channel-form")!);
    expect(api.addChannel).toHaveBeenCalledTimes(1);
    expect(api.addChannel).toHaveBeenCalledWith({ kind: "webhook", label: "ops-hook", secret: SECRET, min_severity: "critical", options: { args: [] } });
    expect(host.querySelector<HTMLInputElement>("#channel-secret")!.value).toBe(""); // gone from the form
    expect(host.querySelector("tr[data-channel='ops-hook']")?.textContent).toContain("…b3f9");
    expect(host.innerHTML).not.toContain("very-secret-path"); // not re-displayed anywhere
  });

  it("has no secret field for a command, arguments one per line, and a chat id for Telegram", async () => {
    const host = await mount(<SettingsView initial={settings} onSaved={() => {}} />);
    choose(host.querySelector("#channel-kind")!, "command");
    expect(host.querySelector("#channel-secret")).toBeNull();
    typeInto(host.querySelector("#channel-label")!, "pager");
    typeInto(host.querySelector("#channel-program")!, "/usr/local/bin/page-me");
    typeInto(host.querySelector("#channel-args")!, "--urgent\n\n  --team ops \n");
    api.addChannel.mockResolvedValue(webhookRow({ kind: "command", label: "pager", secret: "none" }));
    await submit(host.querySelector<HTMLFormElement>("#channel-form")!);
    expect(api.addChannel).toHaveBeenCalledWith({
      kind: "command",
      label: "pager",
      secret: null,
      min_severity: "warning",
      options: { program: "/usr/local/bin/page-me", args: ["--urgent", "--team ops"] },
    });
    choose(host.querySelector("#channel-kind")!, "telegram");
    expect(host.querySelector("#channel-chat-id")).not.toBeNull();
    expect(host.querySelector("#channel-form")?.textContent).toContain("the bot token (from BotFather)"); // core's words for the secret
  });

  it("tests a channel and shows the result inline; remove asks first", async () => {
    api.channels.mockResolvedValue([webhookRow()]);
    api.testChannel.mockResolvedValue({ label: "ops-hook", delivered: true, message: "delivered" });
    const host = await mount(<SettingsView initial={settings} onSaved={() => {}} />);
    await click(host.querySelector(".channel-test")!);
    expect(api.testChannel).toHaveBeenCalledWith(7);
    expect(host.querySelector(".channel-result")?.textContent).toBe("delivered");
    api.testChannel.mockResolvedValue({ label: "ops-hook", delivered: false, message: "hooks.example.test answered HTTP 500" });
    await click(host.querySelector(".channel-test")!);
    expect(host.querySelector(".channel-result")?.textContent).toContain("HTTP 500");
    await click(host.querySelector(".channel-remove")!);
    expect(api.removeChannel).not.toHaveBeenCalled(); // a confirmation first
    api.removeChannel.mockResolvedValue(webhookRow());
    api.channels.mockResolvedValue([]);
    await click(document.querySelector("#confirm-remove-channel")!);
    expect(api.removeChannel).toHaveBeenCalledWith(7);
    expect(host.querySelector("#channels-empty")).not.toBeNull();
  });

  it("keeps the rules core checks again in one place per kind", () => {
    const d = { ...emptyDraft, label: "x" };
    expect(channelProblem({ ...d, kind: "slack", secret: "hooks.slack.com/services/x" }, "the incoming-webhook URL")).toContain("https://");
    expect(channelProblem({ ...d, kind: "telegram", secret: "123:abc" }, "the bot token")).toContain("chat id");
    expect(channelProblem({ ...d, kind: "telegram", secret: "123:abc", chat_id: "-100123" }, "the bot token")).toBeNull();
    expect(channelProblem({ ...d, label: "x".repeat(65), secret: "https://a" }, "the webhook URL")).toContain("64");
    expect(channelForm({ ...d, kind: "webhook", secret: " https://a ", chat_id: "ignored" }, "the webhook URL").options).toEqual({ args: [] });
  });
});

describe("the recording proxy switch", () => {
  it("turns on at 127.0.0.1:8402, saves it, and shows the base URL to give an SDK", async () => {
    api.saveSettings.mockImplementation((s: Settings) => Promise.resolve(s));
    const host = await mount(<SettingsView initial={settings} onSaved={() => {}} />);
    expect(host.querySelector("#proxy-address")).toBeNull(); // off by default
    expect(host.querySelector("#proxy-settings")?.textContent).toMatch(/none is\s+added or stored/);
    await click(host.querySelector("#proxy-on")!);
    expect(host.querySelector<HTMLInputElement>("#proxy-address")!.value).toBe("127.0.0.1:8402");
    api.proxy.mockResolvedValue({ state: "serving", address: "127.0.0.1:8402", from_command_line: false, message: null });
    await submit(host.querySelector<HTMLFormElement>("#settings-view")!);
    expect(api.saveSettings).toHaveBeenCalledWith(expect.objectContaining({ proxy: "127.0.0.1:8402", listen: null }));
    expect(host.querySelector("#proxy-status")?.textContent).toContain("http://127.0.0.1:8402/a/<account label>");
  });

  it("refuses an address without a port before saving", async () => {
    api.saveSettings.mockClear();
    const host = await mount(<SettingsView initial={{ ...settings, proxy: "127.0.0.1" }} onSaved={() => {}} />);
    await submit(host.querySelector<HTMLFormElement>("#settings-view")!);
    expect(api.saveSettings).not.toHaveBeenCalled();
    expect(host.textContent).toContain("IP:port");
  });
});

describe("the local read API switch", () => {
  it("turns on with the usual address, says it is loopback-only and read-only, and saves it", async () => {
    api.saveSettings.mockImplementation((s: Settings) => Promise.resolve(s));
    const saved = vi.fn();
    const host = await mount(<SettingsView initial={settings} onSaved={saved} />);
    expect(host.querySelector("#listen-address")).toBeNull(); // off by default
    expect(host.querySelector("#read-api")?.textContent).toMatch(/loopback only and read-only/i);
    await click(host.querySelector("#listen-on")!);
    const addr = host.querySelector<HTMLInputElement>("#listen-address")!;
    expect(addr.value).toBe(DEFAULT_LISTEN);
    typeInto(addr, "127.0.0.1:9500");
    api.readApi.mockResolvedValue({ state: "serving", address: "127.0.0.1:9500", from_command_line: false, message: null });
    await submit(host.querySelector<HTMLFormElement>("#settings-view")!);
    expect(api.saveSettings).toHaveBeenCalledWith(expect.objectContaining({ listen: "127.0.0.1:9500" }));
    expect(saved).toHaveBeenCalled();
    expect(host.querySelector("#listen-status")?.textContent).toContain("http://127.0.0.1:9500/metrics");
    // Off again, then on: the address typed last comes back.
    await click(host.querySelector("#listen-on")!);
    expect(host.querySelector("#listen-address")).toBeNull();
    await click(host.querySelector("#listen-on")!);
    expect(host.querySelector<HTMLInputElement>("#listen-address")!.value).toBe("127.0.0.1:9500");
  });

  it("refuses an address without a port before saving, and shows core's refusal and a bind failure", async () => {
    api.readApi.mockResolvedValue({ state: "failed", address: "127.0.0.1:9402", from_command_line: false, message: "cannot listen on 127.0.0.1:9402: Address in use" });
    const host = await mount(<SettingsView initial={{ ...settings, listen: "127.0.0.1:9402" }} onSaved={() => {}} />);
    expect(host.querySelector("#listen-status")?.textContent).toContain("Address in use");
    typeInto(host.querySelector("#listen-address")!, "localhost");
    await submit(host.querySelector<HTMLFormElement>("#settings-view")!);
    expect(api.saveSettings).not.toHaveBeenCalled();
    expect(host.querySelector("#settings-view > .error")?.textContent).toContain("IP:port");
    typeInto(host.querySelector("#listen-address")!, "0.0.0.0:9402");
    api.saveSettings.mockRejectedValue(new ApiError("invalid_input", "0.0.0.0:9402 is not a loopback address"));
    await submit(host.querySelector<HTMLFormElement>("#settings-view")!);
    expect(host.querySelector("#settings-view > .error")?.textContent).toContain("not a loopback address");
  });

  it("checks the shape only; core decides what is loopback", () => {
    expect(listenProblem("127.0.0.1:9402")).toBeNull();
    expect(listenProblem("[::1]:9402")).toBeNull();
    expect(listenProblem("0.0.0.0:9402")).toBeNull(); // core refuses it, with its reason
    expect(listenProblem("127.0.0.1")).toContain("IP:port");
    expect(listenProblem("127.0.0.1:70000")).toContain("65535");
    expect(listenProblem(" ")).toContain(DEFAULT_LISTEN);
  });
});

describe("export file names", () => {
  it("names the dataset, the account and the local date; the format follows the name", () => {
    const day = new Date(2026, 11, 2, 9, 30);
    expect(exportFileName("events", "csv", day)).toBe("cliffwatch-events-2026-12-02.csv");
    expect(exportFileName("balances", "json", day, "llm main/prod")).toBe("cliffwatch-balances-llm-main-prod-2026-12-02.json");
    expect(formatOfPath("/home/u/cliffwatch-events.JSON")).toBe("json");
    expect(formatOfPath("/home/u/cliffwatch-events.csv")).toBe("csv");
    expect(formatOfPath("/home/u/no-extension")).toBe("csv");
  });
});
