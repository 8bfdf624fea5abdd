import { formatAgo, formatAmount } from "./format";

describe("formatAmount", () => {
  it("writes money with its symbol and counts with their unit", () => {
    expect(formatAmount(12.345, "usd")).toBe("$12.35");
    expect(formatAmount(4820, "credits")).toBe("4,820 credits");
    expect(formatAmount(-3.5, "cny")).toBe("¥-3.50");
    expect(formatAmount(null, "usd")).toBe("—");
  });
});

describe("formatAgo", () => {
  it("reads relative times", () => {
    const now = new Date("2026-11-21T12:00:00Z");
    expect(formatAgo("2026-11-21T11:59:30Z", now)).toBe("30 s ago");
    expect(formatAgo("2026-11-21T10:00:00Z", now)).toBe("2 h ago");
    expect(formatAgo(null, now)).toBe("never");
  });
});
