// Where the dashboard is: a screen, or one account's detail.

export type Route = { view: "accounts" } | { view: "account"; id: number } | { view: "events" } | { view: "logs" } | { view: "settings" };

/** The route a URL hash asks for: `#account=<id>` is that account (a window opened from a
 * notification), anything else the accounts list. */
export function routeFromHash(hash: string): Route {
  const m = /^#account=(\d+)$/.exec(hash);
  return m ? { view: "account", id: Number(m[1]) } : { view: "accounts" };
}
