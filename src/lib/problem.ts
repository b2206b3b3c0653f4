import type { Context } from "hono";
import type { ApiError } from "./errors";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

/** The members RFC 9457 defines, and our `code`: an extension member never replaces one of them. */
const STANDARD_MEMBERS = new Set(["type", "title", "status", "detail", "instance", "code"]);

/** RFC 9457 problem details for an API error. */
export function problem(c: Context, error: ApiError): Response {
  const extensions = Object.entries(error.extra).filter(([name]) => !STANDARD_MEMBERS.has(name));
  const body = {
    type: "about:blank",
    title: TITLES[error.status] ?? "Error",
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...Object.fromEntries(extensions),
  };
  return c.body(JSON.stringify(body), error.status, {
    ...error.headers,
    "Content-Type": "application/problem+json",
  });
}

/** A server fault: the cause goes to the log with the request id, the client learns nothing more. */
export function internalProblem(c: Context, cause: unknown, requestId: string): Response {
  console.error(
    JSON.stringify({
      msg: "unhandled error",
      requestId,
      method: c.req.method,
      path: c.req.path,
      error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
    }),
  );
  return c.body(JSON.stringify({ type: "about:blank", title: TITLES[500], status: 500, code: "INTERNAL" }), 500, {
    "Content-Type": "application/problem+json",
  });
}
