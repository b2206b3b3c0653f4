/**
 * The bodies the API answers with (docs/api.md), as zod schemas: the one description of each, from which
 * the views (views.ts) take their types and the OpenAPI document its response schemas. Strict objects,
 * so a member added to a view without its schema is a type error, and an answer that does not match the
 * document fails the test that validates every answer against it (test/openapi-answers.test.ts).
 */
import { z } from "zod";
import {
  CHECKIN_RESULTS,
  DELIVERY_STATUSES,
  ORDER_STATUSES,
  REFUND_STATUSES,
  TICKET_EMAIL_REASONS,
  TICKET_EMAIL_STATUSES,
  TICKET_STATUSES,
  WEBHOOK_TYPES,
  type WebhookType,
} from "../db/schema";

const iso = z.iso.datetime({ offset: true });
const isoOrNull = iso.nullable();
const count = z.int().min(0);

export const Tier = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  name: z.string(),
  price: count,
  kind: z.enum(["general_admission", "seated"]),
  capacity: count,
  seats: z.array(z.string()).optional(),
  maxPerOrder: z.int(),
  salesStartAt: isoOrNull,
  salesEndAt: isoOrNull,
  holdSeconds: z.int(),
  maxExtensions: z.int(),
  extensionSeconds: z.int(),
  createdAt: iso,
  updatedAt: iso,
});

export const Event = z.strictObject({
  id: z.string(),
  name: z.string(),
  startsAt: iso,
  endsAt: isoOrNull,
  timezone: z.string(),
  currency: z.string(),
  maxTicketsPerOrder: z.int(),
  maxHeldPerClient: z.int(),
  queue: z
    .strictObject({ opensAt: iso, admitPerMinute: z.int(), passSeconds: z.int(), passReservations: z.int() })
    .nullable(),
  createdAt: iso,
  tiers: z.array(Tier),
});

const ReservationItem = z.strictObject({
  tierId: z.string(),
  quantity: z.int().min(1),
  seats: z.array(z.string()).optional(),
});

export const Reservation = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  status: z.enum(["active", "checkout", "completed", "released", "expired"]),
  items: z.array(ReservationItem),
  expiresAt: iso,
  extensionsRemaining: z.int(),
  sessionId: z.string().nullable(),
  createdAt: iso,
  /** Only in the answer that created it. */
  token: z.string().optional(),
});

export const Ticket = z.strictObject({
  id: z.string(),
  tierId: z.string(),
  seat: z.string().optional(),
  code: z.string(),
  status: z.enum(TICKET_STATUSES),
});

export const Order = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  reservationId: z.string(),
  status: z.enum(ORDER_STATUSES),
  email: z.string(),
  name: z.string().nullable(),
  amount: count,
  currency: z.string(),
  items: z.array(ReservationItem.extend({ unitPrice: count })),
  checkoutUrl: z.string().nullable(),
  createdAt: iso,
  paidAt: isoOrNull,
  refundedAmount: count,
  disputedAt: isoOrNull,
  tickets: z.array(Ticket),
});

/** A paid order to pay in Stripe Checkout, or a free one paid at once with its tickets. */
export const Checkout = z.union([
  z.strictObject({
    orderId: z.string(),
    orderToken: z.string(),
    status: z.enum(ORDER_STATUSES),
    checkoutUrl: z.string().nullable(),
    stripeSessionId: z.string().nullable(),
    amount: count,
    currency: z.string(),
  }),
  z.strictObject({
    orderId: z.string(),
    orderToken: z.string(),
    status: z.enum(ORDER_STATUSES),
    tickets: z.array(Ticket),
  }),
]);

export const Refund = z.strictObject({
  id: z.string(),
  orderId: z.string(),
  status: z.enum(REFUND_STATUSES),
  amount: count,
  currency: z.string(),
  ticketIds: z.array(z.string()),
  reason: z.string().nullable(),
  source: z.enum(["api", "stripe"]),
  stripeRefundId: z.string().nullable(),
  failureReason: z.string().optional(),
  createdAt: iso,
});

export const Scanner = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  name: z.string(),
  gate: z.string().nullable(),
  createdAt: iso,
  revokedAt: isoOrNull,
});

export const NewScanner = Scanner.extend({ token: z.string() });

export const ScannerList = z.strictObject({ scanners: z.array(Scanner) });

export const AuditEntry = z.strictObject({
  id: z.string(),
  at: iso,
  action: z.string(),
  actor: z.strictObject({
    type: z.enum(["organiser", "buyer", "scanner", "stripe", "system"]),
    id: z.string().optional(),
  }),
  subject: z.strictObject({ type: z.string(), id: z.string() }),
  data: z.record(z.string(), z.unknown()),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  requestId: z.string().optional(),
});

const nextCursor = z.string().nullable();

export const AuditPage = z.strictObject({ entries: z.array(AuditEntry), nextCursor });

export const OrderPage = z.strictObject({ orders: z.array(Order), nextCursor });

export const Availability = z.strictObject({
  tiers: z.array(
    z.strictObject({
      tierId: z.string(),
      name: z.string(),
      price: count,
      currency: z.string(),
      capacity: count,
      available: count,
      status: z.enum(["on_sale", "sold_out", "not_started", "ended"]),
      seats: z.array(z.strictObject({ label: z.string(), status: z.enum(["available", "held", "sold"]) })).optional(),
    }),
  ),
});

const rate = z.number().min(0).max(1);

