/**
 * Stripe events about a charge after it was paid: a refund made in Stripe's dashboard (or one of ours,
 * reported back) and a dispute opened by the buyer's bank. Both find the order by its payment intent.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog, type OrderRow, orders, refunds, tickets } from "../db/schema";
import { auditRow, type RequestContext } from "../domain/audit";
import { applyRefund } from "../domain/refunds";
import { tierObject, unwrap } from "../domain/tier-objects";
import { idFrom } from "../lib/ids";
import { hmac } from "../lib/secret-box";
import { type Stripe, stripeClient } from "../lib/stripe";

const idOf = (ref: string | { id: string } | null | undefined) => (typeof ref === "string" ? ref : (ref?.id ?? null));

async function orderOfPayment(db: Db, paymentIntentId: string | null): Promise<OrderRow | null> {
  if (!paymentIntentId) return null;
  return (await db.select().from(orders).where(eq(orders.paymentIntentId, paymentIntentId)).get()) ?? null;
}

/**
 * `charge.refunded`: every succeeded refund of the payment is applied once. Ours carry their refund id
 * in metadata (applying one again changes nothing). One made in the dashboard for everything still
 * refundable voids the remaining tickets; a partial one cannot be matched to tickets, so it is audited
 * (`refund.unmatched`) for the organiser to settle.
 */
export async function chargeRefunded(env: Env, db: Db, charge: Stripe.Charge, ctx: RequestContext): Promise<void> {
  const paymentIntent = idOf(charge.payment_intent);
  const order = await orderOfPayment(db, paymentIntent);
  if (!order || !paymentIntent) return;
  const made = await stripeClient(env).refunds.list({ payment_intent: paymentIntent, limit: 100 });
  for (const refund of made.data) {
    if (refund.status !== "succeeded") continue;
    const current = (await db.select().from(orders).where(eq(orders.id, order.id)).get()) ?? order;
    const ours = refund.metadata?.refundId
      ? await db.select().from(refunds).where(eq(refunds.id, refund.metadata.refundId)).get()
      : await db.select().from(refunds).where(eq(refunds.stripeRefundId, refund.id)).get();
    if (ours) {
      if (ours.status !== "succeeded") await applyRefund(env, db, current, ours, refund.id, ctx);
      continue;
    }
    if (current.status !== "paid" && current.status !== "partially_refunded") continue;
    if (refund.amount === current.amount - current.refundedAmount) {
      await refundTheRest(env, db, current, refund, ctx);
    } else {
      await db
        .insert(auditLog)
        .values(
          auditRow(ctx, {
            id: `aud_${refund.id}_unmatched`,
            eventId: order.eventId,
            at: Date.now(),
            action: "refund.unmatched",
            subject: { type: "order", id: order.id },
            data: { stripeRefundId: refund.id, amount: refund.amount, currency: refund.currency },
          }),
        )
        .onConflictDoNothing();
    }
  }
}

/** A dashboard refund of everything still refundable: the tickets not refunded yet go with it. */
async function refundTheRest(env: Env, db: Db, order: OrderRow, refund: Stripe.Refund, ctx: RequestContext) {
  const rest = await db
    .select({ id: tickets.id })
    .from(tickets)
    .where(and(eq(tickets.orderId, order.id), inArray(tickets.status, ["valid", "checked_in"])));
  const now = Date.now();
  const row = {
    id: idFrom("rfd", await hmac(env.APP_SECRET, `refund\n${order.id}\nstripe:${refund.id}`)),
    orderId: order.id,
    eventId: order.eventId,
    ticketIds: rest.map((t) => t.id).sort(),
    amount: refund.amount,
    currency: order.currency,
    reason: "refunded in Stripe",
    status: "pending" as const,
    source: "stripe" as const,
    stripeRefundId: refund.id,
    failureReason: null,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(refunds).values(row).onConflictDoNothing();
  await applyRefund(env, db, order, row, refund.id, ctx);
}

/** `charge.dispute.created`: the order is flagged and the dispute audited (once per dispute). */
export async function disputeOpened(env: Env, db: Db, dispute: Stripe.Dispute, ctx: RequestContext): Promise<void> {
  const order = await orderOfPayment(db, idOf(dispute.payment_intent));
  if (!order) return;
  unwrap(
    await tierObject(env, order.leadTierId).flagDispute(
      {
        tierId: order.leadTierId,
        orderId: order.id,
        disputeId: dispute.id,
        reason: dispute.reason ?? null,
        amount: dispute.amount,
        currency: dispute.currency,
      },
      ctx,
    ),
  );
}
