/**
 * Creating and reading events and tiers. Creation is one D1 batch (event, tiers and their audit
 * entries together, or nothing); each tier's object copies its tier from D1 on first use and owns
 * it from then on.
 */
import { asc, eq } from "drizzle-orm";
import { auditRow, type RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import { auditLog, type EventRow, events, type TierRow, tiers } from "../../db/schema";
import { invalidInput, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { assertPrice } from "../../lib/stripe-limits";
import { toIso } from "../../lib/time";
import { type EventInput, LIMITS, type TierInput } from "../../schemas/events";

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

export async function createEvent(db: Db, input: EventInput, ctx: RequestContext) {
  const now = Date.now();
  const event: EventRow = {
    id: newId("evt"),
    name: input.name,
    startsAt: input.startsAt,
    endsAt: input.endsAt ?? null,
    timezone: input.timezone,
    currency: input.currency,
    maxTicketsPerOrder: input.maxTicketsPerOrder,
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

export async function findEvent(db: Db, eventId: string): Promise<EventRow> {
  const event = await db.select().from(events).where(eq(events.id, eventId)).get();
  if (!event) throw notFound("event", eventId);
  return event;
}

export function eventTiers(db: Db, eventId: string): Promise<TierRow[]> {
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
