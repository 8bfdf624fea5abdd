import { batched } from "./live";
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
