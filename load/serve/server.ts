/**
 * Local servers of the Worker (for the benchmark, the load suite and the browser tests): the one
 * `Server` type and its three kinds; start.ts starts one. Each one gets a fresh state directory and
 * explicit bindings (random secrets, the `[vars]` of wrangler.toml), never the developer's `.dev.vars`
 * or `.wrangler/state`, and is shut down with every process it started.
 *
 * - `miniflare-direct`: the bundle that `wrangler deploy` would upload, served by Miniflare's
 *   programmatic API on a socket bound straight to the Worker (`unsafeDirectSockets`). The leanest
 *   local server: workerd only; this Node process takes no part in a request.
 * - `miniflare`: the same, through Miniflare's default entry socket (its `core:entry` worker in
 *   front of the Worker, which `dispatchFetch` and `mf.ready` use), request logging off.
 * - `wrangler-dev`: `wrangler dev`, as `npm start` runs it (wrangler's own build, its proxy worker in
 *   a second workerd process, request logging on).
 */
export const SERVER_KINDS = ["miniflare-direct", "miniflare", "wrangler-dev"] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const SERVER_DESCRIPTIONS: Record<ServerKind, string> = {
  "miniflare-direct":
    "Miniflare API, `wrangler deploy --dry-run` bundle, socket bound directly to the Worker (no entry worker)",
  miniflare: "Miniflare API, `wrangler deploy --dry-run` bundle, Miniflare's default entry socket",
  "wrangler-dev": "`wrangler dev --ip 127.0.0.1` (what `npm start` runs): proxy worker + dev bundle",
};

export interface Server {
  kind: ServerKind;
  description: string;
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Values given to the Worker for wrangler.toml's required secrets (ADMIN_TOKEN among them). */
  secrets: Record<string, string>;
  /** The `[vars]` of wrangler.toml this run overrides (the Stripe simulator's), by name. */
  vars: Record<string, string>;
  startupMs: number;
  /** workerd's DevTools inspector, when asked for (Miniflare servers only). */
  inspectorPort?: number;
  stop(): Promise<void>;
}

/** What the starters return: startServer adds the kind and its description. */
export type StartedServer = Omit<Server, "kind" | "description">;

export interface ServerOptions {
  /** Open workerd's inspector (for `--profile`). */
  inspector?: boolean;
}
