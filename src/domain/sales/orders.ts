/**
 * From a held reservation to a paid order. The lead tier's object opens the order (once per
 * reservation) and decides every change of it; each tier's object sells its part and issues its
 * tickets; all of it reaches D1 through their outboxes, so a sale and its records cannot diverge.
 */
import { asc, eq, inArray } from "drizzle-orm";
import type { RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import {
  events,
  type OrderItem,
  type OrderRow,
  orders,
  type ReservationRow,
  type TicketRow,
  tickets,
  tiers,
} from "../../db/schema";
import { ApiError, notFound } from "../../lib/errors";
import { idFrom, secretsEqual, sha256Hex, tokenFrom, tokenKind } from "../../lib/ids";
import { hmac } from "../../lib/secret-box";
import { assertChargeable } from "../../lib/stripe-limits";
import { refusalError, tierObject, unwrap } from "../../objects/tier-client";
import type { Refusal } from "../../objects/tier-rpc";
import type { CheckoutInput } from "../../schemas/orders";
import { stripeClient } from "../../stripe/client";
import { checkoutIdempotencyKey, sessionParams, storedSessionParams } from "./checkout-session";
import { orderTickets } from "./tickets";

/** How often a delivery looks again while another delivery fulfils the same order (about 6 s in all). */
const BUSY_POLLS = 15;

/**
 * An order's token: derived from APP_SECRET and the order id, so a retried checkout answers the same one,
 * and the ticket e-mail can give the buyer their link without the token being stored anywhere (D1 keeps
 * only its hash). Under another APP_SECRET it comes out different: the e-mail checks it against the hash.
 */
export async function orderTokenFor(secret: string, orderId: string): Promise<string> {
  return tokenFrom("ord", await hmac(secret, `order-token\n${orderId}`));
}

async function orderIdentity(env: Env, reservationId: string) {
  const id = idFrom("ord", await hmac(env.APP_SECRET, `order\n${reservationId}`));
  return { id, token: await orderTokenFor(env.APP_SECRET, id) };
}

export async function checkout(
  env: Env,
  db: Db,
  reservation: ReservationRow,
  input: CheckoutInput,
  origin: string,
  ctx: RequestContext,
) {
  // The event and the tiers in one round trip.
  const [identity, [[event], tierRows]] = await Promise.all([
    orderIdentity(env, reservation.id),
    db.batch([
      db.select().from(events).where(eq(events.id, reservation.eventId)),
      db
        .select()
        .from(tiers)
        .where(
          inArray(
            tiers.id,
            reservation.items.map((i) => i.tierId),
          ),
        ),
    ]),
  ]);
  if (!event) throw notFound("event", reservation.eventId);
  const tierById = new Map(tierRows.map((t) => [t.id, t]));
  const items: OrderItem[] = reservation.items.map((i) => ({ ...i, unitPrice: tierById.get(i.tierId)?.price ?? 0 }));
  const amount = items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
  assertChargeable(event.currency, items); // before the order opens: what Stripe would refuse is a 400
  const request =
    amount === 0
      ? null
      : sessionParams(
          {
            orderId: identity.id,
            reservationId: reservation.id,
            email: input.email,
            currency: event.currency,
            items,
            event,
            tierNames: new Map(tierRows.map((t) => [t.id, t.name])),
            holdExpiresAt: reservation.expiresAt,
            now: Date.now(),
          },
          input,
          origin,
        );
  const lead = tierObject(env, reservation.leadTierId);
  const started = unwrap(
    await lead.startCheckout({
      tierId: reservation.leadTierId,
      reservationId: reservation.id,
      order: {
        id: identity.id,
        email: input.email,
        name: input.name ?? null,
        amount,
        currency: event.currency,
        items,
        tokenHash: await sha256Hex(identity.token),
        // Used only if this call opens the order: a retry sends what the first call fixed.
        sessionParams: request,
      },
      ctx,
    }),
  );
  let order = started.order;
  const created = started.created;

  if (order.amount === 0) {
    order = await fulfil(env, order, { paymentIntentId: null }, ctx);
    // Closed without tickets (its tickets could not all be had): asked again, it stays closed.
    if (order.status === "pending_payment" || order.status === "expired" || order.status === "canceled") {
      throw new ApiError("RESERVATION_NOT_ACTIVE", `The order is ${order.status}`, { orderStatus: order.status });
    }
    return { created, order, orderToken: identity.token, tickets: await ticketsOfOrder(db, order.id) };
  }
  if (order.stripeSessionId === null && order.status === "pending_payment") {
    // An order opened before requests were stored on orders has none: it gets this call's.
    const stored = order.sessionParams ?? request;
    if (!stored) throw new Error(`order ${order.id} has no Checkout Session parameters`);
    const session = await stripeClient(env).checkout.sessions.create(storedSessionParams(stored), {
      idempotencyKey: checkoutIdempotencyKey(order.id),
    });
    order = unwrap(
      await lead.attachSession(reservation.leadTierId, order.id, { id: session.id, url: session.url }),
    ).order;
  }
  return { created, order, orderToken: identity.token, tickets: null };
}

export interface Payment {
  paymentIntentId: string | null;
}

/**
 * Issues an order's tickets once it is paid (idempotent: every step is keyed by the order). The
 * other tiers sell their parts first and the lead last, so the order reads paid only when every
 * ticket exists. A payment that cannot get its tickets (its hold lapsed and the capacity is gone,
 * or the order was closed) gives back what it took and is refunded: never tickets and a refund,
 * never neither. A free order that cannot get them gives back what it took, is closed, and the
 * refusal is the caller's answer.
 */
export async function fulfil(env: Env, order: OrderRow, payment: Payment, ctx: RequestContext): Promise<OrderRow> {
  if (order.items.length === 1) return fulfilAlone(env, order, payment, ctx);
  const lead = tierObject(env, order.leadTierId);
  // Another delivery of this payment may be fulfilling it: wait for its outcome rather than race it.
  let claim = unwrap(await lead.claimFulfilment(order.leadTierId, order.id));
  for (let poll = 1; claim.verdict === "busy" && poll <= BUSY_POLLS; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * poll));
    claim = unwrap(await lead.claimFulfilment(order.leadTierId, order.id));
  }
  if (claim.verdict === "paid") return claim.order;
  if (claim.verdict === "busy") throw new Error(`order ${order.id} is still being fulfilled by another delivery`);
  if (claim.verdict === "closed") {
    // Closed without tickets: a payment reported for it is refunded (once; the refund may be done already).
    if (payment.paymentIntentId === null) return claim.order;
    return refuseLate(env, order, payment.paymentIntentId, ctx);
  }
  const byTier = await orderTickets(env, order, Date.now());
  const sell = async (tierId: string) => ({
    tierId,
    result: await tierObject(env, tierId).sell({
      tierId,
      reservationId: order.reservationId,
      tickets: byTier.get(tierId) ?? [],
    }),
  });
  const followers = order.items.map((i) => i.tierId).filter((id) => id !== order.leadTierId);
  const parts = await Promise.all(followers.map(sell));
  if (parts.every((p) => p.result.ok)) parts.push(await sell(order.leadTierId));

  const refused = parts.find((p) => !p.result.ok)?.result;
  if (refused && !refused.ok) {
    const taken = parts.filter((p) => p.result.ok).map((p) => p.tierId);
    await Promise.all(
      taken.map((tierId) =>
        tierObject(env, tierId).unsell(
          tierId,
          order.reservationId,
          (byTier.get(tierId) ?? []).map((t) => t.id),
        ),
      ),
    );
    return cannotSell(env, order, payment, refused, ctx);
  }
  const late = parts.some((p) => p.result.ok && p.result.late);
  return unwrap(
    await lead.completeOrder({
      tierId: order.leadTierId,
      orderId: order.id,
      paymentIntentId: payment.paymentIntentId,
      late,
      ctx,
    }),
  ).order;
}

