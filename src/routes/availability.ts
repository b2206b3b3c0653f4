import { eventAvailability } from "../domain/catalog/availability";
import { readParam } from "../lib/validate";
import { idOf } from "../schemas/common";
import { Availability } from "./bodies";
import { operation, Routes } from "./operation";

const read = operation({
  method: "get",
  path: "/v1/events/:eventId/availability",
  summary: "Live availability per tier (and seat)",
  auth: "none",
  params: { eventId: idOf("evt") },
  responses: { 200: { description: "Each tier's availability", body: Availability } },
});

export const availabilityRoutes = new Routes().on(read, async (c) => {
  const eventId = readParam(c, "eventId", read.params.eventId);
  return c.json(await eventAvailability(c.env, c.get("db"), eventId));
});
