/**
 * The inventory invariants of docs/api.md, checked against the tier objects and D1 (GET …/verify). Each
 * tier's object sends its outbox first, so D1 is compared with counters it has caught up with.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { checkins, orders, tickets } from "../../db/schema";
import { tierObject, unwrap } from "../../objects/tier-client";
import { eventTiers, findEvent } from "../catalog/events";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const check = (name: string, ok: boolean, detail: string): Check => ({ name, ok, detail });

/**
 * A sale or refund that lands between reading the objects and reading D1 can fail a check for a
 * moment: a failing run is run once more, and its result is the answer.
 */
export async function verifyEvent(env: Env, db: Db, eventId: string) {
  await findEvent(db, eventId);
  const first = await runChecks(env, db, eventId);
  if (first.ok) return first;
  await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
  return runChecks(env, db, eventId);
}

const RECHECK_MS = 250;

async function runChecks(env: Env, db: Db, eventId: string) {
  const tierRows = await eventTiers(db, eventId);
  const counters = await Promise.all(tierRows.map(async (t) => unwrap(await tierObject(env, t.id).selfCheck(t.id))));
  const [liveTickets, duplicateCodes, paidOrders, ticketsPerOrder, movements] = await db.batch([
    db
      .select({ tierId: tickets.tierId, n: sql<number>`count(*)` })
      .from(tickets)
      .where(and(eq(tickets.eventId, eventId), inArray(tickets.status, ["valid", "checked_in"])))
      .groupBy(tickets.tierId),
    db
      .select({ code: tickets.code, n: sql<number>`count(*)` })
      .from(tickets)
      .where(eq(tickets.eventId, eventId))
      .groupBy(tickets.code)
      .having(sql`count(*) > 1`),
    db
      .select({ id: orders.id, status: orders.status, items: orders.items })
      .from(orders)
      .where(and(eq(orders.eventId, eventId), sql`${orders.paidAt} IS NOT NULL`)),
    db
      .select({
        orderId: tickets.orderId,
        n: sql<number>`count(*)`,
        live: sql<number>`sum(${tickets.status} != 'void')`,
      })
      .from(tickets)
      .where(eq(tickets.eventId, eventId))
      .groupBy(tickets.orderId),
    // The movements that stand (flagged ones are conflicts already shown to the organiser).
    db
      .select({ ticketId: checkins.ticketId, result: checkins.result })
      .from(checkins)
      .where(
        and(
          eq(checkins.eventId, eventId),
          inArray(checkins.result, ["admitted", "exited"]),
          eq(checkins.flagged, false),
        ),
      )
      .orderBy(checkins.ticketId, checkins.scannedAt, checkins.recordedAt, checkins.position),
  ]);

  const checks: Check[] = [];
  const live = new Map(liveTickets.map((t) => [t.tierId, t.n]));
  tierRows.forEach((tier, i) => {
    const c = counters[i] as (typeof counters)[number];
    const name = (what: string) => `tier '${tier.name}': ${what}`;
    const available = c.capacity - c.held - c.sold;
    checks.push(
      check(name("available >= 0"), available >= 0, `available ${available}`),
      check(name("held <= capacity"), c.held <= c.capacity, `held ${c.held}, capacity ${c.capacity}`),
      check(name("sold <= capacity"), c.sold <= c.capacity, `sold ${c.sold}, capacity ${c.capacity}`),
      check(name("sold + held <= capacity"), c.sold + c.held <= c.capacity, `${c.sold} + ${c.held} of ${c.capacity}`),
      check(
        name("active holds sum to the held count"),
        c.heldByHolds === c.held,
        `holds ${c.heldByHolds}, held counter ${c.held}`,
      ),
      check(
        name("valid tickets in the database equal the sold count"),
        (live.get(tier.id) ?? 0) === c.sold,
        `${live.get(tier.id) ?? 0} valid tickets in D1, sold ${c.sold}` +
          (c.outboxPending > 0 ? ` (${c.outboxPending} changes not yet in D1)` : ""),
      ),
    );
  });

  checks.push(
    check(
      "no duplicate ticket codes",
      duplicateCodes.length === 0,
      duplicateCodes.length === 0 ? "every code is unique" : `${duplicateCodes.length} codes used more than once`,
    ),
  );

  const perOrder = new Map(ticketsPerOrder.map((t) => [t.orderId, t]));
  const wrong = paidOrders.filter((o) => {
    const issued = o.items.reduce((n, item) => n + item.quantity, 0);
    const found = perOrder.get(o.id);
    if ((found?.n ?? 0) !== issued) return true;
    if (o.status === "paid") return found?.live !== issued;
    if (o.status === "refunded") return found?.live !== 0;
    return false;
  });
  checks.push(
    check(
      "every paid order has exactly its tickets",
      wrong.length === 0,
      wrong.length === 0
        ? `${paidOrders.length} paid orders checked`
        : `orders with the wrong tickets: ${wrong
            .slice(0, 10)
            .map((o) => o.id)
            .join(", ")}`,
    ),
  );

  const twice = new Set<string>();
  for (let i = 1; i < movements.length; i++) {
    const [prev, cur] = [movements[i - 1], movements[i]];
    if (prev?.ticketId === cur?.ticketId && prev?.result === "admitted" && cur?.result === "admitted") {
      twice.add(cur?.ticketId as string);
    }
  }
  checks.push(
    check(
      "no ticket admitted twice without an exit between",
      twice.size === 0,
      twice.size === 0
        ? "every admission follows an exit or is the first"
        : `tickets: ${[...twice].slice(0, 10).join(", ")}`,
    ),
  );
  return { ok: checks.every((c) => c.ok), checks };
}
