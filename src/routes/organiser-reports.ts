import { Hono } from "hono";
import { eventStats } from "../domain/reports/stats";
import { verifyEvent } from "../domain/reports/verify";
import { readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";

const eventId = idOf("evt");

/** The organiser's live numbers and the inventory invariants of an event. */
export const organiserReportRoutes = new Hono<{ Bindings: Env }>()
  .get("/v1/events/:eventId/stats", organiserOnly(), async (c) => {
    return c.json(await eventStats(c.env, c.get("db"), readParam(c, "eventId", eventId)));
  })
  .get("/v1/events/:eventId/verify", organiserOnly(), async (c) => {
    return c.json(await verifyEvent(c.env, c.get("db"), readParam(c, "eventId", eventId)));
  });
