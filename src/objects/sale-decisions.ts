/**
 * Decisions about orders and sales: opening a reservation's order (lead tier), selling each tier's
 * part and issuing its tickets, marking the order paid, closing it when no payment will come, and
 * refusing (refunding) a payment that came too late. Each runs inside the object's `transactionSync`.
 */

import { type RequestContext, SYSTEM } from "../db/audit";
import type { OrderRow } from "../db/schema";
import { refundFailedMessage, soldOutMessage } from "../db/webhook-messages";
import { isLive, type Ledger, notFound } from "./ledger";
import type { TaskOutcome } from "./stripe-tasks";
import type {
  CheckoutRequest,
  CompleteRequest,
  FulfilAloneRequest,
  RefusePaymentRequest,
  Result,
  SellRequest,
} from "./tier-rpc";

type OrderResult = Result<{ order: OrderRow }>;

/** Paid, with its tickets issued (some may have been refunded since). */
const issued = (order: OrderRow) => order.status === "paid" || order.status === "partially_refunded";

/** How long one delivery may take to fulfil an order before another may try (a crashed isolate). */
const FULFILMENT_LEASE_MS = 60_000;

/**
 * `go`: fulfil it (this caller holds the lease). `paid`: done. `closed`: it will get no tickets (its
 * refund is decided). `busy`: another delivery is fulfilling it right now.
 */
export type FulfilmentVerdict = "go" | "paid" | "closed" | "busy";

/**
 * The lead tier lets one delivery at a time fulfil an order, so two deliveries of one payment can
 * never split it into tickets for one and a refund for the other.
 */
export function claimFulfilment(
  l: Ledger,
  orderId: string,
  now: number,
): Result<{ verdict: FulfilmentVerdict; order: OrderRow }> {
  const order = l.store.order(orderId);
  if (!order) return notFound("order", orderId);
  if (issued(order)) return { ok: true, verdict: "paid", order };
  if (order.status === "canceled" || order.status === "refunded") return { ok: true, verdict: "closed", order };
  const lease = l.store.fulfilmentLease(orderId);
  if (lease !== null && lease > now) return { ok: true, verdict: "busy", order };
  l.store.setFulfilmentLease(orderId, now + FULFILMENT_LEASE_MS);
  return { ok: true, verdict: "go", order };
}

/** The lead tier opens the order for its reservation, once: asked again, it returns that order. */
export function startCheckout(
  l: Ledger,
  req: CheckoutRequest,
  now: number,
): Result<{ order: OrderRow; created: boolean }> {
  const existing = l.store.orderOfReservation(req.reservationId);
  if (existing) return { ok: true, order: existing, created: false };
  const header = l.store.header(req.reservationId);
  if (!header) return notFound("reservation", req.reservationId);
  const refusal = l.unlessActive(header, now);
  if (refusal) return refusal;
  const order: OrderRow = {
    ...req.order,
    eventId: header.eventId,
    reservationId: header.id,
    leadTierId: header.leadTierId,
    status: "pending_payment",
    stripeSessionId: null,
    checkoutUrl: null,
    paymentIntentId: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
    paidAt: null,
    refundedAmount: 0,
    disputeId: null,
    disputedAt: null,
  };
  l.store.putOrder(order);
  l.outbox.enqueue([{ kind: "order", row: order }]);
  l.changeHeader(header, { status: "checkout" }, now, "checkout.started", req.ctx, {
    orderId: order.id,
    amount: order.amount,
    currency: order.currency,
  });
  return { ok: true, order, created: true };
}

/** Records the payment session of an order (idempotent). */
export function attachSession(
  l: Ledger,
  orderId: string,
  session: { id: string; url: string | null },
  now: number,
): OrderResult {
  const order = l.store.order(orderId);
  if (!order) return notFound("order", orderId);
  if (order.stripeSessionId === session.id) return { ok: true, order };
  const attached = l.changeOrder(order, { stripeSessionId: session.id, checkoutUrl: session.url }, now);
  // The hold lapsed while the session was being made: close the session, as expiry would have.
  if (attached.status !== "pending_payment") {
    l.tasks.enqueue({ kind: "expireSession", orderId: order.id, sessionId: session.id }, now);
  }
  return { ok: true, order: attached };
}

/**
 * Sells this tier's part of a paid order and issues its tickets (idempotent). A part whose hold
 * lapsed before the payment landed takes its capacity again if it is there; if it is not, the
 * refusal tells the Worker to refund.
 */
