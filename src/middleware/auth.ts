import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../lib/errors";
import { secretsEqual } from "../lib/ids";

export function bearerToken(c: Context): string | null {
  const header = c.req.header("Authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

export const unauthorized = (detail = "A valid bearer token is required") => new ApiError("UNAUTHORIZED", detail);

export function isOrganiser(c: Context<{ Bindings: Env }>, token: string | null): Promise<boolean> {
  return token === null ? Promise.resolve(false) : secretsEqual(token, c.env.ADMIN_TOKEN);
}

/** Organiser routes: `Authorization: Bearer <ADMIN_TOKEN>`. */
export function organiserOnly(): MiddlewareHandler<{ Bindings: Env }> {
  return async function organiserOnlyMiddleware(c, next) {
    const token = bearerToken(c);
    if (token === null) throw unauthorized();
    if (!(await isOrganiser(c, token))) throw unauthorized("The token is not an organiser token");
    c.set("actor", { type: "organiser" });
    await next();
  };
}
