/**
 * Stripe events about a charge after it was paid: a refund made in Stripe's dashboard (or one of ours,
 * reported back) and a dispute opened by the buyer's bank. Both find the order by its payment intent.
 */
import { and, eq, inArray } from "drizzle-orm";
import { auditRow, type RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import { auditLog, type OrderRow, orders, refunds, tickets } from "../../db/schema";
import { ApiError } from "../../lib/errors";
import { refusedPaymentRefundId } from "../../lib/secret-box";
import { tierObject, unwrap } from "../../objects/tier-client";
import { type Stripe, stripeClient } from "../../stripe/client";
import { applyRefund, claim, pendingRefund } from "../sales/refunds";

const idOf = (ref: string | { id: string } | null | undefined) => (typeof ref === "string" ? ref : (ref?.id ?? null));

async function orderOfPayment(db: Db, paymentIntentId: string | null): Promise<OrderRow | null> {
  if (!paymentIntentId) return null;
  return (await db.select().from(orders).where(eq(orders.paymentIntentId, paymentIntentId)).get()) ?? null;
}

/**
 * `charge.refunded`: the payment's refunds at Stripe, oldest first. Ours carry their refund id in
 * metadata: one not applied yet (the Worker died after Stripe said yes) is applied now, and applying
 * one again changes nothing; the refund of a refused payment is the lead tier's, recorded by its
 * task. Once the charge is refunded in full, every ticket still valid is voided
 * with a refund of the rest (`source: stripe`), however many dashboard refunds made it up. A partial
 * dashboard refund cannot be matched to tickets: it is audited (`refund.unmatched`) for the organiser.
 */
export async function chargeRefunded(env: Env, db: Db, charge: Stripe.Charge, ctx: RequestContext): Promise<void> {
  const paymentIntent = idOf(charge.payment_intent);
  const order = await orderOfPayment(db, paymentIntent);
  if (!order || !paymentIntent) return;
  const listed = await stripeClient(env).refunds.list({ payment_intent: paymentIntent, limit: 100 });
  const made = listed.data
    .filter((r) => r.status === "succeeded" || r.status === "pending")
    .sort((a, b) => a.created - b.created);
  const refusedPayment = await refusedPaymentRefundId(env.APP_SECRET, order.id);
  const theirs: Stripe.Refund[] = [];
  for (const refund of made) {
    if (refund.metadata?.refundId === refusedPayment) continue;
    const ours = refund.metadata?.refundId
      ? await db.select().from(refunds).where(eq(refunds.id, refund.metadata.refundId)).get()
      : await db.select().from(refunds).where(eq(refunds.stripeRefundId, refund.id)).get();
    if (!ours) theirs.push(refund);
    else if (ours.status === "pending") await applyRefund(env, db, await current(db, order), ours, refund.id, ctx);
  }
  if (theirs.length === 0) return;
  const now = await current(db, order);
  if (charge.amount_refunded >= charge.amount && (now.status === "paid" || now.status === "partially_refunded")) {
    await refundTheRest(env, db, now, charge.amount_refunded - now.refundedAmount, theirs, ctx);
    return;
  }
  for (const refund of theirs) await unmatched(db, order, refund, ctx);
}

const current = async (db: Db, order: OrderRow) =>
  (await db.select().from(orders).where(eq(orders.id, order.id)).get()) ?? order;

async function unmatched(db: Db, order: OrderRow, refund: Stripe.Refund, ctx: RequestContext) {
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

/** The charge is refunded in full: the tickets not refunded yet go with the dashboard refunds. */
async function refundTheRest(
  env: Env,
  db: Db,
  order: OrderRow,
  amount: number,
  made: Stripe.Refund[],
  ctx: RequestContext,
) {
  const rest = await db
    .select({ id: tickets.id })
    .from(tickets)
    .where(and(eq(tickets.orderId, order.id), inArray(tickets.status, ["valid", "checked_in"])));
  if (rest.length === 0) return;
  const stripeRefundId = made.map((r) => r.id).join(",");
  const row = await pendingRefund(env, order, "stripe-in-full", {
    ticketIds: rest.map((t) => t.id).sort(),
    amount,
    reason: "refunded in Stripe",
    source: "stripe",
    stripeRefundId,
  });
  try {
    const { refund: claimed } = await claim(db, row);
    if (claimed.status !== "succeeded") await applyRefund(env, db, order, claimed, stripeRefundId, ctx);
  } catch (error) {
    // Some tickets are in a refund of ours still under way: it settles them; the rest is audited.
    if (!(error instanceof ApiError)) throw error;
    for (const refund of made) await unmatched(db, order, refund, ctx);
  }
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
