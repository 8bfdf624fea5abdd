import { formatAgo, formatAmount, formatBand, formatHours, formatRate, hhmmToMinute, minuteToHHMM } from "./format";

describe("formatAmount", () => {
  it("writes money with its symbol and counts with their unit", () => {
    expect(formatAmount(12.345, "usd")).toBe("$12.35");
    expect(formatAmount(4820, "credits")).toBe("4,820 credits");
    expect(formatAmount(-3.5, "cny")).toBe("¥-3.50");
    expect(formatAmount(7, "chf")).toBe("7.00 CHF");
    expect(formatAmount(null, "usd")).toBe("—");
  });
});

describe("formatRate", () => {
  it("says spend per day; counts drop the unit the remaining column already names", () => {
    expect(formatRate(20.07, "usd")).toBe("$20.07/day");
    expect(formatRate(3563.4, "credits")).toBe("3,563/day");
    expect(formatRate(0, "usd")).toBe("idle");
    expect(formatRate(null, "usd")).toBe("—");
  });
});

describe("formatHours and formatBand", () => {
  it("uses hours up to two days, then days", () => {
    expect(formatHours(0.4)).toBe("<1 h");
    expect(formatHours(14.2)).toBe("14 h");
    expect(formatHours(84)).toBe("3.5 d");
    expect(formatHours(24 * 40)).toBe("> 30 d");
  });
  it("writes a band once with its unit when both ends share it", () => {
    expect(formatBand(9, 20)).toBe("9–20 h");
    expect(formatBand(60, 120)).toBe("2.5–5 d");
    expect(formatBand(30, 60)).toBe("30 h – 2.5 d");
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

describe("quiet-hours times", () => {
  it("round-trips minutes of the day", () => {
    expect(minuteToHHMM(1320)).toBe("22:00");
    expect(hhmmToMinute("07:30")).toBe(450);
    expect(hhmmToMinute("24:00")).toBeNull();
  });
});
