import { Hono } from "hono";
import { addTier, createEvent, getEvent } from "../domain/catalog/events";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { EventInput, TierInput } from "../schemas/events";
import { eventView, tierView } from "./views";

const eventId = idOf("evt");

export const eventRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/events", organiserOnly(), idempotency(), async (c) => {
    const input = await readBody(c, EventInput);
    const { event, tiers } = await createEvent(c.get("db"), input, auditContext(c));
    return c.json(eventView(event, tiers), 201);
  })
  .get("/v1/events/:eventId", async (c) => {
    const { event, tiers } = await getEvent(c.get("db"), readParam(c, "eventId", eventId));
    return c.json(eventView(event, tiers));
  })
  .post("/v1/events/:eventId/tiers", organiserOnly(), idempotency(), async (c) => {
    const id = readParam(c, "eventId", eventId);
    const input = await readBody(c, TierInput);
    return c.json(tierView(await addTier(c.get("db"), id, input, auditContext(c))), 201);
  });
