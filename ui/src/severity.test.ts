import type { AccountSeverity } from "./bindings/AccountSeverity";
import type { AccountState } from "./bindings/AccountState";
import { SEVERITY_TONE, severityTone, stateChip } from "./severity";

const ALL: AccountSeverity[] = ["ok", "unknown", "error", "warning", "critical", "out_of_credit"];

describe("severityTone", () => {
  it("maps each severity core decides to one colour family, deciding nothing itself", () => {
    expect(ALL.map(severityTone)).toEqual(["ok", "unknown", "crit", "warn", "crit", "ooc"]);
    expect(Object.keys(SEVERITY_TONE).sort()).toEqual([...ALL].sort());
  });
  it("is neutral without a severity or with one this build does not know", () => {
    expect(severityTone(undefined)).toBe("unknown");
    expect(severityTone(null)).toBe("unknown");
    expect(severityTone("constructor" as AccountSeverity)).toBe("unknown");
  });
});

describe("stateChip", () => {
  it("says a working key runs out soon when core says so", () => {
    expect(stateChip("ok", "warning")).toEqual({ kind: "warning", label: "warning" });
    expect(stateChip("ok", "critical")).toEqual({ kind: "critical", label: "critical" });
    expect(stateChip("ok", "out_of_credit")).toEqual({ kind: "out_of_credit", label: "out of credit" });
    expect(stateChip("ok", "ok")).toEqual({ kind: "ok", label: "ok" });
  });
  it("shows the state itself when the key does not work, or without a severity", () => {
    const cases: [AccountState, AccountSeverity | undefined, string][] = [
      ["invalid_key", "critical", "invalid key"],
      ["error", "error", "error"],
      ["error", "warning", "error"],
      ["unknown", "unknown", "not polled"],
      ["out_of_credit", "out_of_credit", "out of credit"],
      ["ok", undefined, "ok"],
      ["invalid_key", undefined, "invalid key"],
    ];
    for (const [state, severity, label] of cases) {
      expect(stateChip(state, severity)).toEqual({ kind: state, label });
    }
  });
});
