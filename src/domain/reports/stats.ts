/**
 * The organiser's live numbers for an event (docs/api.md, Stats). Capacity, held and sold come from each
 * tier's object (the only place they are decided); everything else from D1.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { checkins, orders, reservations, type StoredQueue, tickets } from "../../db/schema";
import { tierObject, unwrap } from "../../objects/tier-client";
import { eventTiers, findEvent } from "../catalog/events";
import { queueStats } from "../drops/queue";

/** Orders that were paid (their tickets issued), whatever was refunded since. */
const WAS_PAID = sql`${orders.paidAt} IS NOT NULL`;

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

/** Passes that made at least one reservation (a claim whose reservation exists). */
async function passesUsed(db: Db, eventId: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`
    SELECT COUNT(DISTINCT p.entry_id) AS n FROM pass_claims p JOIN reservations r ON r.id = p.reservation_id
    WHERE p.event_id = ${eventId}`);
  return row?.n ?? 0;
}

async function queueFigures(env: Env, db: Db, eventId: string, queue: StoredQueue | null) {
  return queue ? queueStats(env, eventId, queue, await passesUsed(db, eventId)) : null;
}

export async function eventStats(env: Env, db: Db, eventId: string) {
  const event = await findEvent(db, eventId);
  const now = Date.now();
  const tierRows = await eventTiers(db, eventId);
  const [queue, counters, [paidOrders, voided, checkedIn, reservationCounts, checkinCounts]] = await Promise.all([
    queueFigures(env, db, eventId, event.queue),
    Promise.all(tierRows.map(async (t) => unwrap(await tierObject(env, t.id).counters(t.id)))),
    db.batch([
      db
        .select({ id: orders.id, items: orders.items })
        .from(orders)
        .where(and(eq(orders.eventId, eventId), WAS_PAID)),
      db
        .select({ tierId: tickets.tierId, orderId: tickets.orderId, n: sql<number>`count(*)` })
        .from(tickets)
        .where(and(eq(tickets.eventId, eventId), eq(tickets.status, "void")))
        .groupBy(tickets.tierId, tickets.orderId),
      db
        .select({ tierId: tickets.tierId, n: sql<number>`count(*)` })
        .from(tickets)
        .where(
          and(
            eq(tickets.eventId, eventId),
            sql`${tickets.firstCheckedInAt} IS NOT NULL`,
            sql`${tickets.status} != 'void'`,
          ),
        )
        .groupBy(tickets.tierId),
      db
        .select({
          // A hold past its expiry is expired even before its tier's alarm has recorded it.
          status: sql<string>`CASE WHEN ${reservations.status} = 'active' AND ${reservations.expiresAt} <= ${now}
            THEN 'expired' ELSE ${reservations.status} END`,
          n: sql<number>`count(*)`,
          heldMs: sql<number>`sum(min(${reservations.updatedAt}, ${reservations.expiresAt}) - ${reservations.createdAt})`,
        })
        .from(reservations)
        .where(eq(reservations.eventId, eventId))
        .groupBy(sql`1`),
      db
        .select({ result: checkins.result, gate: checkins.gate, n: sql<number>`count(*)` })
        .from(checkins)
        // Duplicates are second entries; an exit refused because the holder was not inside is not one.
        .where(
          and(
            eq(checkins.eventId, eventId),
            sql`(${checkins.result} = 'admitted' OR (${checkins.result} = 'duplicate' AND ${checkins.direction} = 'in'))`,
          ),
        )
        .groupBy(checkins.result, checkins.gate),
    ]),
  ]);

  const unitPrice = new Map<string, number>(); // `${orderId} ${tierId}` → price
  const gross = new Map<string, number>();
  for (const order of paidOrders) {
    for (const item of order.items) {
      unitPrice.set(`${order.id} ${item.tierId}`, item.unitPrice);
      gross.set(item.tierId, (gross.get(item.tierId) ?? 0) + item.quantity * item.unitPrice);
    }
  }
  const refunded = new Map<string, number>();
  for (const v of voided) {
    const price = unitPrice.get(`${v.orderId} ${v.tierId}`) ?? 0;
    refunded.set(v.tierId, (refunded.get(v.tierId) ?? 0) + v.n * price);
  }
  const inside = new Map(checkedIn.map((c) => [c.tierId, c.n]));

  const count = (status: string) => reservationCounts.find((r) => r.status === status)?.n ?? 0;
  const created = reservationCounts.reduce((n, r) => n + r.n, 0);
  const ended = reservationCounts.filter((r) => ["completed", "expired", "released"].includes(r.status));
  const endedCount = ended.reduce((n, r) => n + r.n, 0);
  const endedMs = ended.reduce((n, r) => n + r.heldMs, 0);

  const byGate: Record<string, number> = {};
  for (const c of checkinCounts) {
    if (c.result === "admitted") byGate[c.gate ?? "unspecified"] = (byGate[c.gate ?? "unspecified"] ?? 0) + c.n;
  }
  const totalCapacity = counters.reduce((n, c) => n + c.capacity, 0);
  const totalSold = counters.reduce((n, c) => n + c.sold, 0);

  return {
    tiers: tierRows.map((t, i) => {
      const c = counters[i] as (typeof counters)[number];
      return {
        tierId: t.id,
        name: t.name,
        capacity: c.capacity,
        sold: c.sold,
        held: c.held,
        available: c.capacity - c.held - c.sold,
        checkedIn: inside.get(t.id) ?? 0,
        grossRevenue: gross.get(t.id) ?? 0,
        refundedAmount: refunded.get(t.id) ?? 0,
      };
    }),
    reservations: {
      created,
      completed: count("completed"),
      expired: count("expired"),
      released: count("released"),
      failedSoldOut: counters.reduce((n, c) => n + c.refusals, 0),
      averageHoldSeconds: endedCount === 0 ? 0 : Math.round(endedMs / endedCount / 100) / 10,
      expirationRate: ratio(count("expired"), created),
      conversionRate: ratio(count("completed"), created),
    },
    utilization: ratio(totalSold, totalCapacity),
    checkins: {
      admitted: checkinCounts.filter((c) => c.result === "admitted").reduce((n, c) => n + c.n, 0),
      duplicates: checkinCounts.filter((c) => c.result === "duplicate").reduce((n, c) => n + c.n, 0),
      byGate,
    },
    queue,
  };
}
