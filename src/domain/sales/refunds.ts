/**
 * Refunds: money back for some or all tickets of a paid order.
 *
 * 1. Claim: the refund's row (`pending`) and one `refund_tickets` row per ticket, in one D1 batch. A
 *    ticket already claimed by another refund makes this one `410 TICKET_VOID`. The refund's id
 *    derives from the order and its ticket set, so the same refund asked twice (even at once) is
 *    one refund: both requests go on with the same claim. Only the request whose insert wrote the
 *    row (new, or a failed one tried again) created the refund (`201`); the others answer `200`.
 * 2. Stripe: one refund with an idempotency key derived from the refund (and its attempt), so the two
 *    requests above reach Stripe as one. A refusal marks the refund `failed`, drops its claims and
 *    answers `502 REFUND_FAILED`: nothing else changed.
 * 3. Apply: each tier's object voids its tickets and returns their capacity (once per ticket), then
 *    the lead tier records the refund on the order (once per refund). `charge.refunded` runs the same
 *    step for refunds made in Stripe's dashboard, and again for ours, harmlessly.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import { auditRow, type RequestContext, SYSTEM } from "../../db/audit";
import type { Db } from "../../db/client";
import { inJson } from "../../db/in-json";
import { auditLog, type OrderRow, orders, type RefundRow, refunds, refundTickets, tickets } from "../../db/schema";
import { insertMessageWhere, refundFailedMessage } from "../../db/webhook-messages";
import { announceBestEffort } from "../../db/webhook-queue";
import { ApiError, invalidInput, notFound } from "../../lib/errors";
import { refundIdFor } from "../../lib/secret-box";
import { tierObject, unwrap } from "../../objects/tier-client";
import type { RefundInput } from "../../schemas/refunds";
import { isPermanentStripeError, type Stripe, stripeClient } from "../../stripe/client";

/** The unit price of each of the order's tiers, as sold. */
const unitPrices = (order: OrderRow) => new Map(order.items.map((i) => [i.tierId, i.unitPrice]));

