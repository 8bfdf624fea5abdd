// Imported first (before uPlot, which builds an Intl.NumberFormat from navigator.language at
// load): under LANG=C — CI, minimal containers — WebKit reports the language "C", which Intl
// rejects with a RangeError and the whole bundle would fail to start.
export function usableLanguage(lang: string | undefined): string {
  try {
    if (lang) {
      new Intl.NumberFormat(lang);
      return lang;
    }
  } catch {
    // fall through
  }
  return "en-US";
}

if (typeof navigator !== "undefined" && usableLanguage(navigator.language) !== navigator.language) {
  Object.defineProperty(navigator, "language", { value: "en-US", configurable: true });
}
