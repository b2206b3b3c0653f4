/** The API's answers (docs/api.md), built from stored rows in one place; their shapes are bodies.ts. */

import type { z } from "zod";
import { statusAt } from "../db/reservation-status";
import type {
  AuditRow,
  EventRow,
  OrderRow,
  RefundRow,
  ReservationRow,
  ScannerRow,
  SimulatedMailRow,
  TicketEmailRow,
  TicketRow,
  TierRow,
  WebhookDeliveryRow,
  WebhookEndpointRow,
} from "../db/schema";
import type { CheckinAnswer } from "../domain/door/check-in";
import { toIso, toIsoOrNull } from "../lib/time";
import type { AttemptRates } from "../objects/attempt-rate";
import type { EntryState } from "../objects/queue-rpc";
import type {
  AuditEntry,
  Checkin,
  Checkout,
  DevMailList,
  Event,
  Order,
  QueueEntry,
  Refund,
  Reservation,
  Scanner,
  Ticket,
  TicketEmail,
  Tier,
  TierAttempts,
  WebhookDelivery,
  WebhookEndpoint,
} from "./bodies";

export function tierView(t: TierRow): z.output<typeof Tier> {
  return {
    id: t.id,
    eventId: t.eventId,
    name: t.name,
    price: t.price,
    kind: t.kind,
    capacity: t.capacity,
    ...(t.kind === "seated" ? { seats: t.seats ?? [] } : {}),
    maxPerOrder: t.maxPerOrder,
    salesStartAt: toIsoOrNull(t.salesStartAt),
    salesEndAt: toIsoOrNull(t.salesEndAt),
    holdSeconds: t.holdSeconds,
    maxExtensions: t.maxExtensions,
    extensionSeconds: t.extensionSeconds,
    createdAt: toIso(t.createdAt),
    updatedAt: toIso(t.updatedAt),
  };
}

export function eventView(e: EventRow, tiers: TierRow[]): z.output<typeof Event> {
  return {
    id: e.id,
    name: e.name,
    startsAt: toIso(e.startsAt),
    endsAt: toIsoOrNull(e.endsAt),
    timezone: e.timezone,
    currency: e.currency,
    maxTicketsPerOrder: e.maxTicketsPerOrder,
    maxHeldPerClient: e.maxHeldPerClient,
    queue: e.queue && {
      opensAt: toIso(e.queue.opensAt),
      admitPerMinute: e.queue.admitPerMinute,
      passSeconds: e.queue.passSeconds,
      passReservations: e.queue.passReservations,
    },
    createdAt: toIso(e.createdAt),
    tiers: tiers.map(tierView),
  };
}

export function reservationView(r: ReservationRow, now: number, token?: string): z.output<typeof Reservation> {
  return {
    id: r.id,
    eventId: r.eventId,
    status: statusAt(r, now),
    items: r.items,
    expiresAt: toIso(r.expiresAt),
    extensionsRemaining: r.maxExtensions - r.extensionsUsed,
    sessionId: r.sessionId,
    createdAt: toIso(r.createdAt),
    ...(token === undefined ? {} : { token }),
  };
}

export function checkinView(a: CheckinAnswer): z.output<typeof Checkin> {
  const ticket = ticketView(a.ticket);
  const firstCheckedInAt = toIsoOrNull(a.ticket.firstCheckedInAt);
  return a.result === "admitted"
    ? { result: a.result, ticket, checkedInAt: toIso(a.ticket.checkedInAt ?? a.at), firstCheckedInAt }
    : { result: a.result, ticket, exitedAt: toIso(a.at), firstCheckedInAt };
}

export function auditView(a: AuditRow): z.output<typeof AuditEntry> {
  return {
    id: a.id,
    at: toIso(a.at),
    action: a.action,
    actor: { type: a.actorType, ...(a.actorId ? { id: a.actorId } : {}) },
    subject: { type: a.subjectType, id: a.subjectId },
    data: a.data,
    ...(a.ip ? { ip: a.ip } : {}),
    ...(a.userAgent ? { userAgent: a.userAgent } : {}),
    ...(a.requestId ? { requestId: a.requestId } : {}),
  };
}

