/**
 * Per-client request rates on the buyer and scanner routes (API.md, "Drops"), with the Workers Rate
 * Limiting binding (limits in wrangler.toml's `[[ratelimits]]`; Miniflare runs it locally). Checked
 * before the body is read or anything is looked up: a refused request costs no database read and no
 * tier object. A client is its `CF-Connecting-IP`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../lib/errors";

export type RateLimitKind = "buyer" | "scanner";

/** The period of both limiters in wrangler.toml, in seconds: the longest a refused client waits. */
const PERIOD_SECONDS = 10;

/**
 * The client: the address Cloudflare's edge sets (it replaces any value a client sends). Without the
 * header (a local tool talking straight to workerd) every such request is one client, `local`.
 */
export function clientOf(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? "local";
}

export function rateLimit(kind: RateLimitKind): MiddlewareHandler<{ Bindings: Env }> {
  return async function rateLimitMiddleware(c, next) {
    const limiter = kind === "buyer" ? c.env.BUYER_RATE_LIMIT : c.env.SCANNER_RATE_LIMIT;
    const { success } = await limiter.limit({ key: clientOf(c) });
    if (!success) {
      throw new ApiError(
        "RATE_LIMITED",
        `Too many requests from this client; try again in ${PERIOD_SECONDS} seconds`,
        { reason: "requests" },
        { "Retry-After": String(PERIOD_SECONDS) },
      );
    }
    await next();
  };
}
