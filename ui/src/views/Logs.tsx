// Log sources: what is watched, how far it has been read, and adding a path or glob with a
// preview of what would be detected.
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import type { LogPreview } from "../bindings/LogPreview";
import { formatAgo, formatBytes, formatTime, outcomeLabel } from "../format";
import { progressShare, useBackfills } from "../live";
import { useLoad, useNow } from "../hooks";
import { ErrorBanner } from "../ui";
import type { LogProgress } from "../bindings/LogProgress";

const FORMATS = ["auto", "combined", "caddy", "jsonl", "scrapy", "har", "python-http", "claude-code", "codex"];

export function LogsView({ version }: { version: number }) {
  const { data, error, reload } = useLoad(() => api.logSources(), [version]);
  const backfills = useBackfills();
  const now = useNow();
  return (
    <section id="logs-view">
      <AddSource onAdded={reload} />
      <ErrorBanner error={error} />
      {data && data.length === 0 && (
        <div class="empty">
          <h2>No log sources yet</h2>
          <p class="muted">
            Point Cliffwatch at request logs (nginx, Caddy, Scrapy, HAR, JSON lines) or agent transcripts (Claude Code, Codex): it
            reads them as they grow and records every 402.
          </p>
        </div>
      )}
      {data && data.length > 0 && (
        <table class="sources" id="log-sources">
          <thead>
            <tr>
              <th>Path or glob</th>
              <th>Format</th>
              <th>Status</th>
              <th class="num">Files</th>
              <th class="num">Read</th>
              <th class="num">Events</th>
              <th>Last event</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((s) => (
              <tr key={s.source.id}>
                <td class="mono break">
                  {s.source.pattern}
                  <SourceErrors count={s.file_errors} last={s.last_error} />
                </td>
                <td>{s.source.format}</td>
                <td>
                  <span class={`chip ${s.status === "watching" ? "chip-ok" : ""}`}>{s.status}</span>
                  <BackfillBar progress={backfills.get(s.source.id)} />
                </td>
                <td class="num">{s.files}</td>
                <td class="num">{formatBytes(s.bytes_read)}</td>
                <td class="num">{s.events}</td>
                <td class="muted" title={formatTime(s.last_event_at)}>
                  {s.last_event_at ? formatAgo(s.last_event_at, now) : "—"}
                </td>
                <td>
                  <button class="btn btn-small btn-danger-ghost" onClick={() => api.removeLogSource(s.source.id).then(reload)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Files of a source that cannot be read (skipped until they change; the others are read). */
export function SourceErrors({ count, last }: { count: number; last: string | null }) {
  if (count <= 0) return null;
  return (
    <div class="warn-box small source-errors" role="status" title={last ?? undefined}>
      {count} file{count === 1 ? "" : "s"} cannot be read and {count === 1 ? "is" : "are"} skipped
      {last && <>: {last}</>}
    </div>
  );
}

/** A backfill under way: how much of the files' new bytes has been read. */
export function BackfillBar({ progress }: { progress: LogProgress | undefined }) {
  if (!progress) return null;
  const pct = Math.round(progressShare(progress) * 100);
  const label = `reading ${formatBytes(progress.bytes_done)} of ${formatBytes(progress.bytes_total)}, file ${Math.min(progress.files_done + 1, progress.files_total)} of ${progress.files_total}`;
  return (
    <div class="backfill" data-testid="backfill" title={progress.path}>
      <div class="backfill-track" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={label}>
        <div class="backfill-fill" style={{ width: `${pct}%` }} />
      </div>
      <span class="muted small">{label}</span>
    </div>
  );
}

function AddSource({ onAdded }: { onAdded: () => void }) {
  const [pattern, setPattern] = useState("");
  const [format, setFormat] = useState("auto");
  const [preview, setPreview] = useState<LogPreview | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const run = (p: Promise<unknown>) => {
    setBusy(true);
    setError(null);
    p.catch((e: ApiError) => setError(e)).finally(() => setBusy(false));
  };
  return (
    <div class="panel">
      <h3>Watch a log</h3>
      <form
        class="add-source"
        onSubmit={(e) => {
          e.preventDefault();
          run(api.previewLog(pattern).then(setPreview));
        }}
      >
        <input
          id="log-pattern"
          class="grow mono"
          placeholder="~/crawler/logs/*.log, /var/log/nginx/access.log, ~/.claude/projects"
          value={pattern}
          onInput={(e) => {
            setPattern(e.currentTarget.value);
            setPreview(null);
          }}
        />
        <select value={format} onChange={(e) => setFormat(e.currentTarget.value)} aria-label="Format">
          {FORMATS.map((f) => (
            <option value={f}>{f}</option>
          ))}
        </select>
        <button class="btn" type="submit" disabled={!pattern.trim() || busy} id="log-preview">
          Preview
        </button>
        <button
          class="btn btn-primary"
          type="button"
          disabled={!pattern.trim() || busy}
          id="log-add"
          onClick={() =>
            run(
              api.addLogSource(pattern, format).then(() => {
                setPattern("");
                setPreview(null);
                onAdded();
              }),
            )
          }
        >
          Add source
        </button>
      </form>
      <ErrorBanner error={error} />
      {preview && (
        <div class="preview" id="log-preview-result">
          <p>
            <strong>{preview.files_total}</strong> file{preview.files_total === 1 ? "" : "s"} match
            {preview.format && (
              <>
                {" "}
                · detected format <strong class="mono">{preview.format}</strong>
              </>
            )}
            {preview.format && (
              <>
                {" "}
                · <strong>{preview.events_in_head}</strong> failed request{preview.events_in_head === 1 ? "" : "s"} in the first 64 KiB
              </>
            )}
          </p>
          {preview.note && <p class="muted">{preview.note}</p>}
          {preview.files.length > 0 && (
            <ul class="mono small file-list">
              {preview.files.slice(0, 5).map((f) => (
                <li>{f}</li>
              ))}
              {preview.files_total > 5 && <li class="muted">… and {preview.files_total - 5} more</li>}
            </ul>
          )}
          {preview.sample.length > 0 && (
            <ul class="small event-list">
              {preview.sample.map((e) => (
                <li>
                  <span class="mono">{e.status != null ? String(e.status) : "—"}</span> {outcomeLabel(e.outcome)}
                  {(e.host ?? e.provider) && ` · ${e.host ?? e.provider}`}{" "}
                  <span class="muted">{e.message ?? ""}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
