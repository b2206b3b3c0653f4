import { Hono } from "hono";
import { addTier, createEvent, getEvent } from "../domain/events";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { EventInput, TierInput } from "../schemas/events";

const eventId = idOf("evt");

export const eventRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/events", organiserOnly(), idempotency(), async (c) => {
    const input = await readBody(c, EventInput);
    return c.json(await createEvent(c.get("db"), input, auditContext(c)), 201);
  })
  .get("/v1/events/:eventId", async (c) => {
    return c.json(await getEvent(c.get("db"), readParam(c, "eventId", eventId)));
  })
  .post("/v1/events/:eventId/tiers", organiserOnly(), idempotency(), async (c) => {
    const id = readParam(c, "eventId", eventId);
    const input = await readBody(c, TierInput);
    return c.json(await addTier(c.get("db"), id, input, auditContext(c)), 201);
  });