/** A refund about to be claimed; its id derives from the order and `key` (what makes it this refund). */
export async function pendingRefund(
  env: Env,
  order: OrderRow,
  key: string,
  fields: Pick<RefundRow, "ticketIds" | "amount" | "reason" | "source" | "stripeRefundId">,
): Promise<RefundRow> {
  const now = Date.now();
  return {
    id: await refundIdFor(env.APP_SECRET, order.id, key),
    orderId: order.id,
    eventId: order.eventId,
    currency: order.currency,
    ...fields,
    status: "pending",
    failureReason: null,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Claims the tickets for the refund; answers the refund row as it now stands, and whether this call
 * created it (inserted it, or made a failed one pending again): of several identical claims at once,
 * exactly one. A ticket another refund holds makes this one `410 TICKET_VOID`, naming that refund (a
 * pending one finishes when it is asked again, or when the hourly sweep drives it).
 */
export async function claim(db: Db, row: RefundRow): Promise<{ refund: RefundRow; created: boolean }> {
  // Two bound parameters a ticket, within D1's 100 a statement.
  const chunks: string[][] = [];
  for (let i = 0; i < row.ticketIds.length; i += 45) chunks.push(row.ticketIds.slice(i, i + 45));
  const [written] = await db.batch([
    // A refund that failed before may be tried again: it becomes pending, with a new attempt. The row
    // comes back only when this statement wrote it (D1 runs batches one at a time).
    db
      .insert(refunds)
      .values(row)
      .onConflictDoUpdate({
        target: refunds.id,
        set: { status: "pending", failureReason: null, reason: row.reason, updatedAt: row.updatedAt },
        where: eq(refunds.status, "failed"),
      })
      .returning({ id: refunds.id }),
    ...chunks.map((ids) =>
      db
        .insert(refundTickets)
        .values(ids.map((ticketId) => ({ ticketId, refundId: row.id })))
        .onConflictDoNothing(),
    ),
  ]);
  const [claims, stored] = await db.batch([
    db.select().from(refundTickets).where(inJson(refundTickets.ticketId, row.ticketIds)),
    db.select().from(refunds).where(eq(refunds.id, row.id)),
  ]);
  const taken = claims.filter((c) => c.refundId !== row.id);
  if (taken.length > 0) {
    // Another refund has some of these tickets: give back the ones this one took, and refuse.
    await db.batch([
      db.delete(refundTickets).where(eq(refundTickets.refundId, row.id)),
      db
        .update(refunds)
        .set({ status: "failed", failureReason: "its tickets are in another refund", updatedAt: Date.now() })
        .where(and(eq(refunds.id, row.id), eq(refunds.status, "pending"))),
    ]);
    throw new ApiError("TICKET_VOID", "Some of the tickets are refunded or being refunded", {
      ticketIds: taken.map((c) => c.ticketId),
      refundIds: [...new Set(taken.map((c) => c.refundId))],
    });
  }
  const current = stored[0];
  if (!current) throw new Error(`refund ${row.id} vanished after its claim`);
  return { refund: current, created: written.length === 1 };
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
  const rows = await db.select().from(tickets).where(inJson(tickets.id, refund.ticketIds));
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

/**
 * Refunds the chosen tickets (every one not refunded yet without `ticketIds`). `created` is true for
 * the one request that created the refund; the same refund asked again, even at once, is `false`.
 */
export async function refundOrder(
  env: Env,
  db: Db,
  orderId: string,
  input: RefundInput,
  ctx: RequestContext,
): Promise<{ refund: RefundRow; created: boolean }> {
  const order = await db.select().from(orders).where(eq(orders.id, orderId)).get();
  if (!order) throw notFound("order", orderId);
  if (order.status !== "paid" && order.status !== "partially_refunded" && order.status !== "refunded") {
    throw new ApiError("ORDER_NOT_PAID", `The order is ${order.status}: there is no payment to refund`, {
      orderStatus: order.status,
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
  const prices = unitPrices(order);
  const amount = owned.filter((t) => ticketIds.includes(t.id)).reduce((sum, t) => sum + (prices.get(t.tierId) ?? 0), 0);
  const row = await pendingRefund(env, order, ticketIds.join(","), {
    ticketIds,
    amount,
    reason: input.reason ?? null,
    source: "api",
    stripeRefundId: null,
  });
  const existing = await db.select().from(refunds).where(eq(refunds.id, row.id)).get();
  if (existing?.status === "succeeded") return { refund: existing, created: false };

  // Tickets voided by this very refund (asked again while the first request finishes it) are its own.
  const voided = owned.filter((t) => ticketIds.includes(t.id) && t.status === "void").map((t) => t.id);
  if (voided.length > 0 && existing?.status !== "pending") {
    throw new ApiError("TICKET_VOID", "Some of the tickets are refunded already", { ticketIds: voided });
  }
  const { refund, created } = await claim(db, row);
  if (refund.status === "succeeded") return { refund, created };

  return { refund: await driveRefund(env, db, order, refund, ctx), created };
}

/** Stripe's answer for a refund that goes through (card refunds are `succeeded`; some methods `pending`). */
const GOING_THROUGH = new Set(["succeeded", "pending"]);

/**
 * Asks Stripe for a claimed refund (idempotency key from the refund and its attempt, so asking again
 * after a lost answer is the same refund) and applies it. A refusal fails the refund (`502`).
 */
async function driveRefund(
  env: Env,
  db: Db,
  order: OrderRow,
  refund: RefundRow,
  ctx: RequestContext,
): Promise<RefundRow> {
  if (refund.amount === 0) return applyRefund(env, db, order, refund, null, ctx);
  if (!order.paymentIntentId) throw new Error(`paid order ${order.id} has no payment intent`);
  let made: Stripe.Refund;
  try {
    made = await stripeClient(env).refunds.create(
      {
        payment_intent: order.paymentIntentId,
        amount: refund.amount,
        metadata: { orderId: order.id, refundId: refund.id, ...(refund.reason ? { reason: refund.reason } : {}) },
      },
      { idempotencyKey: `boxoffice-refund-${refund.id}-${refund.attempts}` },
    );
  } catch (error) {
    if (!isPermanentStripeError(error)) throw error;
    return refused(env, db, refund, (error as Error).message, ctx);
  }
  if (!GOING_THROUGH.has(made.status ?? "")) {
    const reason = `Stripe answered the refund ${made.status}: ${made.failure_reason ?? "no reason"}`;
    return refused(env, db, refund, reason, ctx);
  }
  return applyRefund(env, db, order, refund, made.id, ctx);
}

async function refused(env: Env, db: Db, refund: RefundRow, reason: string, ctx: RequestContext): Promise<never> {
  await fail(env, db, refund, reason, ctx);
  throw new ApiError("REFUND_FAILED", "The payment provider refused the refund", { reason });
}

/** Claimed refunds whose Stripe call went unanswered (a network fault, a crash) and nobody asked again. */
const STALE_PENDING_MS = 5 * 60 * 1000;

/**
 * Run by the cron: drives every refund left pending for a while to its end, with the same
 * idempotency key (so one Stripe already made is found, not made twice).
 */
export async function resumeStaleRefunds(env: Env, db: Db, now: number): Promise<void> {
  const stale = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.status, "pending"), lt(refunds.updatedAt, now - STALE_PENDING_MS)))
    .limit(50);
  for (const refund of stale) {
    const order = await db.select().from(orders).where(eq(orders.id, refund.orderId)).get();
    if (!order) continue;
    try {
      await driveRefund(env, db, order, refund, SYSTEM);
    } catch (error) {
      if (!(error instanceof ApiError))
        console.error(JSON.stringify({ msg: "pending refund not resumed", refund: refund.id, error: String(error) }));
    }
  }
}

/**
 * Stripe refused: the refund is failed, its tickets free again, and the organiser is told why (the audit
 * log, and a `refund.failed` webhook written in the same batch, only if this attempt's failure took).
 */
async function fail(env: Env, db: Db, refund: RefundRow, reason: string, ctx: RequestContext): Promise<void> {
  const now = Date.now();
  // Only this attempt's own outcome: a slow answer to an older attempt must not undo a newer one.
  const thisAttempt = and(
    eq(refunds.id, refund.id),
    eq(refunds.status, "pending"),
    eq(refunds.attempts, refund.attempts),
  );
  const failedNow = sql`EXISTS (SELECT 1 FROM refunds WHERE id = ${refund.id} AND status = 'failed' AND attempts = ${refund.attempts + 1})`;
  const { id: refundId, orderId, eventId, amount, currency } = refund;
  const message = refundFailedMessage(
    { orderId, eventId, refundId, amount, currency, reason },
    refund.attempts + 1,
    now,
  );
  await db.batch([
    db
      .update(refunds)
      .set({ status: "failed", failureReason: reason, attempts: refund.attempts + 1, updatedAt: now })
      .where(thisAttempt),
    db.delete(refundTickets).where(and(eq(refundTickets.refundId, refund.id), failedNow)),
    insertMessageWhere(db, message, failedNow),
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
  await announceBestEffort(env.WEBHOOK_QUEUE, [message.id]);
}
