// Formatting of amounts, rates, runways and times, the way people read them.

import type { AccountState } from "./bindings/AccountState";
import type { Outcome } from "./bindings/Outcome";
import table from "./bindings/amounts.json";

/** Currency codes written with a symbol before the number, from the table core writes
 * (`format::SYMBOLS`), so the two formatters share one list. */
const SYMBOLS: Readonly<Record<string, string>> = table.symbols;

/** A unit is money when it is a 3-letter currency code (`usd`, `chf`); anything else is a count
 * (`credits`, `searches`, `tokens`). Compared lower-case. */
export function isMoney(unit: string | null | undefined): boolean {
  return /^[a-z]{3}$/.test(normalUnit(unit));
}

/** Trimmed, ASCII letters lower-cased (as core's `to_ascii_lowercase`: other letters stay). */
function normalUnit(unit: string | null | undefined): string {
  return (unit ?? "").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The whole part of a non-negative number with "," between thousands, never in exponent form. */
function group(v: number): string {
  return BigInt(Math.trunc(v))
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * The window's twin of core's `format_amount`, held to the same table (bindings/amounts.json):
 * "$1,234.50", "-¥3.50", "12.00 CHF", "4,820 credits", "12.5 credits", "—" when unknown. Money
 * has cents; a count is whole from 100 up (or when whole) and keeps one decimal below. A sign
 * only on what rounds to non-zero: never "-$0.00".
 */
export function formatAmount(value: number | null | undefined, unit: string | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const u = normalUnit(unit);
  const a = Math.abs(value);
  if (isMoney(u)) {
    const cents = Math.round(a * 100);
    const sign = value < 0 && cents > 0 ? "-" : "";
    const digits = `${group(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
    const symbol = Object.prototype.hasOwnProperty.call(SYMBOLS, u) ? SYMBOLS[u] : undefined;
    return symbol !== undefined ? `${sign}${symbol}${digits}` : `${sign}${digits} ${u.toUpperCase()}`;
  }
  const tenths = a >= 100 || Number.isInteger(value) ? Math.round(a) * 10 : Math.round(a * 10);
  const sign = value < 0 && tenths > 0 ? "-" : "";
  const frac = tenths % 10;
  return `${sign}${group(tenths / 10)}${frac !== 0 ? `.${frac}` : ""}${u ? ` ${u}` : ""}`;
}

/** Spend per day: "$3.20/day", "12.00 CHF/day", "1,200/day" (a count drops its unit: the
 * remaining column names it), "idle" at zero, "—" when unknown. */
export function formatRate(perDay: number | null | undefined, unit: string | null | undefined): string {
  if (perDay === null || perDay === undefined || !Number.isFinite(perDay)) return "—";
  if (perDay <= 0) return "idle";
  return `${formatAmount(perDay, isMoney(unit) ? unit : "")}/day`;
}

/** Hours in the unit people think in: "<1 h", "14 h", "3.5 d", "> 30 d". */
export function formatHours(h: number | null | undefined): string {
  if (h === null || h === undefined || !Number.isFinite(h)) return "—";
  if (h <= 0) return "0 h";
  if (h < 1) return "<1 h";
  if (h < 48) return `${Math.round(h)} h`;
  const d = h / 24;
  if (d > 30) return "> 30 d";
  return d < 10 ? `${(Math.round(d * 10) / 10).toString()} d` : `${Math.round(d)} d`;
}

/** A P10–P90 band in one unit: "9–20 h", "2.5–5 d"; one value when both ends agree. */
export function formatBand(p10: number, p90: number): string {
  const a = formatHours(p10);
  const b = formatHours(p90);
  if (a === b) return a;
  const [na, ua] = splitUnit(a);
  const [nb, ub] = splitUnit(b);
  return ua === ub && ua !== "" ? `${na}–${nb} ${ua}` : `${a} – ${b}`;
}

function splitUnit(s: string): [string, string] {
  const i = s.lastIndexOf(" ");
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

export function formatAgo(iso: string | null | undefined, now: Date): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** "21 Nov 14:05" in local time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  const mon = d.toLocaleString("en-US", { month: "short" });
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  return `${d.getDate()} ${mon} ${hh}:${mm}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const STATE_LABEL: Record<AccountState, string> = {
  unknown: "not polled",
  ok: "ok",
  out_of_credit: "out of credit",
  invalid_key: "invalid key",
  error: "error",
};

export function stateLabel(s: AccountState): string {
  return STATE_LABEL[s] ?? s;
}

const OUTCOME_LABEL: Record<Outcome, string> = {
  ok: "ok",
  out_of_credit: "out of credit",
  payment_required: "payment required",
  rate_limited: "rate limited",
  unauthorized: "key rejected",
  forbidden: "forbidden",
  server_error: "server error",
  client_error: "client error",
  bad_response: "bad response",
};

export function outcomeLabel(o: Outcome): string {
  return OUTCOME_LABEL[o] ?? o;
}

/** "22:00" ⇄ minute of the day. */
export function minuteToHHMM(m: number): string {
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

export function hhmmToMinute(s: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : null;
}
