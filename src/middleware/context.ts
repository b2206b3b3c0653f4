import type { MiddlewareHandler } from "hono";
import type { Actor, RequestContext } from "../db/audit";
import { createDb, type Db } from "../db/client";

declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
    db: Db;
    /** The authenticated caller, when a route required one. */
    actor: Actor;
  }
}

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * Puts the request id (echoed from `X-Request-Id` when the client sent a sane one) and the D1
 * handle on the context, once, and stamps the id on every response.
 */
export function requestContext(): MiddlewareHandler<{ Bindings: Env }> {
  return async function requestContextMiddleware(c, next) {
    const sent = c.req.header("X-Request-Id");
    const requestId = sent && REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("db", createDb(c.env.DB));
    c.header("X-Request-Id", requestId);
    await next();
  };
}

/** Who is asking and from where, for the audit log. */
export function auditContext(c: {
  get(key: "requestId"): string;
  get(key: "actor"): Actor | undefined;
  req: { header(name: string): string | undefined };
}): RequestContext {
  return {
    actor: c.get("actor") ?? { type: "buyer" },
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent") ?? null,
    requestId: c.get("requestId"),
  };
}