export function sellPart(l: Ledger, req: SellRequest, now: number): Result<{ late: boolean }> {
  const hold = l.store.hold(req.reservationId);
  if (hold?.status === "sold") return { ok: true, late: false };
  const order = l.store.orderOfReservation(req.reservationId);
  if (order?.status === "canceled" || order?.status === "refunded") {
    return {
      ok: false,
      code: "RESERVATION_NOT_ACTIVE",
      detail: "The order was closed without tickets",
      orderStatus: order.status,
    };
  }
  const late = !hold || !isLive(hold);
  const quantity = hold?.quantity ?? req.tickets.length;
  const seats = hold?.seats ?? null;
  if (late) {
    const { row, held, sold } = l.state(false);
    const taken = seats ? l.store.takenSeats(seats) : [];
    if (taken.length > 0) {
      return {
        ok: false,
        code: "SEAT_UNAVAILABLE",
        detail: "The seats were sold meanwhile",
        tierId: row.id,
        seats: taken,
      };
    }
    const available = row.capacity - held - sold;
    if (!seats && quantity > available) {
      return { ok: false, code: "SOLD_OUT", detail: "The capacity was sold meanwhile", tierId: row.id, available };
    }
  } else {
    l.store.adjustHeld(-quantity);
  }
  if (hold) l.store.setHold(req.reservationId, "sold", hold.expiresAt, now);
  l.store.adjustSold(quantity);
  if (seats) l.store.setSeats(seats, "sold", req.reservationId);
  l.outbox.enqueue(req.tickets.map((row) => ({ kind: "ticket", row })));
  // This sale is the one that sells the tier out (a refund can open it again, and a later sale close it again).
  const after = l.state(false);
  if (after.sold >= after.row.capacity && after.sold - quantity < after.row.capacity) {
    l.webhook(soldOutMessage(after.row, after.sold, req.reservationId, now));
  }
  return { ok: true, late };
}

/**
 * An order of this tier alone, fulfilled in one decision: its part sold, its tickets issued and the
 * order marked paid together. Nothing can come in between, so it needs no fulfilment lease; a
 * refusal (the capacity is gone) writes nothing.
 */
export function fulfilAlone(
  l: Ledger,
  req: FulfilAloneRequest,
  now: number,
): Result<{ verdict: "paid" | "closed"; order: OrderRow }> {
  const order = l.store.order(req.orderId);
  if (!order) return notFound("order", req.orderId);
  if (issued(order)) return { ok: true, verdict: "paid", order };
  if (order.status === "canceled" || order.status === "refunded") return { ok: true, verdict: "closed", order };
  const sold = sellPart(l, { tierId: req.tierId, reservationId: order.reservationId, tickets: req.tickets }, now);
  if (!sold.ok) return sold;
  const { tierId, orderId, paymentIntentId, ctx } = req;
  const paid = completeOrder(l, { tierId, orderId, paymentIntentId, late: sold.late, ctx }, now);
  if (!paid.ok) throw new Error(`order ${orderId} sold its part but could not be completed: ${paid.code}`);
  return { ok: true, verdict: "paid", order: paid.order };
}

/** Gives back a part sold for an order that ends up refunded instead (idempotent). */
export function unsellPart(l: Ledger, reservationId: string, ticketIds: string[], now: number): void {
  const hold = l.store.hold(reservationId);
  if (hold?.status !== "sold") return;
  l.store.setHold(reservationId, "released", hold.expiresAt, now);
  l.store.adjustSold(-hold.quantity);
  if (hold.seats) l.store.setSeats(hold.seats, "available", null);
  l.outbox.enqueue([{ kind: "ticketStatus", ids: ticketIds, status: "void", at: now }]);
}

/** The lead tier marks the order paid once every tier has sold its part (idempotent). */
export function completeOrder(l: Ledger, req: CompleteRequest, now: number): OrderResult {
  const order = l.store.order(req.orderId);
  if (!order) return notFound("order", req.orderId);
  if (issued(order)) return { ok: true, order };
  if (order.status === "canceled" || order.status === "refunded") {
    return {
      ok: false,
      code: "RESERVATION_NOT_ACTIVE",
      detail: "The order was closed without tickets",
      orderStatus: order.status,
    };
  }
  const paid = l.changeOrder(order, { status: "paid", paymentIntentId: req.paymentIntentId, paidAt: now }, now);
  const header = l.store.header(order.reservationId);
  if (header && header.status !== "completed") l.changeHeader(header, { status: "completed" }, now, null, req.ctx);
  l.auditOrder(paid, "order.paid", req.ctx, { amount: paid.amount, currency: paid.currency, late: req.late });
  l.auditOrder(paid, "tickets.issued", req.ctx, { count: paid.items.reduce((n, i) => n + i.quantity, 0) });
  if (req.late) l.auditOrder(paid, "payment.late", req.ctx, { outcome: "tickets_issued" });
  return { ok: true, order: paid };
}

