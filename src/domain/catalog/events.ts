/**
 * Creating and reading events and tiers. Creation is one D1 batch (event, tiers and their audit
 * entries together, or nothing); each tier's object copies its tier from D1 on first use and owns
 * it from then on.
 */
import { asc, eq } from "drizzle-orm";
import { auditRow, type RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import { auditLog, type EventRow, events, type StoredQueue, type TierRow, tiers } from "../../db/schema";
import { invalidInput, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { assertPrice } from "../../lib/stripe-limits";
import { toIso } from "../../lib/time";
import { type EventInput, type EventPatch, LIMITS, type QueueSettings, type TierInput } from "../../schemas/events";
import { forgetEventRules } from "./event-rules";

function tierRow(input: TierInput, eventId: string, position: number, now: number): TierRow {
  const seats = input.seats ?? null;
  return {
    id: newId("tier"),
    eventId,
    position,
    name: input.name,
    price: input.price,
    kind: seats ? "seated" : "general_admission",
    capacity: seats ? seats.length : (input.capacity as number),
    seats,
    maxPerOrder: input.maxPerOrder,
    salesStartAt: input.salesStartAt ?? null,
    salesEndAt: input.salesEndAt ?? null,
    holdSeconds: input.holdSeconds,
    maxExtensions: input.maxExtensions,
    extensionSeconds: input.extensionSeconds,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

function tierCreated(db: Db, tier: TierRow, ctx: RequestContext) {
  return db.insert(auditLog).values(
    auditRow(ctx, {
      id: `aud_${tier.id}_${tier.version}`,
      eventId: tier.eventId,
      at: tier.createdAt,
      action: "tier.created",
      subject: { type: "tier", id: tier.id },
      data: { name: tier.name, kind: tier.kind, capacity: tier.capacity, price: tier.price },
    }),
  );
}

/**
 * The queue as stored. Changing a queue's settings keeps its generation and shards (its entries stay
 * where they are); a queue set where there was none is a new generation, with `shards` shards.
 */
function storedQueue(settings: QueueSettings, previous: StoredQueue | null, now: number, shards: number): StoredQueue {
  return {
    ...settings,
    generation: previous?.generation ?? now,
    shards: previous?.shards ?? shards,
  };
}

export async function createEvent(db: Db, input: EventInput, ctx: RequestContext, queueShards: number) {
  const now = Date.now();
  const event: EventRow = {
    id: newId("evt"),
    name: input.name,
    startsAt: input.startsAt,
    endsAt: input.endsAt ?? null,
    timezone: input.timezone,
    currency: input.currency,
    maxTicketsPerOrder: input.maxTicketsPerOrder,
    maxHeldPerClient: input.maxHeldPerClient,
    queue: input.queue ? storedQueue(input.queue, null, now, queueShards) : null,
    createdAt: now,
  };
  const tierRows = input.tiers.map((t, i) => tierRow(t, event.id, i, now));
  await db.batch([
    db.insert(events).values(event),
    db.insert(auditLog).values(
      auditRow(ctx, {
        eventId: event.id,
        at: now,
        action: "event.created",
        subject: { type: "event", id: event.id },
        data: { name: event.name, startsAt: toIso(event.startsAt), currency: event.currency, tiers: tierRows.length },
      }),
    ),
    ...tierRows.map((t) => db.insert(tiers).values(t)),
    ...tierRows.map((t) => tierCreated(db, t, ctx)),
  ]);
  return { event, tiers: tierRows };
}

/** Changes the event's own fields (not its tiers); audited `event.updated` with what changed. */
export async function updateEvent(
  db: Db,
  eventId: string,
  patch: EventPatch,
  ctx: RequestContext,
  queueShards: number,
): Promise<EventRow> {
  const event = await findEvent(db, eventId);
  const now = Date.now();
  const { queue, ...fields } = patch;
  const opened = event.queue !== null && now >= event.queue.opensAt;
  if (queue && opened && event.queue && queue.opensAt !== event.queue.opensAt) {
    throw invalidInput([{ path: "queue.opensAt", message: "the queue has opened: its opensAt can no longer move" }]);
  }
  const next: EventRow = {
    ...event,
    ...fields,
    ...(queue === undefined
      ? {}
      : { queue: queue === null ? null : storedQueue(queue, event.queue, now, queueShards) }),
  } as EventRow;
  if (next.endsAt !== null && next.endsAt <= next.startsAt) {
    throw invalidInput([
      { path: patch.endsAt === undefined ? "startsAt" : "endsAt", message: "the event must end after it starts" },
    ]);
  }
  const changed = {
    ...fields,
    ...(patch.startsAt === undefined ? {} : { startsAt: toIso(next.startsAt) }),
    ...(patch.endsAt === undefined ? {} : { endsAt: next.endsAt === null ? null : toIso(next.endsAt) }),
    ...(queue === undefined ? {} : { queue: next.queue && { ...next.queue, opensAt: toIso(next.queue.opensAt) } }),
  };
  // Only this version of the row is written: a PATCH racing another loses nothing it did not send.
  await db.batch([
    db
      .update(events)
      .set({ ...fields, ...(queue === undefined ? {} : { queue: next.queue }) })
      .where(eq(events.id, eventId)),
    db.insert(auditLog).values(
      auditRow(ctx, {
        eventId,
        at: now,
        action: "event.updated",
        subject: { type: "event", id: eventId },
        data: changed,
      }),
    ),
  ]);
  forgetEventRules(eventId);
  return next;
}

export async function findEvent(db: Db, eventId: string): Promise<EventRow> {
  const event = await db.select().from(events).where(eq(events.id, eventId)).get();
  if (!event) throw notFound("event", eventId);
  return event;
}

export function eventTiers(db: Db, eventId: string) {
  return db.select().from(tiers).where(eq(tiers.eventId, eventId)).orderBy(asc(tiers.position), asc(tiers.id));
}

export async function getEvent(db: Db, eventId: string) {
  const [event, rows] = await Promise.all([findEvent(db, eventId), eventTiers(db, eventId)]);
  return { event, tiers: rows };
}

export async function addTier(db: Db, eventId: string, input: TierInput, ctx: RequestContext) {
  const [event, existing] = await Promise.all([findEvent(db, eventId), eventTiers(db, eventId)]);
  if (existing.length >= LIMITS.maxTiersPerEvent) {
    throw invalidInput([{ path: "", message: `an event has at most ${LIMITS.maxTiersPerEvent} tiers` }]);
  }
  assertPrice(event.currency, input.price);
  const tier = tierRow(input, eventId, existing.length, Date.now());
  await db.batch([db.insert(tiers).values(tier), tierCreated(db, tier, ctx)]);
  return tier;
}
