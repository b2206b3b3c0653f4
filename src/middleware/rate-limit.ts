/**
 * Per-client request rates on the buyer and scanner routes (API.md, "Drops"), with the Workers Rate
 * Limiting binding (limits in wrangler.toml's `[[ratelimits]]`; Miniflare runs it locally). Checked
 * before the body is read or anything is looked up: a refused request costs no database read and no
 * tier object. A client is its `CF-Connecting-IP`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../lib/errors";
import { secretsEqual } from "../lib/ids";
import { bearerToken } from "./auth";

/** `polling`: the buyer's reads that pages poll (availability, a queue entry), an allowance of their own. */
export type RateLimitKind = "buyer" | "polling" | "scanner";

/** The period of both limiters in wrangler.toml, in seconds: the longest a refused client waits. */
const PERIOD_SECONDS = 10;

/**
 * The client: the address Cloudflare's edge sets (it replaces any value a client sends); an IPv6
 * address counts as its /64, the block one host or home gets (rotating within it makes no new client).
 * Without the header (a local tool talking straight to workerd) every such request is one client, `local`.
 */
export function clientOf(c: Context): string {
  return clientKey(c.req.header("CF-Connecting-IP"));
}

export function clientKey(ip: string | undefined): string {
  if (!ip) return "local";
  return ip.includes(":") ? ipv6Prefix64(ip) : ip;
}

/** The first four groups of an IPv6 address (`::` expanded), as `a:b:c:d::/64`. */
function ipv6Prefix64(ip: string): string {
  const [head = "", tail] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The organiser is never limited (API.md): a route open to the organiser too skips the limit for them. */
async function isOrganiser(c: Context<{ Bindings: Env }>): Promise<boolean> {
  const token = bearerToken(c);
  // Buyers' and scanners' tokens say what they are (`rsvtok_`, `ordtok_`, `scntok_`, `qentok_`).
  if (token === null || /^[a-z]+tok_/.test(token)) return false;
  return secretsEqual(token, c.env.ADMIN_TOKEN);
}

export function rateLimit(kind: RateLimitKind): MiddlewareHandler<{ Bindings: Env }> {
  return async function rateLimitMiddleware(c, next) {
    if (await isOrganiser(c)) return next();
    const limiter = {
      buyer: c.env.BUYER_RATE_LIMIT,
      polling: c.env.POLL_RATE_LIMIT,
      scanner: c.env.SCANNER_RATE_LIMIT,
    }[kind];
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
