/**
 * Stripe's webhook: verified on the raw body, recognised by event id, and safe in any order and
 * any number of times (every action it takes is idempotent on the order). Anything understood is
 * answered 200, so Stripe does not retry what it need not; only a server fault answers 5xx, so
 * Stripe retries what did not get done.
 */
import { eq } from "drizzle-orm";
import type { RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import { type OrderRow, orders, webhookEvents } from "../../db/schema";
import { ApiError } from "../../lib/errors";
import { tierObject, unwrap } from "../../objects/tier-client";
import { idOf } from "../../schemas/common";
import { type Stripe, stripeClient, WEBHOOK_TOLERANCE_SECONDS, webhookCrypto } from "../../stripe/client";
import { fulfil } from "../sales/orders";
import { chargeRefunded, disputeOpened } from "./charges";

const orderId = idOf("ord");

export async function verifyStripeEvent(
  env: Env,
  rawBody: string,
  signature: string | undefined,
): Promise<Stripe.Event> {
  if (!signature) throw new ApiError("WEBHOOK_SIGNATURE_INVALID", "The Stripe-Signature header is missing");
  // stripe-node refuses only old timestamps; one from the future is outside the tolerance too.
  const signedAt = Number(/(?:^|,)\s*t=(\d+)(?:,|$)/.exec(signature)?.[1]);
  if (signedAt > Date.now() / 1000 + WEBHOOK_TOLERANCE_SECONDS) {
    throw new ApiError("WEBHOOK_SIGNATURE_INVALID", "The Stripe-Signature timestamp is in the future");
  }
  try {
    return await stripeClient(env).webhooks.constructEventAsync(
      rawBody,
      signature,
      env.STRIPE_WEBHOOK_SECRET,
      WEBHOOK_TOLERANCE_SECONDS,
      webhookCrypto,
    );
  } catch {
    throw new ApiError("WEBHOOK_SIGNATURE_INVALID", "The Stripe-Signature does not verify, or is too old");
  }
}

export async function handleStripeEvent(env: Env, db: Db, event: Stripe.Event, ctx: RequestContext): Promise<void> {
  const now = Date.now();
  // One round trip: record the event (first time only), and read back whether it was processed and
  // the order it names, which most events need next.
  const [, [seen], order] = await db.batch([
    db.insert(webhookEvents).values({ id: event.id, type: event.type, receivedAt: now }).onConflictDoNothing(),
    db.select({ processedAt: webhookEvents.processedAt }).from(webhookEvents).where(eq(webhookEvents.id, event.id)),
    db
      .select()
      .from(orders)
      .where(eq(orders.id, orderIdOf(event) ?? "")),
  ]);
  // Seen before and processed: skip it. Seen before but not processed (an earlier attempt failed): again.
  if (seen?.processedAt) return;
  await dispatch(env, db, event, order[0] ?? null, ctx);
  await db.update(webhookEvents).set({ processedAt: Date.now() }).where(eq(webhookEvents.id, event.id));
}

async function dispatch(
  env: Env,
  db: Db,
  event: Stripe.Event,
  order: OrderRow | null,
  ctx: RequestContext,
): Promise<void> {
  switch (event.type) {
    case "checkout.session.completed":
      // `unpaid` is a delayed payment method still on its way: async_payment_succeeded will follow.
      if (event.data.object.payment_status !== "unpaid") await paid(env, event, event.data.object, order, ctx);
      return;
    case "checkout.session.async_payment_succeeded":
      await paid(env, event, event.data.object, order, ctx);
      return;
    case "checkout.session.async_payment_failed":
      await closed(env, order, "canceled", ctx);
      return;
    case "checkout.session.expired":
      await closed(env, order, "expired", ctx);
      return;
    case "charge.refunded":
      await chargeRefunded(env, db, event.data.object, ctx);
      return;
    case "charge.dispute.created":
      await disputeOpened(env, db, event.data.object, ctx);
      return;
    default:
      return;
  }
}

/** The order a Checkout Session event names (its metadata, or the session's client_reference_id). */
function orderIdOf(event: Stripe.Event): string | null {
  if (!event.type.startsWith("checkout.session.")) return null;
  const session = event.data.object as Stripe.Checkout.Session;
  const parsed = orderId.safeParse(session.metadata?.orderId ?? session.client_reference_id);
  return parsed.success ? parsed.data : null;
}

async function paid(
  env: Env,
  event: Stripe.Event,
  session: Stripe.Checkout.Session,
  order: OrderRow | null,
  ctx: RequestContext,
) {
  if (!order) {
    console.error(JSON.stringify({ msg: "Stripe session for no known order", event: event.id, session: session.id }));
    return;
  }
  // Paid before (and perhaps refunded since, in part or whole): a payment event changes nothing now.
  if (order.status === "paid" || order.status === "partially_refunded" || order.status === "refunded") return;
  const paymentIntent =
    typeof session.payment_intent === "string" ? session.payment_intent : (session.payment_intent?.id ?? null);
  if (session.amount_total !== order.amount || session.currency !== order.currency) {
    await refuseMismatch(env, order, session, paymentIntent, ctx);
    return;
  }
  await fulfil(env, order, { paymentIntentId: paymentIntent }, ctx);
}

/**
 * A payment that is not what the order asked gets no tickets: the order is closed, its hold given
 * back, and what was paid refunded in full (as a late payment with no capacity left is).
 */
async function refuseMismatch(
  env: Env,
  order: OrderRow,
  session: Stripe.Checkout.Session,
  paymentIntentId: string | null,
  ctx: RequestContext,
) {
  const received = { amount: session.amount_total, currency: session.currency };
  unwrap(
    await tierObject(env, order.leadTierId).refusePayment({
      tierId: order.leadTierId,
      orderId: order.id,
      paymentIntentId,
      amount: session.amount_total ?? 0,
      currency: session.currency ?? order.currency,
      reason: "payment_mismatch",
      received,
      ctx,
    }),
  );
  await releaseFollowers(env, order);
}

async function closed(env: Env, order: OrderRow | null, status: "expired" | "canceled", ctx: RequestContext) {
  if (order?.status !== "pending_payment") return;
  unwrap(await tierObject(env, order.leadTierId).cancelCheckout(order.leadTierId, order.id, status, ctx));
  await releaseFollowers(env, order);
}

/** The order will not be paid: the other tiers give back their parts (the lead has decided). */
async function releaseFollowers(env: Env, order: OrderRow) {
  const followers = order.items.filter((i) => i.tierId !== order.leadTierId);
  await Promise.all(
    followers.map((i) =>
      tierObject(env, i.tierId).follow(i.tierId, {
        reservationId: order.reservationId,
        status: "released",
        expiresAt: 0,
      }),
    ),
  );
}
