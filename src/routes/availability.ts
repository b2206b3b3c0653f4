import { eventAvailability } from "../domain/catalog/availability";
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
  params: { eventId: idOf("evt") },
  responses: { 200: { description: "Each tier's availability", body: Availability } },
});

/**
 * Many clients poll availability in a drop, and the tier objects that answer it are the ones deciding the
 * sales: one snapshot per event per AVAILABILITY_MAX_AGE_MS and isolate, shared as the same JSON text.
 */
const recent = new Recent<string>();

export const availabilityRoutes = new Routes().on(read, async (c) => {
  const eventId = readParam(c, "eventId", read.params.eventId);
  const maxAge = Number(c.env.AVAILABILITY_MAX_AGE_MS) || 0;
  const body = await recent.get(eventId, maxAge, Date.now(), async () =>
    JSON.stringify(await eventAvailability(c.env, c.get("db"), eventId)),
  );
  return c.body(body, 200, { "Content-Type": "application/json" });
});
