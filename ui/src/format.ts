// Formatting of amounts and times, the way people read them.

export function formatAmount(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  switch (unit) {
    case "usd":
      return `$${value.toFixed(2)}`;
    case "eur":
      return `€${value.toFixed(2)}`;
    case "cny":
      return `¥${value.toFixed(2)}`;
    default:
      if (unit.length === 3) return `${value.toFixed(2)} ${unit.toUpperCase()}`;
      return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
  }
}

export function formatAgo(iso: string | null | undefined, now: Date): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
