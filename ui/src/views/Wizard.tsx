// The add-account wizard: pick a provider (searchable, with what key it needs), then its key,
// options, base URL and budget. The key goes to the keychain and never comes back: afterwards
// only its last 4 characters are shown.
import { useMemo, useState } from "preact/hooks";
import { api, ApiError, optionsFromForm } from "../api";
import type { ProviderInfo } from "../bindings/ProviderInfo";
import type { AccountRow } from "../bindings/AccountRow";
import { formatAmount } from "../format";
import { useLoad } from "../hooks";
import { ErrorBanner, Modal, StateChip, TestConnection } from "../ui";

const CATEGORY: Record<string, string> = {
  llm: "LLM credit",
  spend_only: "LLM spend (budget)",
  scraping: "Scraping",
  search: "Search",
  captcha: "Captcha",
  telecom: "Telecom",
  custom: "Custom",
};

export function filterProviders(all: ProviderInfo[], q: string): ProviderInfo[] {
  const s = q.trim().toLowerCase();
  if (!s) return all;
  return all.filter((p) => [p.id, p.name, p.category, CATEGORY[p.category] ?? "", p.units].some((x) => x.toLowerCase().includes(s)));
}

export function Wizard({ onClose, onAdded }: { onClose: () => void; onAdded: (row: AccountRow) => void }) {
  const { data: providers, error } = useLoad(() => api.providers(), []);
  const [picked, setPicked] = useState<ProviderInfo | null>(null);
  const [added, setAdded] = useState<AccountRow | null>(null);
  return (
    <Modal title={added ? "Account added" : picked ? `Add ${picked.name}` : "Add an account"} onClose={onClose} wide>
      <div id="wizard">
        <ErrorBanner error={error} />
        {added ? (
          <Done row={added} onClose={onClose} />
        ) : picked ? (
          <AccountFormStep
            p={picked}
            onBack={() => setPicked(null)}
            onAdded={(row) => {
              setAdded(row);
              onAdded(row);
            }}
          />
        ) : (
          providers && <ProviderStep providers={providers} onPick={setPicked} />
        )}
      </div>
    </Modal>
  );
}

function ProviderStep({ providers, onPick }: { providers: ProviderInfo[]; onPick: (p: ProviderInfo) => void }) {
  const [q, setQ] = useState("");
  const shown = useMemo(() => filterProviders(providers, q), [providers, q]);
  return (
    <>
      <input
        id="provider-search"
        class="search"
        placeholder="Search providers: openrouter, scraping, captcha…"
        value={q}
        autoFocus
        onInput={(e) => setQ(e.currentTarget.value)}
        onKeyDown={(e) => e.key === "Enter" && shown.length > 0 && onPick(shown[0])}
      />
      <ul class="provider-list" role="listbox">
        {shown.map((p) => (
          <li key={p.id}>
            <button class="provider" data-provider={p.id} onClick={() => onPick(p)}>
              <span class="provider-name">{p.name}</span>
              <span class="tag">{CATEGORY[p.category] ?? p.category}</span>
              <span class="provider-help">{p.key_help}</span>
              <span class="provider-units muted">in {p.units}</span>
            </button>
          </li>
        ))}
        {shown.length === 0 && <li class="muted">No provider matches “{q}”. The Custom provider reads any JSON balance endpoint.</li>}
      </ul>
    </>
  );
}

function AccountFormStep({ p, onBack, onAdded }: { p: ProviderInfo; onBack: () => void; onAdded: (row: AccountRow) => void }) {
  const [label, setLabel] = useState("main");
  const [secret, setSecret] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [budget, setBudget] = useState("");
  const [options, setOptions] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const isCustom = p.category === "custom";
  const needsBudget = p.category === "spend_only";
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const opts = optionsFromForm(options);
    if (opts instanceof ApiError) {
      setError(opts);
      setBusy(false);
      return;
    }
    api
      .addAccount({
        provider: p.id,
        label,
        secret: secret || null,
        base_url: baseUrl.trim() || null,
        budget: budget.trim() ? Number(budget) : null,
        options: opts,
      })
      .then(
        (row) => {
          // The key leaves the webview's memory as soon as it is stored.
          setSecret("");
          onAdded(row);
        },
        (e: ApiError) => setError(e),
      )
      .finally(() => setBusy(false));
  };
  return (
    <form class="wizard-form" onSubmit={submit}>
      <p class="key-help">
        <strong>Key:</strong> {p.key_help}
      </p>
      <label class="field">
        <span>Label</span>
        <input id="acc-label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} required maxLength={64} />
      </label>
      <label class="field">
        <span>API key {isCustom && <span class="muted">(optional)</span>}</span>
        <input id="acc-secret" type="password" autoComplete="off" spellcheck={false} value={secret} onInput={(e) => setSecret(e.currentTarget.value)} required={!isCustom} />
        <small class="muted">Stored in your OS keychain. Cliffwatch shows only its last 4 characters afterwards.</small>
      </label>
      {p.options.map((o) => (
        <label class="field" key={o.key}>
          <span>
            {o.label} {!o.required && <span class="muted">(optional)</span>}
          </span>
          {o.key === "spec" ? (
            <textarea
              id={`acc-opt-${o.key}`}
              class="mono"
              rows={6}
              value={options[o.key] ?? ""}
              onInput={(e) => setOptions({ ...options, [o.key]: e.currentTarget.value })}
              required={o.required}
            />
          ) : (
            <input id={`acc-opt-${o.key}`} value={options[o.key] ?? ""} onInput={(e) => setOptions({ ...options, [o.key]: e.currentTarget.value })} required={o.required} />
          )}
        </label>
      ))}
      <label class="field">
        <span>Base URL {!isCustom && <span class="muted">(optional, default {p.default_base_url})</span>}</span>
        <input id="acc-base-url" class="mono" placeholder={p.default_base_url || "https://…"} value={baseUrl} onInput={(e) => setBaseUrl(e.currentTarget.value)} required={isCustom} />
      </label>
      <label class="field">
        <span>Budget {needsBudget ? <span class="muted">(this provider reports spend only: what you prepaid)</span> : <span class="muted">(optional)</span>}</span>
        <input id="acc-budget" type="number" min={0} step="any" value={budget} onInput={(e) => setBudget(e.currentTarget.value)} />
      </label>
      <ErrorBanner error={error} />
      <div class="actions">
        <button class="btn" type="button" onClick={onBack}>
          ← Providers
        </button>
        <button class="btn btn-primary" type="submit" id="acc-save" disabled={busy}>
          {busy ? "Saving…" : "Save account"}
        </button>
      </div>
    </form>
  );
}

function Done({ row, onClose }: { row: AccountRow; onClose: () => void }) {
  const a = row.account;
  return (
    <div class="done" id="wizard-done">
      <p>
        <strong>{a.label}</strong> at {row.provider_name} is saved <StateChip state={a.state} />
      </p>
      <p class="muted">
        {a.secret_hint ? `Key ending ${a.secret_hint} is in the keychain.` : "No key stored."} Cliffwatch polls it on its schedule; the
        first reading appears here when it lands.
      </p>
      {row.latest && <p>Latest reading: {formatAmount(row.latest.remaining, row.latest.unit)}</p>}
      {a.state_message && <p class="warn-box">{a.state_message}</p>}
      <TestConnection id={a.id} />
      <div class="actions">
        <button class="btn btn-primary" id="wizard-close" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}
