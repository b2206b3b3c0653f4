/**
 * One description per route. A route file declares each of its operations once, with `operation()`:
 * method, path, who may call it, the zod schemas its handler validates with, every success answer with
 * its body schema, and the refusals of its own. `Routes.on` registers the handler under that method and
 * path (behind the client's rate limit when it has one); `src/openapi.ts` only assembles the operations into the document (adding the answers every route
 * of a kind gives: a malformed id, a bad body, an idempotency conflict, a missing token, a fault).
 *
 * A small local helper rather than `@hono/zod-openapi` or `hono-openapi`: the handlers already validate
 * through `readBody`/`readQuery`/`readParam` (problem+json with field errors, `INVALID_JSON`, the body
 * limits), which those libraries would replace with their own validation hooks, and zod 4 renders the
 * schemas itself (`z.toJSONSchema`).
 */
import { type Handler, Hono, type MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { ErrorCode } from "../lib/errors";
import { type RateLimitKind, rateLimit } from "../middleware/rate-limit";

export type Auth =
  | "organiser"
  | "reservation"
  | "order or organiser"
  | "scanner"
  | "scanner or organiser"
  | "stripe"
  | "queue entry"
  /** The order's token in the page link's `t` query parameter (the buyer's tickets page). */
  | "order link"
  | "none";

export interface Answer {
  description: string;
  /** The JSON body; none for `204` and `304`. */
  body?: z.ZodType;
  /** A page for people (HTML, CSV) rather than JSON. */
  contentType?: string;
}

export interface Operation {
  method: "get" | "post" | "patch" | "delete";
  /** Hono's form (`:id`); rendered as OpenAPI's `{id}`. */
  path: string;
  summary: string;
  auth: Auth;
  /** The path parameters' schemas, by name (every `:name` of the path). */
  params?: Readonly<Record<string, z.ZodType>>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Creates something: takes `Idempotency-Key`. */
  idempotent?: boolean;
  /**
   * Every success answer, by status; and a page's own 404 page, which it answers for a malformed or unknown
   * id as for a refused link (then no problem+json `400` or `404` is added for its path).
   */
  responses: Readonly<Partial<Record<200 | 201 | 202 | 204 | 304 | 404, Answer>>>;
  /** The refusals of this route's own rules (the ones every route of its kind gives are added). */
  errors?: readonly ErrorCode[];
  /** A page for people, not part of the JSON API (tagged `pages` in the document). */
  page?: boolean;
  /** Limited per client (API.md, "Drops"): the buyer's or the scanner's request rate. */
  limit?: RateLimitKind;
  /** Takes the queue's admission pass (`Boxoffice-Admission`). */
  admission?: boolean;
}

/** Declares an operation, keeping its schemas' types for the handler that validates with them. */
export const operation = <const O extends Operation>(op: O): O => op;

type AppEnv = { Bindings: Env };

/** A router whose every route is an operation: the handlers, and the operations for the document. */
export class Routes {
  readonly app = new Hono<AppEnv>();
  readonly operations: Operation[] = [];

  on(op: Operation, ...handlers: [...MiddlewareHandler<AppEnv>[], Handler<AppEnv>]): this {
    this.operations.push(op);
    if (op.limit) this.app.on(op.method.toUpperCase(), [op.path], rateLimit(op.limit));
    this.app.on(op.method.toUpperCase(), [op.path], ...handlers);
    return this;
  }
}
