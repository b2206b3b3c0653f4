import type { Db } from "../db/client";
import { eventAvailabilityJson } from "../domain/catalog/availability";
import { sha256Hex } from "../lib/ids";
import { Recent } from "../lib/recent";
import { readParam } from "../lib/validate";
import { idOf } from "../schemas/common";
import { Availability } from "./bodies";
import { operation, Routes } from "./operation";

const read = operation({
  method: "get",
  path: "/v1/events/:eventId/availability",
  summary: "Live availability per tier (and seat), at most AVAILABILITY_MAX_AGE_MS old",
  auth: "none",
  limit: "polling",
  params: { eventId: idOf("evt") },
  responses: {
    200: { description: "Each tier's availability, with its ETag", body: Availability },
    304: { description: "Unchanged since the ETag sent in If-None-Match" },
  },
});

/**
 * Many clients poll availability in a drop, and the tier objects that answer it are the ones deciding the
 * sales: one snapshot per event per AVAILABILITY_MAX_AGE_MS and isolate, shared as the same JSON text. Its
 * ETag (a hash of the text) lets a poller revalidate: `304` with no body while nothing changed.
 */
const recent = new Recent<{ body: string; etag: string }>();

async function snapshot(env: Env, db: Db, eventId: string) {
  const body = await eventAvailabilityJson(env, db, eventId);
  return { body, etag: `"${(await sha256Hex(body)).slice(0, 32)}"` };
}

/** If-None-Match uses the weak comparison (RFC 9110): `W/"x"` matches `"x"` (a proxy that compresses weakens tags). */
function unchanged(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}

export const availabilityRoutes = new Routes().on(read, async (c) => {
  const eventId = readParam(c, "eventId", read.params.eventId);
  const maxAge = Number(c.env.AVAILABILITY_MAX_AGE_MS) || 0;
  // Other pollers wait for this request's snapshot: Recent keeps it alive if this client goes away.
  const { body, etag } = await recent.get(eventId, maxAge, Date.now(), () => snapshot(c.env, c.get("db"), eventId));
  // no-cache: a browser keeps the answer and revalidates it on every poll, as any client may.
  const headers = { ETag: etag, "Cache-Control": "no-cache" };
  if (unchanged(c.req.header("If-None-Match"), etag)) return c.body(null, 304, headers);
  return c.body(body, 200, { ...headers, "Content-Type": "application/json" });
});