/**
 * The payment will not come (its session expired or the payment failed, or a free order cannot get
 * its tickets): the lead tier releases the reservation and closes the order, also one whose hold
 * lapsed (`expired`). An order already paid or closed is left alone (events arrive in any order).
 */
export function cancelCheckout(
  l: Ledger,
  orderId: string,
  status: "expired" | "canceled",
  ctx: RequestContext,
  now: number,
): OrderResult {
  const order = l.store.order(orderId);
  if (!order) return notFound("order", orderId);
  if (order.status !== "pending_payment" && order.status !== "expired") return { ok: true, order };
  if (order.status === status) return { ok: true, order };
  const hold = l.store.hold(order.reservationId);
  if (hold) l.endHold(hold, "released", now);
  const header = l.store.header(order.reservationId);
  if (header?.status === "checkout" || header?.status === "active") {
    l.changeHeader(header, { status: "released" }, now, "reservation.released", ctx, { reason: status });
  }
  return { ok: true, order: l.changeOrder(order, { status }, now) };
}

/**
 * A payment landed that cannot get its tickets (too late, or not what the order asked): the lead
 * tier closes the order, gives back a hold still live, and queues the refund of what was paid,
 * once, however often the payment is reported.
 */
export function refusePayment(l: Ledger, req: RefusePaymentRequest, now: number): OrderResult {
  const order = l.store.order(req.orderId);
  if (!order) return notFound("order", req.orderId);
  const refused = order.status === "canceled" && order.paymentIntentId === req.paymentIntentId;
  if (issued(order) || order.status === "refunded" || refused) return { ok: true, order };
  // The lead's part is sold: a delivery that got the capacity is completing the order. No refund.
  if (l.store.hold(order.reservationId)?.status === "sold") return { ok: true, order };
  const { orderId, paymentIntentId, amount, currency, reason } = req;
  if (paymentIntentId !== null && amount > 0) {
    l.tasks.enqueue({ kind: "refund", orderId, paymentIntentId, amount, currency, reason }, now);
  }
  // A mismatched payment can come while the hold is live: this order will never be paid, so it goes back.
  const hold = l.store.hold(order.reservationId);
  if (hold) l.endHold(hold, "released", now);
  const header = l.store.header(order.reservationId);
  if (header?.status === "checkout" || header?.status === "active") {
    l.changeHeader(header, { status: "released" }, now, "reservation.released", req.ctx, { reason: req.reason });
  }
  const closed = l.changeOrder(order, { status: "canceled", paymentIntentId: req.paymentIntentId }, now);
  if (req.reason === "late_payment") {
    l.auditOrder(closed, "payment.late", req.ctx, { outcome: "refund", amount: req.amount });
  } else {
    l.auditOrder(closed, "payment.mismatch", req.ctx, {
      expected: { amount: order.amount, currency: order.currency },
      received: req.received,
      outcome: "refund",
      amount: req.amount,
    });
  }
  return { ok: true, order: closed };
}

/** Records what Stripe answered to a task. */
export function taskDone(l: Ledger, outcome: TaskOutcome, now: number): void {
  if (outcome.kind === "refundFailed") {
    const order = l.store.order(outcome.orderId);
    if (!order) return;
    // Stripe refused for good: the organiser must act; the audit log and their webhook say why.
    l.auditOrder(order, "refund.failed", SYSTEM, { reason: outcome.reason, amount: order.amount });
    const { orderId, refundId, amount, currency, reason } = outcome;
    const failure = { orderId, eventId: order.eventId, refundId, amount, currency, reason };
    l.webhook(refundFailedMessage(failure, order.version, now));
    return;
  }
  if (outcome.kind !== "refund") return;
  const order = l.store.order(outcome.orderId);
  if (!order || order.status === "refunded") return;
  // refundedAmount is in the order's currency: a payment made in another one is refunded in that one,
  // which the audit entry says.
  const refundedAmount = outcome.currency === order.currency ? outcome.amount : order.refundedAmount;
  const refunded = l.changeOrder(order, { status: "refunded", refundedAmount }, now);
  l.auditOrder(refunded, "order.refunded", SYSTEM, {
    refundId: outcome.refundId,
    amount: outcome.amount,
    currency: outcome.currency,
    reason: outcome.reason,
  });
}
