import type { AppInfo } from "./bindings/AppInfo";
// Typed wrappers over the Tauri commands. Types come from Rust via ts-rs (src/bindings).
import { invoke } from "@tauri-apps/api/core";
import type { StatusReport } from "./bindings/StatusReport";
import type { ProviderInfo } from "./bindings/ProviderInfo";
import type { ErrorDto } from "./bindings/ErrorDto";
import type { Dashboard } from "./bindings/Dashboard";
import type { AccountDetail } from "./bindings/AccountDetail";
import type { AccountForm } from "./bindings/AccountForm";
import type { AccountRow } from "./bindings/AccountRow";
import type { Account } from "./bindings/Account";
import type { EventQuery } from "./bindings/EventQuery";
import type { EventRow } from "./bindings/EventRow";
import type { LogSourceRow } from "./bindings/LogSourceRow";
import type { LogPreview } from "./bindings/LogPreview";
import type { LogSource } from "./bindings/LogSource";
import type { Settings } from "./bindings/Settings";
import type { PollResult } from "./bindings/PollResult";
import type { AccountEdit } from "./bindings/AccountEdit";
import type { ChannelForm } from "./bindings/ChannelForm";
import type { ChannelKindInfo } from "./bindings/ChannelKindInfo";
import type { ChannelRow } from "./bindings/ChannelRow";
import type { ChannelTest } from "./bindings/ChannelTest";
import type { ReadApiStatus } from "./bindings/ReadApiStatus";
import type { Dataset } from "./bindings/Dataset";
import type { ExportFormat } from "./bindings/ExportFormat";

export class ApiError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    const dto = e as Partial<ErrorDto>;
    if (dto && typeof dto.kind === "string") throw new ApiError(dto.kind, dto.message ?? dto.kind);
    throw new ApiError("ipc", String(e));
  }
}

export const emptyQuery: EventQuery = { account: null, provider: null, outcome: null, since: null, until: null, limit: null };

export const api = {
  status: () => call<StatusReport>("get_status"),
  providers: () => call<ProviderInfo[]>("list_providers"),
  dashboard: () => call<Dashboard>("get_dashboard"),
  appInfo: () => call<AppInfo>("app_info"),
  account: (id: number) => call<AccountDetail>("get_account", { id }),
  addAccount: (form: AccountForm) => call<AccountRow>("add_account", { form }),
  removeAccount: (id: number) => call<Account>("remove_account", { id }),
  editAccount: (id: number, edit: AccountEdit) => call<AccountRow>("edit_account", { id, edit }),
  replaceKey: (id: number, secret: string) => call<AccountRow>("replace_key", { id, secret }),
  openTopUp: (url: string) => call<void>("open_top_up", { url }),
  testAccount: (id: number) => call<PollResult>("test_account", { id }),
  pollAccount: (id: number) => call<PollResult>("poll_account", { id }),
  events: (query: Partial<EventQuery>) => call<EventRow[]>("list_events", { query: { ...emptyQuery, ...query } }),
  logSources: () => call<LogSourceRow[]>("list_log_sources"),
  previewLog: (pattern: string) => call<LogPreview>("preview_log_source", { pattern }),
  addLogSource: (pattern: string, format: string) => call<LogSource>("add_log_source", { pattern, format }),
  removeLogSource: (id: number) => call<void>("remove_log_source", { id }),
  settings: () => call<Settings>("get_settings"),
  saveSettings: (settings: Settings) => call<Settings>("save_settings", { settings }),
  readApi: () => call<ReadApiStatus>("get_read_api"),
  proxy: () => call<ReadApiStatus>("get_proxy"),
  setBreaker: (id: number, on: boolean) => call<Account>("set_breaker", { id, on }),
  channelKinds: () => call<ChannelKindInfo[]>("list_channel_kinds"),
  channels: () => call<ChannelRow[]>("list_channels"),
  /** The form's secret goes to core once, here, and on to the keychain; it never comes back. */
  addChannel: (form: ChannelForm) => call<ChannelRow>("add_channel", { form }),
  testChannel: (id: number) => call<ChannelTest>("test_channel", { id }),
  removeChannel: (id: number) => call<ChannelRow>("remove_channel", { id }),
  /** Core writes the export to `path` (chosen in the save dialog); resolves to the rows written. */
  exportTo: (dataset: Dataset, format: ExportFormat, path: string, account: number | null = null, since: string | null = null) =>
    call<number>("export_to", { dataset, format, path, account, since }),
};

/** A provider's options as typed into a form: empty fields left out, a custom spec parsed as
 * JSON, the others trimmed strings; an ApiError names a spec that is not JSON. */
export function optionsFromForm(fields: Record<string, string>): Record<string, unknown> | ApiError {
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (!v.trim()) continue;
    try {
      opts[k] = k === "spec" ? JSON.parse(v) : v.trim();
    } catch {
      return new ApiError("invalid_input", `the ${k} must be valid JSON`);
    }
  }
  return opts;
}