/** An order of one tier: one decision of its object sells, issues and completes it. */
async function fulfilAlone(env: Env, order: OrderRow, payment: Payment, ctx: RequestContext): Promise<OrderRow> {
  const lead = tierObject(env, order.leadTierId);
  const tickets = (await orderTickets(env, order, Date.now())).get(order.leadTierId) ?? [];
  const { paymentIntentId } = payment;
  const result = await lead.fulfilAlone({ tierId: order.leadTierId, orderId: order.id, tickets, paymentIntentId, ctx });
  if (result.ok && result.verdict === "paid") return result.order;
  if (result.ok) {
    // Closed without tickets: a payment reported for it is refunded (once; the refund may be done already).
    return paymentIntentId === null ? result.order : refuseLate(env, order, paymentIntentId, ctx);
  }
  return cannotSell(env, order, payment, result, ctx);
}

/**
 * The order cannot get its tickets and holds nothing sold any more: a payment is refunded (once); a free
 * order is closed and the refusal is the caller's answer.
 */
async function cannotSell(env: Env, order: OrderRow, payment: Payment, refusal: Refusal, ctx: RequestContext) {
  if (payment.paymentIntentId !== null) return refuseLate(env, order, payment.paymentIntentId, ctx);
  unwrap(await tierObject(env, order.leadTierId).cancelCheckout(order.leadTierId, order.id, "canceled", ctx));
  throw refusalError(refusal);
}

