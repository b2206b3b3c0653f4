/**
 * Refunds: money back for some or all tickets of a paid order.
 *
 * 1. Claim: the refund's row (`pending`) and one `refund_tickets` row per ticket, in one D1 batch. A
 *    ticket already claimed by another refund makes this one `410 TICKET_VOID`. The refund's id
 *    derives from the order and its ticket set, so the same refund asked twice (even at once) is
 *    one refund: both requests go on with the same claim.
 * 2. Stripe: one refund with an idempotency key derived from the refund (and its attempt), so the two
 *    requests above reach Stripe as one. A refusal marks the refund `failed`, drops its claims and
 *    answers `502 REFUND_FAILED`: nothing else changed.
 * 3. Apply: each tier's object voids its tickets and returns their capacity (once per ticket), then
 *    the lead tier records the refund on the order (once per refund). `charge.refunded` runs the same
 *    step for refunds made in Stripe's dashboard, and again for ours, harmlessly.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog, type OrderRow, orders, type RefundRow, refunds, refundTickets, tickets } from "../db/schema";
import { ApiError, invalidInput, notFound } from "../lib/errors";
import { idFrom } from "../lib/ids";
import { hmac } from "../lib/secret-box";
import { isPermanentStripeError, stripeClient } from "../lib/stripe";
import { toIso } from "../lib/time";
import type { RefundInput } from "../schemas/refunds";
import { auditRow, type RequestContext } from "./audit";
import { tierObject, unwrap } from "./tier-objects";

export function refundView(r: RefundRow) {
  return {
    id: r.id,
    orderId: r.orderId,
    status: r.status,
    amount: r.amount,
    currency: r.currency,
    ticketIds: r.ticketIds,
    reason: r.reason,
    source: r.source,
    stripeRefundId: r.stripeRefundId,
    ...(r.failureReason ? { failureReason: r.failureReason } : {}),
    createdAt: toIso(r.createdAt),
  };
}

/** The unit price of each of the order's tiers, as sold. */
const unitPrices = (order: OrderRow) => new Map(order.items.map((i) => [i.tierId, i.unitPrice]));

async function refundId(env: Env, orderId: string, key: string): Promise<string> {
  return idFrom("rfd", await hmac(env.APP_SECRET, `refund\n${orderId}\n${key}`));
}

/** Claims the tickets for the refund; answers the refund row as it now stands. */
async function claim(db: Db, row: RefundRow): Promise<RefundRow> {
  // Two bound parameters a ticket, within D1's 100 a statement.
  const chunks: string[][] = [];
  for (let i = 0; i < row.ticketIds.length; i += 45) chunks.push(row.ticketIds.slice(i, i + 45));
  await db.batch([
    // A refund that failed before may be tried again: it becomes pending, with a new attempt.
    db
      .insert(refunds)
      .values(row)
      .onConflictDoUpdate({
        target: refunds.id,
        set: { status: "pending", failureReason: null, updatedAt: row.updatedAt },
        where: eq(refunds.status, "failed"),
      }),
    ...chunks.map((ids) =>
      db
        .insert(refundTickets)
        .values(ids.map((ticketId) => ({ ticketId, refundId: row.id })))
        .onConflictDoNothing(),
    ),
  ]);
  const [claims, stored] = await db.batch([
    db.select().from(refundTickets).where(inArray(refundTickets.ticketId, row.ticketIds)),
    db.select().from(refunds).where(eq(refunds.id, row.id)),
  ]);
  const taken = claims.filter((c) => c.refundId !== row.id).map((c) => c.ticketId);
  if (taken.length > 0) {
    // Another refund has some of these tickets: give back the ones this one took, and refuse.
    await db.batch([
      db.delete(refundTickets).where(eq(refundTickets.refundId, row.id)),
      db
        .update(refunds)
        .set({ status: "failed", failureReason: "its tickets are in another refund", updatedAt: Date.now() })
        .where(and(eq(refunds.id, row.id), eq(refunds.status, "pending"))),
    ]);
    throw new ApiError("TICKET_VOID", "Some of the tickets are refunded or being refunded", { ticketIds: taken });
  }
  const current = stored[0];
  if (!current) throw new Error(`refund ${row.id} vanished after its claim`);
  return current;
}

/**
 * Voids the refund's tickets and returns their capacity in each tier, then records it on the order
 * (each step idempotent), and marks the refund succeeded.
 */
