// Typed wrappers over the Tauri commands. Types come from Rust via ts-rs (src/bindings).
import { invoke } from "@tauri-apps/api/core";
import type { StatusReport } from "./bindings/StatusReport";
import type { ProviderInfo } from "./bindings/ProviderInfo";
import type { ErrorDto } from "./bindings/ErrorDto";

export class ApiError extends Error {
  constructor(readonly kind: string, message: string) {
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

export const api = {
  status: () => call<StatusReport>("get_status"),
  providers: () => call<ProviderInfo[]>("list_providers"),
};
