import table from "./bindings/amounts.json";
import { formatAgo, formatAmount, formatBand, formatHours, formatRate, hhmmToMinute, minuteToHHMM } from "./format";

describe("formatAmount", () => {
  it("matches core's format_amount on the table core writes (bindings/amounts.json)", () => {
    expect(table.cases.length).toBeGreaterThan(10);
    for (const c of table.cases) {
      expect(formatAmount(c.value, c.unit), `${c.value} ${c.unit}`).toBe(c.text);
    }
  });
  it("writes every currency of core's symbol table with its symbol first", () => {
    for (const [code, symbol] of Object.entries(table.symbols)) {
      expect(formatAmount(1234.5, code)).toBe(`${symbol}1,234.50`);
      expect(formatAmount(-2, code.toUpperCase())).toBe(`-${symbol}2.00`);
    }
  });
  it("writes money with its symbol and counts with their unit", () => {
    expect(formatAmount(12.345, "usd")).toBe("$12.35");
    expect(formatAmount(4820, "credits")).toBe("4,820 credits");
    expect(formatAmount(-3.5, "cny")).toBe("-¥3.50"); // was "¥-3.50": the sign now leads, as in core
    expect(formatAmount(7, "chf")).toBe("7.00 CHF");
    expect(formatAmount(null, "usd")).toBe("—");
  });
  it("is a dash when unknown, and never signs what rounds to zero", () => {
    expect(formatAmount(undefined, "usd")).toBe("—");
    expect(formatAmount(Number.NaN, "credits")).toBe("—");
    expect(formatAmount(Number.POSITIVE_INFINITY, "usd")).toBe("—");
    expect(formatAmount(-0.004, "usd")).toBe("$0.00");
    expect(formatAmount(-0.004, "chf")).toBe("0.00 CHF");
    expect(formatAmount(-0.04, "credits")).toBe("0 credits");
    expect(formatAmount(-0, "usd")).toBe("$0.00");
  });
  it("rounds the binary value, as core does (1.005 is 1.00499… in a double)", () => {
    expect(formatAmount(1.005, "usd")).toBe("$1.00");
    expect(formatAmount(2.675, "usd")).toBe("$2.68");
  });
  it("treats any 3-letter unit as a currency and anything else as a count", () => {
    expect(formatAmount(1234567.891, "sek")).toBe("1,234,567.89 SEK");
    expect(formatAmount(12.5, " Credits ")).toBe("12.5 credits");
    expect(formatAmount(0.25, "characters")).toBe("0.3 characters");
    expect(formatAmount(-12.34, "tokens")).toBe("-12.3 tokens");
    expect(formatAmount(12.5, "")).toBe("12.5");
    expect(formatAmount(3563.4, null)).toBe("3,563");
    expect(formatAmount(42, "us")).toBe("42 us");
    expect(formatAmount(42, "usd1")).toBe("42 usd1");
  });
  it("groups large values without exponents", () => {
    expect(formatAmount(1e21, "credits")).toBe("1,000,000,000,000,000,000,000 credits");
    expect(formatAmount(123456789012, "usd")).toBe("$123,456,789,012.00");
  });
});

describe("formatRate", () => {
  it("says spend per day; counts drop the unit the remaining column already names", () => {
    expect(formatRate(20.07, "usd")).toBe("$20.07/day");
    expect(formatRate(3563.4, "credits")).toBe("3,563/day");
    expect(formatRate(12.34, "credits")).toBe("12.3/day");
    expect(formatRate(3, "chf")).toBe("3.00 CHF/day");
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
