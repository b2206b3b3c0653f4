import { addTier, createEvent, eventTiers, getEvent, updateEvent } from "../domain/catalog/events";
import { queueChanged } from "../domain/drops/queue";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { EventInput, EventPatch, TierInput } from "../schemas/events";
import { Event, Tier } from "./bodies";
import { operation, Routes } from "./operation";
import { eventView, tierView } from "./views";

const params = { eventId: idOf("evt") };

const create = operation({
  method: "post",
  path: "/v1/events",
  summary: "Create an event with its tiers",
  auth: "organiser",
  body: EventInput,
  idempotent: true,
  responses: { 201: { description: "The event", body: Event } },
});

const read = operation({
  method: "get",
  path: "/v1/events/:eventId",
  summary: "An event with its tiers",
  auth: "none",
  limit: "buyer",
  params,
  responses: { 200: { description: "The event", body: Event } },
});

const change = operation({
  method: "patch",
  path: "/v1/events/:eventId",
  summary: "Change the event (its queue too: `queue: null` removes it)",
  auth: "organiser",
  params,
  body: EventPatch,
  responses: { 200: { description: "The event", body: Event } },
});

const addOne = operation({
  method: "post",
  path: "/v1/events/:eventId/tiers",
  summary: "Add a tier",
  auth: "organiser",
  params,
  body: TierInput,
  idempotent: true,
  responses: { 201: { description: "The tier", body: Tier } },
});

export const eventRoutes = new Routes()
  .on(create, organiserOnly(), idempotency(), async (c) => {
    const input = await readBody(c, create.body);
    const { event, tiers } = await createEvent(c.get("db"), input, auditContext(c), Number(c.env.QUEUE_SHARDS));
    return c.json(eventView(event, tiers), 201);
  })
  .on(change, organiserOnly(), async (c) => {
    const id = readParam(c, "eventId", change.params.eventId);
    const patch = await readBody(c, change.body);
    const event = await updateEvent(c.get("db"), id, patch, auditContext(c), Number(c.env.QUEUE_SHARDS));
    if (patch.queue !== undefined) await queueChanged(c.env, id, event.queue);
    return c.json(eventView(event, await eventTiers(c.get("db"), id)));
  })
  .on(read, async (c) => {
    const { event, tiers } = await getEvent(c.get("db"), readParam(c, "eventId", read.params.eventId));
    return c.json(eventView(event, tiers));
  })
  .on(addOne, organiserOnly(), idempotency(), async (c) => {
    const id = readParam(c, "eventId", addOne.params.eventId);
    const input = await readBody(c, addOne.body);
    return c.json(tierView(await addTier(c.get("db"), id, input, auditContext(c))), 201);
  });