export async function applyRefund(
  env: Env,
  db: Db,
  order: OrderRow,
  refund: RefundRow,
  stripeRefundId: string | null,
  ctx: RequestContext,
): Promise<RefundRow> {
  const rows = await db.select().from(tickets).where(inArray(tickets.id, refund.ticketIds));
  const byTier = new Map<string, { id: string; seat: string | null }[]>();
  for (const t of rows) byTier.set(t.tierId, [...(byTier.get(t.tierId) ?? []), { id: t.id, seat: t.seat }]);
  await Promise.all(
    [...byTier].map(async ([tierId, list]) =>
      unwrap(
        await tierObject(env, tierId).refundTickets({
          tierId,
          reservationId: order.reservationId,
          refundId: refund.id,
          tickets: list,
        }),
      ),
    ),
  );
  unwrap(
    await tierObject(env, order.leadTierId).recordRefund({
      tierId: order.leadTierId,
      orderId: order.id,
      refundId: refund.id,
      amount: refund.amount,
      ticketIds: refund.ticketIds,
      stripeRefundId,
      reason: refund.reason,
      source: refund.source,
      ctx,
    }),
  );
  const done = { ...refund, status: "succeeded" as const, stripeRefundId, updatedAt: Date.now() };
  await db
    .update(refunds)
    .set({ status: done.status, stripeRefundId, updatedAt: done.updatedAt })
    .where(eq(refunds.id, refund.id));
  return done;
}

export async function refundOrder(env: Env, db: Db, orderId: string, input: RefundInput, ctx: RequestContext) {
  const order = await db.select().from(orders).where(eq(orders.id, orderId)).get();
  if (!order) throw notFound("order", orderId);
  if (order.status !== "paid" && order.status !== "partially_refunded" && order.status !== "refunded") {
    throw new ApiError("ORDER_NOT_PAID", `The order is ${order.status}: there is no payment to refund`, {
      status: order.status,
    });
  }
  const owned = await db.select().from(tickets).where(eq(tickets.orderId, order.id));
  const chosen = input.ticketIds ?? owned.filter((t) => t.status !== "void").map((t) => t.id);
  const foreign = chosen.filter((id) => !owned.some((t) => t.id === id));
  if (foreign.length > 0) {
    throw invalidInput(
      [{ path: "ticketIds", message: `not tickets of this order: ${foreign.join(", ")}` }],
      "The request body is not valid",
    );
  }
  if (chosen.length === 0) throw new ApiError("TICKET_VOID", "Every ticket of the order is refunded already");
  const ticketIds = [...new Set(chosen)].sort();
  const id = await refundId(env, order.id, ticketIds.join(","));
  const existing = await db.select().from(refunds).where(eq(refunds.id, id)).get();
  if (existing?.status === "succeeded") return { status: 200 as const, body: refundView(existing) };

  const voided = owned.filter((t) => ticketIds.includes(t.id) && t.status === "void").map((t) => t.id);
  if (voided.length > 0) {
    throw new ApiError("TICKET_VOID", "Some of the tickets are refunded already", { ticketIds: voided });
  }
  const prices = unitPrices(order);
  const amount = owned.filter((t) => ticketIds.includes(t.id)).reduce((sum, t) => sum + (prices.get(t.tierId) ?? 0), 0);
  const now = Date.now();
  const refund = await claim(db, {
    id,
    orderId: order.id,
    eventId: order.eventId,
    ticketIds,
    amount,
    currency: order.currency,
    reason: input.reason ?? null,
    status: "pending",
    source: "api",
    stripeRefundId: null,
    failureReason: null,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  });
  if (refund.status === "succeeded") return { status: 200 as const, body: refundView(refund) };

  let stripeRefundId: string | null = null;
  if (amount > 0) {
    if (!order.paymentIntentId) throw new Error(`paid order ${order.id} has no payment intent`);
    try {
      const made = await stripeClient(env).refunds.create(
        {
          payment_intent: order.paymentIntentId,
          amount,
          metadata: { orderId: order.id, refundId: refund.id, ...(refund.reason ? { reason: refund.reason } : {}) },
        },
        { idempotencyKey: `boxoffice-refund-${refund.id}-${refund.attempts}` },
      );
      stripeRefundId = made.id;
    } catch (error) {
      if (!isPermanentStripeError(error)) throw error;
      await fail(db, refund, String((error as Error).message), ctx);
      throw new ApiError("REFUND_FAILED", "The payment provider refused the refund", {
        reason: (error as Error).message,
      });
    }
  }
  return { status: 201 as const, body: refundView(await applyRefund(env, db, order, refund, stripeRefundId, ctx)) };
}

/** Stripe refused: the refund is failed, its tickets free again, and the organiser is told why. */
async function fail(db: Db, refund: RefundRow, reason: string, ctx: RequestContext): Promise<void> {
  const now = Date.now();
  await db.batch([
    db
      .update(refunds)
      .set({ status: "failed", failureReason: reason, attempts: refund.attempts + 1, updatedAt: now })
      .where(eq(refunds.id, refund.id)),
    db.delete(refundTickets).where(eq(refundTickets.refundId, refund.id)),
    db.insert(auditLog).values(
      auditRow(ctx, {
        eventId: refund.eventId,
        at: now,
        action: "refund.failed",
        subject: { type: "order", id: refund.orderId },
        data: { refundId: refund.id, amount: refund.amount, ticketIds: refund.ticketIds, reason },
      }),
    ),
  ]);
}