export function ticketView(t: TicketRow): z.output<typeof Ticket> {
  return { id: t.id, tierId: t.tierId, ...(t.seat ? { seat: t.seat } : {}), code: t.code, status: t.status };
}

/**
 * The answer to a checkout: a free order is paid at once and comes with its tickets; a paid one with
 * the Checkout Session to pay it in.
 */
export function checkoutView(c: {
  order: OrderRow;
  orderToken: string;
  tickets: TicketRow[] | null;
}): z.output<typeof Checkout> {
  const { order } = c;
  if (c.tickets !== null) {
    return { orderId: order.id, orderToken: c.orderToken, status: order.status, tickets: c.tickets.map(ticketView) };
  }
  return {
    orderId: order.id,
    orderToken: c.orderToken,
    status: order.status,
    checkoutUrl: order.checkoutUrl,
    stripeSessionId: order.stripeSessionId,
    amount: order.amount,
    currency: order.currency,
  };
}

/** An order and its tickets (in ticket id order). */
export function orderView(order: OrderRow, tickets: TicketRow[]): z.output<typeof Order> {
  return {
    id: order.id,
    eventId: order.eventId,
    reservationId: order.reservationId,
    status: order.status,
    email: order.email,
    name: order.name,
    amount: order.amount,
    currency: order.currency,
    items: order.items,
    checkoutUrl: order.status === "pending_payment" ? order.checkoutUrl : null,
    createdAt: toIso(order.createdAt),
    paidAt: toIsoOrNull(order.paidAt),
    refundedAmount: order.refundedAmount,
    disputedAt: toIsoOrNull(order.disputedAt),
    tickets: tickets.map(ticketView),
  };
}

export function refundView(r: RefundRow): z.output<typeof Refund> {
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

export function scannerView(s: ScannerRow): z.output<typeof Scanner> {
  return {
    id: s.id,
    eventId: s.eventId,
    name: s.name,
    gate: s.gate,
    createdAt: toIso(s.createdAt),
    revokedAt: toIsoOrNull(s.revokedAt),
  };
}

export function queueEntryView(e: EntryState, token?: string): z.output<typeof QueueEntry> {
  return {
    id: e.id,
    eventId: e.eventId,
    status: e.status,
    position: e.position,
    estimatedWaitSeconds: e.estimatedWaitSeconds,
    pollAfterSeconds: e.pollAfterSeconds,
    ...(e.pass === undefined ? {} : { pass: e.pass }),
    ...(e.passExpiresAt === undefined ? {} : { passExpiresAt: toIso(e.passExpiresAt) }),
    ...(token === undefined ? {} : { token }),
  };
}

export function tierAttemptsView(tierId: string, r: AttemptRates): z.output<typeof TierAttempts> {
  return {
    tierId,
    peakPerSecond: r.peakPerSecond,
    perSecond: r.perSecond.map((p) => ({ at: toIso(p.at), attempts: p.attempts })),
  };
}

export function webhookEndpointView(e: WebhookEndpointRow): z.output<typeof WebhookEndpoint> {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    createdAt: toIso(e.createdAt),
    disabledAt: toIsoOrNull(e.disabledAt),
  };
}

export function webhookDeliveryView(d: WebhookDeliveryRow): z.output<typeof WebhookDelivery> {
  return {
    id: d.id,
    messageId: d.messageId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    nextAttemptAt: d.status === "pending" ? toIsoOrNull(d.nextAttemptAt) : null,
    createdAt: toIso(d.createdAt),
    deliveredAt: toIsoOrNull(d.deliveredAt),
  };
}

export function ticketEmailView(e: TicketEmailRow): z.output<typeof TicketEmail> {
  return {
    id: e.id,
    orderId: e.orderId,
    to: e.recipient,
    reason: e.reason,
    status: e.status,
    attempts: e.attempts,
    lastError: e.lastError,
    createdAt: toIso(e.createdAt),
    sentAt: toIsoOrNull(e.sentAt),
  };
}

export function simulatedMailView(m: SimulatedMailRow): z.output<typeof DevMailList>["messages"][number] {
  return { id: m.id, to: m.recipient, subject: m.subject, text: m.text, html: m.html, sentAt: toIso(m.sentAt) };
}
