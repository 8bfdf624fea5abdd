// Export buttons: a save dialog (the dialog plugin, `dialog:allow-save` only) picks the file,
// then core writes it (`export_to`): the webview never reads or writes a file itself.
import { save } from "@tauri-apps/plugin-dialog";
import { useState } from "preact/hooks";
import { api, ApiError } from "./api";
import type { Dataset } from "./bindings/Dataset";
import type { ExportFormat } from "./bindings/ExportFormat";
import { ErrorBanner } from "./ui";

/** `cliffwatch-events-2026-12-02.csv`, or `cliffwatch-balances-llm-main-2026-12-02.csv` for one
 * account: the local date, and a label cut down to what every file system takes. */
export function exportFileName(dataset: Dataset, format: ExportFormat, today: Date, label?: string | null): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  const slug = (label ?? "")
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|-+$/g, "")
    .slice(0, 40);
  return `cliffwatch-${dataset}${slug ? `-${slug}` : ""}-${day}.${format}`;
}

/** The format follows the chosen file's name: `.json` is JSON, anything else CSV. */
export function formatOfPath(path: string): ExportFormat {
  return /\.json$/i.test(path) ? "json" : "csv";
}

const FILTERS = [
  { name: "CSV (spreadsheets, import balances)", extensions: ["csv"] },
  { name: "JSON (the CLI's --json shape)", extensions: ["json"] },
];

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** "Export …": asks where, then has core write the file, and says how many rows it holds. */
export function ExportButton({
  dataset,
  label,
  account = null,
  accountLabel = null,
  since = null,
  id,
}: {
  dataset: Dataset;
  label?: string;
  account?: number | null;
  accountLabel?: string | null;
  since?: string | null;
  id?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async () => {
    setError(null);
    setDone(null);
    let path: string | null;
    try {
      path = await save({ title: `Export ${dataset}`, defaultPath: exportFileName(dataset, "csv", new Date(), accountLabel), filters: FILTERS });
    } catch (e) {
      setError(new ApiError("dialog", `the save dialog did not open: ${String(e)}`));
      return;
    }
    if (!path) return; // cancelled
    setBusy(true);
    try {
      const rows = await api.exportTo(dataset, formatOfPath(path), path, account, since);
      setDone(`${rows.toLocaleString()} row${rows === 1 ? "" : "s"} written to ${basename(path)}`);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="export">
      <button type="button" class="btn btn-small" id={id ?? `export-${dataset}`} disabled={busy} onClick={run} title="CSV or JSON, by the file name you choose">
        {busy ? "Exporting…" : label ?? "Export"}
      </button>
      {done && (
        <span class="muted small export-done" role="status">
          {done}
        </span>
      )}
      <ErrorBanner error={error} />
    </span>
  );
}