export const Stats = z.strictObject({
  tiers: z.array(
    z.strictObject({
      tierId: z.string(),
      name: z.string(),
      capacity: count,
      sold: count,
      held: count,
      available: z.int(),
      checkedIn: count,
      grossRevenue: count,
      refundedAmount: count,
    }),
  ),
  reservations: z.strictObject({
    created: count,
    completed: count,
    expired: count,
    released: count,
    failedSoldOut: count,
    averageHoldSeconds: z.number().min(0),
    expirationRate: rate,
    conversionRate: rate,
  }),
  utilization: rate,
  checkins: z.strictObject({
    admitted: count,
    duplicates: count,
    byGate: z.record(z.string(), count),
  }),
  queue: z
    .strictObject({
      waiting: count,
      admitted: count,
      passesUsed: count,
      admitPerMinute: count,
      oldestWaitSeconds: count,
    })
    .nullable(),
});

export const QueueEntry = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  status: z.enum(["waiting", "admitted", "expired"]),
  position: count,
  estimatedWaitSeconds: count,
  pollAfterSeconds: z.int().min(1),
  pass: z.string().optional(),
  passExpiresAt: iso.optional(),
  token: z.string().optional(),
});

export const Verify = z.strictObject({
  ok: z.boolean(),
  checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), detail: z.string() })),
});

export const Checkin = z.union([
  z.strictObject({
    result: z.literal("admitted"),
    ticket: Ticket,
    checkedInAt: iso,
    firstCheckedInAt: isoOrNull,
  }),
  z.strictObject({
    result: z.literal("exited"),
    ticket: Ticket,
    exitedAt: iso,
    firstCheckedInAt: isoOrNull,
  }),
]);

export const CheckinBatch = z.strictObject({
  results: z.array(
    z.strictObject({
      nonce: z.string(),
      result: z.enum(CHECKIN_RESULTS),
      conflict: z.boolean(),
      ticketId: z.string().optional(),
      firstCheckedInAt: iso.optional(),
    }),
  ),
});

export const CheckinList = z.strictObject({
  tickets: z.array(
    z.strictObject({
      id: z.string(),
      tierId: z.string(),
      seat: z.string().optional(),
      status: z.enum(TICKET_STATUSES),
      updatedAt: iso,
    }),
  ),
  nextCursor,
});

export const CheckinKeys = z.strictObject({
  keys: z.array(z.strictObject({ kid: z.string(), alg: z.literal("Ed25519"), publicKey: z.string() })),
});

export const Received = z.strictObject({ received: z.literal(true) });

export const Health = z.strictObject({ ok: z.literal(true) });

export const TierAttempts = z.strictObject({
  tierId: z.string(),
  peakPerSecond: count,
  perSecond: z.array(z.strictObject({ at: iso, attempts: count })),
});

export const WebhookEndpoint = z.strictObject({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  createdAt: iso,
  disabledAt: isoOrNull,
});

/** Only in the answer that created it: the signing secret, `whsec_` + base64 of 32 random bytes. */
export const NewWebhookEndpoint = WebhookEndpoint.extend({ secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{43}=$/) });

export const WebhookEndpointList = z.strictObject({ endpoints: z.array(WebhookEndpoint) });

export const WebhookDelivery = z.strictObject({
  id: z.string(),
  messageId: z.string(),
  type: z.enum(WEBHOOK_TYPES),
  status: z.enum(DELIVERY_STATUSES),
  attempts: count,
  lastStatus: z.int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: isoOrNull,
  createdAt: iso,
  deliveredAt: isoOrNull,
});

export const WebhookDeliveryPage = z.strictObject({ deliveries: z.array(WebhookDelivery), nextCursor });

/** One ticket e-mail (ours: the contract answers the resend `202` and says nothing of its body). */
export const TicketEmail = z.strictObject({
  id: z.string(),
  orderId: z.string(),
  to: z.string(),
  reason: z.enum(TICKET_EMAIL_REASONS),
  status: z.enum(TICKET_EMAIL_STATUSES),
  attempts: count,
  lastError: z.string().nullable(),
  createdAt: iso,
  sentAt: isoOrNull,
});

/** `GET /dev/mail` (simulator mode): the messages kept instead of sent, newest first. */
export const DevMailList = z.strictObject({
  messages: z.array(
    z.strictObject({
      id: z.string(),
      to: z.string(),
      subject: z.string(),
      text: z.string(),
      html: z.string(),
      sentAt: iso,
    }),
  ),
});

const RefundFailedData = z.strictObject({
  orderId: z.string(),
  eventId: z.string(),
  refundId: z.string(),
  amount: count,
  currency: z.string(),
  reason: z.string(),
});

const DisputeOpenedData = z.strictObject({
  orderId: z.string(),
  eventId: z.string(),
  disputeId: z.string(),
  amount: count,
  currency: z.string(),
  reason: z.string().nullable(),
});

const TierSoldOutData = z.strictObject({
  tierId: z.string(),
  eventId: z.string(),
  name: z.string(),
  capacity: count,
  sold: count,
});

const payload = (type: WebhookType, data: z.ZodType) => z.strictObject({ type: z.literal(type), timestamp: iso, data });

/** The body of a webhook of each type (docs/api.md, "Outgoing webhooks"): `{ type, timestamp, data }`. */
export const WEBHOOK_PAYLOADS: Readonly<Record<WebhookType, z.ZodType>> = {
  "order.paid": payload("order.paid", Order),
  "order.refunded": payload("order.refunded", Order),
  "order.partially_refunded": payload("order.partially_refunded", Order),
  "order.expired": payload("order.expired", Order),
  "order.canceled": payload("order.canceled", Order),
  "refund.failed": payload("refund.failed", RefundFailedData),
  "dispute.opened": payload("dispute.opened", DisputeOpenedData),
  "tier.sold_out": payload("tier.sold_out", TierSoldOutData),
};
