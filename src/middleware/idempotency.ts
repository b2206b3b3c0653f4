/**
 * `Idempotency-Key` on POSTs that create something (docs/api.md). The first request with a key claims
 * it with one atomic upsert; a retry with the same body gets the stored answer back with
 * `Idempotent-Replayed: true`, one with another body `422 IDEMPOTENCY_KEY_REUSED`, and one that
 * arrives while the first is still running `409 IDEMPOTENCY_KEY_IN_USE`. Keys live 24 hours.
 *
 * Two properties make a retry after a failure safe:
 * - The handler gets a seed derived from the key (`idempotencySeed`), so what it creates has the
 *   same ids and tokens on every attempt, and a retry converges on what the first attempt made.
 * - Server faults (5xx) are not stored, and a claim whose request died is taken over after
 *   `LOCK_MS`; if storing the answer itself fails, the client still gets the real answer.
 *
 * Stored answers are encrypted under a key derived from APP_SECRET and the request's scope, so the
 * bearer tokens they carry cannot be read from the database (tokens are otherwise kept as hashes).
 */
import { and, eq, lt, or, sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Db } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { ApiError, invalidInput } from "../lib/errors";
import { sha256Hex } from "../lib/ids";
import { hmac, seal, unseal } from "../lib/secret-box";
import { bearerToken } from "./auth";

declare module "hono" {
  interface ContextVariableMap {
    /** Keyed bytes unique to (credential, route, Idempotency-Key); null without a key. */
    idempotencySeed: Uint8Array | null;
  }
}

export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** A claim older than this whose request never finished (a crashed isolate) may be taken over. */
const LOCK_MS = 60_000;
const KEY_FORMAT = /^[\x20-\x7e]{1,255}$/;

/**
 * The credential a key belongs to. Calls without a credential are scoped by their `sessionId`
 * (docs/api.md); without either, the key alone is the scope, so such clients should use random keys.
 */
function scopeOf(token: string | null, body: string): string {
  if (token !== null) return `token:${token}`;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && "sessionId" in parsed && typeof parsed.sessionId === "string") {
      return `session:${parsed.sessionId}`;
    }
  } catch {
    // The handler will answer INVALID_JSON; the key is then scoped like any anonymous call.
  }
  return "anonymous";
}

async function claim(db: Db, scopeKey: string, requestHash: string, now: number): Promise<boolean> {
  const claimed = await db
    .insert(idempotencyKeys)
    .values({ scopeKey, requestHash, state: "running", lockedUntil: now + LOCK_MS, createdAt: now })
    .onConflictDoUpdate({
      target: idempotencyKeys.scopeKey,
      set: {
        requestHash: sql`excluded.request_hash`,
        state: "running",
        lockedUntil: sql`excluded.locked_until`,
        responseStatus: null,
        responseBody: null,
        responseContentType: null,
        createdAt: sql`excluded.created_at`,
      },
      setWhere: or(
        lt(idempotencyKeys.createdAt, now - KEY_LIFETIME_MS),
        and(
          eq(idempotencyKeys.state, "running"),
          lt(idempotencyKeys.lockedUntil, now),
          eq(idempotencyKeys.requestHash, sql`excluded.request_hash`),
        ),
      ),
    })
    .returning({ scopeKey: idempotencyKeys.scopeKey });
  return claimed.length === 1;
}

/** The stored answer to replay, or null when the key was freed meanwhile and may be claimed again. */
async function replay(c: Context<{ Bindings: Env }>, scopeKey: string, scope: string, requestHash: string) {
  const existing = await c.get("db").select().from(idempotencyKeys).where(eq(idempotencyKeys.scopeKey, scopeKey)).get();
  if (!existing) return null;
  if (existing.requestHash !== requestHash) {
    throw new ApiError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request body");
  }
  if (existing.state === "running" || existing.responseStatus === null) {
    throw new ApiError("IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed");
  }
  const body = existing.responseBody === null ? "" : await unseal(c.env.APP_SECRET, scope, existing.responseBody);
  c.header("Idempotent-Replayed", "true");
  c.header("Content-Type", existing.responseContentType ?? "application/json");
  return c.body(body, existing.responseStatus as ContentfulStatusCode);
}

export function idempotency(): MiddlewareHandler<{ Bindings: Env }> {
  return async function idempotencyMiddleware(c, next) {
    const key = c.req.header("Idempotency-Key");
    if (key === undefined) {
      c.set("idempotencySeed", null);
      return next();
    }
    if (!KEY_FORMAT.test(key)) {
      throw invalidInput([{ path: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" }]);
    }
    const db = c.get("db");
    const body = await c.req.text();
    const route = `${c.req.method} ${c.req.path}`;
    const scope = `${scopeOf(bearerToken(c), body)}\n${route}\n${key}`;
    const [scopeKey, requestHash, seed] = await Promise.all([
      sha256Hex(scope),
      sha256Hex(`${route}\n${body}`),
      hmac(c.env.APP_SECRET, `idempotency-seed\n${scope}`),
    ]);

    // A key freed between our claim and our look (a concurrent 5xx) is simply claimed again.
    for (let attempt = 0; !(await claim(db, scopeKey, requestHash, Date.now())); attempt++) {
      const replayed = await replay(c, scopeKey, scope, requestHash);
      if (replayed) return replayed;
      if (attempt >= 2) throw new ApiError("IDEMPOTENCY_KEY_IN_USE", "This Idempotency-Key is contended; retry");
    }

    c.set("idempotencySeed", seed);
    await next();
    const where = eq(idempotencyKeys.scopeKey, scopeKey);
    try {
      // Not kept: a fault, and a refusal before anything was done (a rate or hold limit, a missing or bad
      // pass, the bot check, a token for something else), which a retry with the same key may pass.
      if (c.res.status >= 500 || c.res.status === 429 || c.res.status === 403) {
        await db.delete(idempotencyKeys).where(where);
        return;
      }
      await db
        .update(idempotencyKeys)
        .set({
          state: "done",
          responseStatus: c.res.status,
          responseBody: await seal(c.env.APP_SECRET, scope, await c.res.clone().text()),
          responseContentType: c.res.headers.get("Content-Type"),
        })
        .where(where);
    } catch (error) {
      // The request itself succeeded: answer it. The claim lapses after LOCK_MS and a retry re-runs
      // the handler, which converges on the same result through the seed.
      console.error(
        JSON.stringify({
          msg: "could not store the idempotent answer",
          requestId: c.get("requestId"),
          error: String(error),
        }),
      );
    }
  };
}
