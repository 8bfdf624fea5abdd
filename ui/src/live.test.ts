import { batched, progressShare, withoutStale, withProgress } from "./live";
import { usableLanguage } from "./locale";

describe("batched", () => {
  it("turns a burst of change events into one re-fetch", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const b = batched(fn, 250);
    for (let i = 0; i < 50; i++) b.trigger();
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(fn).toHaveBeenCalledTimes(1);
    b.trigger();
    vi.advanceTimersByTime(250);
    expect(fn).toHaveBeenCalledTimes(2);
    b.trigger();
    b.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
  });
});

describe("usableLanguage", () => {
  it("replaces a POSIX locale name that Intl rejects (LANG=C)", () => {
    expect(usableLanguage("C")).toBe("en-US");
    expect(usableLanguage("de-DE")).toBe("de-DE");
    expect(usableLanguage(undefined)).toBe("en-US");
  });
});

describe("backfill progress", () => {
  const p = (done: number, total: number, files_done = 0, files_total = 2) => ({
    source_id: 7,
    files_done,
    files_total,
    bytes_done: done,
    bytes_total: total,
    path: "/var/log/a.log",
  });
  it("keeps a backfill under way and drops it when every file is read", () => {
    let b = withProgress(new Map(), p(10, 100));
    expect(b.get(7)?.bytes_done).toBe(10);
    b = withProgress(b, p(60, 100, 1));
    expect(progressShare(b.get(7)!)).toBeCloseTo(0.6);
    b = withProgress(b, p(100, 100, 2));
    expect(b.has(7)).toBe(false);
  });
  it("drops a backfill that stopped reporting (a failed scan)", () => {
    const b = withProgress(withProgress(new Map(), p(10, 100)), { ...p(5, 100), source_id: 8 });
    const seen = new Map([
      [7, 1_000],
      [8, 9_000],
    ]);
    const kept = withoutStale(b, seen, 12_000, 10_000);
    expect([...kept.keys()]).toEqual([8]);
  });
  it("never reports more than all or less than nothing", () => {
    expect(progressShare(p(150, 100))).toBe(1);
    expect(progressShare(p(0, 0))).toBe(1);
    expect(progressShare(p(0, 100))).toBe(0);
  });
});

describe("routeFromHash", () => {
  it("opens the account a notification was about, else the list", async () => {
    const { routeFromHash } = await import("./route");
    expect(routeFromHash("#account=12")).toEqual({ view: "account", id: 12 });
    expect(routeFromHash("")).toEqual({ view: "accounts" });
    expect(routeFromHash("#account=12x")).toEqual({ view: "accounts" });
    expect(routeFromHash("#account=")).toEqual({ view: "accounts" });
  });
});

describe("optionsFromForm", () => {
  it("drops empty fields, parses a spec, and names a spec that is not JSON", async () => {
    const { optionsFromForm, ApiError } = await import("./api");
    expect(optionsFromForm({ project_id: " p1 ", account_sid: "  ", spec: '{"url": "/b"}' })).toEqual({
      project_id: "p1",
      spec: { url: "/b" },
    });
    const bad = optionsFromForm({ spec: "{nope" });
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as InstanceType<typeof ApiError>).message).toContain("spec must be valid JSON");
  });
});
