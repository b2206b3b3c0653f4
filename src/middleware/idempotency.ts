/**
 * `Idempotency-Key` on POSTs that create something (API.md). The first request with a key claims
 * it with one atomic upsert; a retry with the same body gets the stored answer back with
 * `Idempotent-Replayed: true`, one with another body `422 IDEMPOTENCY_KEY_REUSED`, and one that
 * arrives while the first is still running `409 IDEMPOTENCY_KEY_IN_USE`. Server faults (5xx) are
 * not stored, so the client may retry them. Keys live 24 hours.
 */
import { and, eq, lt, or, sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Db } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { ApiError, invalidInput } from "../lib/errors";
import { sha256Hex } from "../lib/ids";
import { bearerToken } from "./auth";

const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** A claim older than this whose request never finished (a crashed isolate) may be taken over. */
const LOCK_MS = 60_000;
const KEY_FORMAT = /^[\x20-\x7e]{1,255}$/;

/** The credential a key belongs to; anonymous reservation calls are scoped by their `sessionId`. */
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

export function idempotency(): MiddlewareHandler<{ Bindings: Env }> {
  return async function idempotencyMiddleware(c, next) {
    const key = c.req.header("Idempotency-Key");
    if (key === undefined) return next();
    if (!KEY_FORMAT.test(key)) {
      throw invalidInput([{ path: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" }]);
    }
    const db = c.get("db");
    const body = await c.req.text();
    const route = `${c.req.method} ${c.req.path}`;
    const [scopeKey, requestHash] = await Promise.all([
      sha256Hex(`${scopeOf(bearerToken(c), body)}\n${route}\n${key}`),
      sha256Hex(`${route}\n${body}`),
    ]);

    if (!(await claim(db, scopeKey, requestHash, Date.now()))) {
      const existing = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.scopeKey, scopeKey)).get();
      if (existing && existing.requestHash !== requestHash) {
        throw new ApiError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request body");
      }
      if (!existing || existing.state === "running" || existing.responseStatus === null) {
        throw new ApiError("IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed");
      }
      c.header("Idempotent-Replayed", "true");
      c.header("Content-Type", existing.responseContentType ?? "application/json");
      return c.body(existing.responseBody ?? "", existing.responseStatus as ContentfulStatusCode);
    }

    await next();
    const where = eq(idempotencyKeys.scopeKey, scopeKey);
    if (c.res.status >= 500) {
      await db.delete(idempotencyKeys).where(where);
      return;
    }
    await db
      .update(idempotencyKeys)
      .set({
        state: "done",
        responseStatus: c.res.status,
        responseBody: await c.res.clone().text(),
        responseContentType: c.res.headers.get("Content-Type"),
      })
      .where(where);
  };
}