async function refuseLate(env: Env, order: OrderRow, paymentIntentId: string, ctx: RequestContext) {
  const refusal = {
    orderId: order.id,
    paymentIntentId,
    amount: order.amount,
    currency: order.currency,
    reason: "late_payment",
  } as const;
  return unwrap(await tierObject(env, order.leadTierId).refusePayment({ tierId: order.leadTierId, ...refusal, ctx }))
    .order;
}

/** The order's tickets, in id order. */
export function ticketsOfOrder(db: Db, orderId: string) {
  return db.select().from(tickets).where(eq(tickets.orderId, orderId)).orderBy(asc(tickets.id));
}

/** The order, for its own order token or the organiser; anything else is 401 (or 403 for another order's token). */
export async function authorizedOrder(
  db: Db,
  id: string,
  token: string | null,
  isOrganiser: boolean,
): Promise<OrderRow> {
  requireOrderToken(token, isOrganiser);
  return authorize(db, id, await db.select().from(orders).where(eq(orders.id, id)).get(), token, isOrganiser);
}

/**
 * `authorizedOrder` with the order's tickets, read in the same round trip (nothing of them is shown
 * unless the order is authorised).
 */
export async function authorizedOrderWithTickets(
  db: Db,
  id: string,
  token: string | null,
  isOrganiser: boolean,
): Promise<{ order: OrderRow; tickets: TicketRow[] }> {
  requireOrderToken(token, isOrganiser);
  const [[row], found] = await db.batch([db.select().from(orders).where(eq(orders.id, id)), ticketsOfOrder(db, id)]);
  return { order: await authorize(db, id, row, token, isOrganiser), tickets: found };
}

function requireOrderToken(token: string | null, isOrganiser: boolean): void {
  if (!isOrganiser && (token === null || tokenKind(token) !== "ord")) {
    throw new ApiError("UNAUTHORIZED", "This call needs the order's token or the organiser's token");
  }
}

async function authorize(
  db: Db,
  id: string,
  row: OrderRow | undefined,
  token: string | null,
  isOrganiser: boolean,
): Promise<OrderRow> {
  if (!row) throw notFound("order", id);
  if (isOrganiser) return row;
  const hash = await sha256Hex(token as string);
  if (await secretsEqual(hash, row.tokenHash)) return row;
  const other = await db.select({ id: orders.id }).from(orders).where(eq(orders.tokenHash, hash)).get();
  if (other) throw new ApiError("FORBIDDEN", "This token belongs to another order");
  throw new ApiError("UNAUTHORIZED", "The token is not valid for this order");
}
