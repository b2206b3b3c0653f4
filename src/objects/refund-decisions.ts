/**
 * Decisions after money goes back: each tier returns the capacity (or seats) of its refunded tickets
 * and voids them, once per ticket; the lead tier records the refund on the order, once per refund,
 * and moves it to `partially_refunded` or `refunded`; a dispute flags the order. Each runs inside the
 * object's `transactionSync`; the Worker asks Stripe before any of them (src/domain/refunds.ts).
 */

import type { RequestContext } from "../db/audit";
import type { OrderRow } from "../db/schema";
import { disputeMessage } from "../db/webhook-messages";
import { type Ledger, notFound } from "./ledger";
import type { DisputeRequest, RecordRefundRequest, RefundTicketsRequest, Result } from "./tier-rpc";

/** The order states a refund may apply to. */
const REFUNDABLE: readonly OrderRow["status"][] = ["paid", "partially_refunded"];

/** Returns the capacity of this tier's refunded tickets and voids them; a ticket refunded before is skipped. */
export function refundTickets(l: Ledger, req: RefundTicketsRequest, now: number): Result<{ returned: number }> {
  const hold = l.store.hold(req.reservationId);
  if (hold?.status !== "sold") {
    return {
      ok: false,
      code: "RESERVATION_NOT_ACTIVE",
      detail: "This tier sold no tickets for the order",
      reservationStatus: hold?.status ?? "none",
    };
  }
  const unrefunded = new Set(l.store.unrefunded(req.tickets.map((t) => t.id)));
  const fresh = req.tickets.filter((t) => unrefunded.has(t.id));
  if (fresh.length === 0) return { ok: true, returned: 0 };
  for (const ticket of fresh) l.store.markRefunded(ticket.id, req.refundId, req.reservationId);
  l.store.adjustSold(-fresh.length);
  const seats = fresh.flatMap((t) => (t.seat ? [t.seat] : []));
  if (seats.length > 0) l.store.setSeats(seats, "available", null);
  l.outbox.enqueue([{ kind: "ticketStatus", ids: fresh.map((t) => t.id), status: "void", at: now }]);
  return { ok: true, returned: fresh.length };
}

/** The lead tier records a refund on its order (once per refund) and moves the order on. */
export function recordRefund(l: Ledger, req: RecordRefundRequest, now: number): Result<{ order: OrderRow }> {
  const order = l.store.order(req.orderId);
  if (!order) return notFound("order", req.orderId);
  if (l.store.hasOrderRefund(req.refundId)) return { ok: true, order };
  if (!REFUNDABLE.includes(order.status)) {
    return {
      ok: false,
      code: "RESERVATION_NOT_ACTIVE",
      detail: `The order is ${order.status}: there is nothing to refund`,
      orderStatus: order.status,
    };
  }
  l.store.addOrderRefund(req.refundId, order.id, req.amount, req.ticketIds.length);
  const issued = order.items.reduce((n, item) => n + item.quantity, 0);
  const status = l.store.refundedTicketCount(order.id) >= issued ? "refunded" : "partially_refunded";
  const next = l.changeOrder(order, { status, refundedAmount: order.refundedAmount + req.amount }, now, true);
  l.auditOrder(next, "order.refunded", req.ctx, {
    refundId: req.refundId,
    amount: req.amount,
    currency: order.currency,
    ticketIds: req.ticketIds,
    stripeRefundId: req.stripeRefundId,
    reason: req.reason,
    source: req.source,
    status,
  });
  return { ok: true, order: next };
}

/** The buyer's bank disputes the payment: the order is flagged (once per dispute) and it is audited. */
export function flagDispute(
  l: Ledger,
  req: DisputeRequest,
  ctx: RequestContext,
  now: number,
): Result<{ order: OrderRow }> {
  const order = l.store.order(req.orderId);
  if (!order) return notFound("order", req.orderId);
  if (order.disputeId === req.disputeId) return { ok: true, order };
  const flagged = l.changeOrder(order, { disputeId: req.disputeId, disputedAt: now }, now);
  l.auditOrder(flagged, "dispute.opened", ctx, {
    disputeId: req.disputeId,
    reason: req.reason,
    amount: req.amount,
    currency: req.currency,
  });
  l.webhook(disputeMessage(flagged, req, now));
  return { ok: true, order: flagged };
}
