import { Hono } from "hono";
import { eventAvailability } from "../domain/catalog/availability";
import { readParam } from "../lib/validate";
import { idOf } from "../schemas/common";

export const availabilityRoutes = new Hono<{ Bindings: Env }>().get("/v1/events/:eventId/availability", async (c) => {
  const eventId = readParam(c, "eventId", idOf("evt"));
  return c.json(await eventAvailability(c.env, c.get("db"), eventId));
});
