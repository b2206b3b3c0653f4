import { eventStats } from "../domain/reports/stats";
import { verifyEvent } from "../domain/reports/verify";
import { readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";
import { Stats, Verify } from "./bodies";
import { operation, Routes } from "./operation";

const params = { eventId: idOf("evt") };

const stats = operation({
  method: "get",
  path: "/v1/events/:eventId/stats",
  summary: "Live numbers per tier, reservations, utilization, check-ins by gate",
  auth: "organiser",
  params,
  responses: { 200: { description: "The numbers", body: Stats } },
});

const verify = operation({
  method: "get",
  path: "/v1/events/:eventId/verify",
  summary: "The inventory invariants, each checked",
  auth: "organiser",
  params,
  responses: { 200: { description: "Every check, and whether all passed", body: Verify } },
});

/** The organiser's live numbers and the inventory invariants of an event. */
export const organiserReportRoutes = new Routes()
  .on(stats, organiserOnly(), async (c) => {
    return c.json(await eventStats(c.env, c.get("db"), readParam(c, "eventId", stats.params.eventId)));
  })
  .on(verify, organiserOnly(), async (c) => {
    return c.json(await verifyEvent(c.env, c.get("db"), readParam(c, "eventId", verify.params.eventId)));
  });
