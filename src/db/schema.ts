import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The D1 schema. Times are epoch milliseconds (integers) so that comparisons and ordering are exact;
 * the API renders them as ISO 8601 strings.
 *
 * Tier rows are written once by event/tier creation; after that the tier's Durable Object owns the
 * tier and writes every change back here through its outbox (guarded by `version`).
 */

export const events = sqliteTable("events", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  startsAt: integer("starts_at").notNull(),
  endsAt: integer("ends_at"),
  timezone: text("timezone").notNull(),
  currency: text("currency").notNull(),
  maxTicketsPerOrder: integer("max_tickets_per_order").notNull(),
  /** Tickets one client (its `CF-Connecting-IP`) may hold in this event's live reservations at once. */
  maxHeldPerClient: integer("max_held_per_client").notNull().default(20),
  /** The drop queue, while the event sells through one (`null`: no queue). */
  queue: text("queue", { mode: "json" }).$type<StoredQueue>(),
  createdAt: integer("created_at").notNull(),
});

/**
 * An event's queue as stored: the organiser's settings, plus what fixes its shards: `generation` (when
 * this queue was set; a queue removed and set again is a new one, with new shards) and `shards`.
 */
export interface StoredQueue {
  opensAt: number;
  admitPerMinute: number;
  passSeconds: number;
  passReservations: number;
  generation: number;
  shards: number;
}

export const tiers = sqliteTable(
  "tiers",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    price: integer("price").notNull(),
    kind: text("kind", { enum: ["general_admission", "seated"] }).notNull(),
    capacity: integer("capacity").notNull(),
    /** JSON array of seat labels, in seat order; null for general admission. */
    seats: text("seats", { mode: "json" }).$type<string[]>(),
    maxPerOrder: integer("max_per_order").notNull(),
    salesStartAt: integer("sales_start_at"),
    salesEndAt: integer("sales_end_at"),
    holdSeconds: integer("hold_seconds").notNull(),
    maxExtensions: integer("max_extensions").notNull(),
    extensionSeconds: integer("extension_seconds").notNull(),
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("tiers_event_idx").on(t.eventId, t.position)],
);

export const reservations = sqliteTable(
  "reservations",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    /** The tier whose object keeps the reservation's header (status, expiry, extensions, token). */
    leadTierId: text("lead_tier_id").notNull(),
    sessionId: text("session_id"),
    tokenHash: text("token_hash").notNull(),
    status: text("status", { enum: ["active", "checkout", "completed", "released", "expired"] }).notNull(),
    items: text("items", { mode: "json" }).notNull().$type<ReservationItem[]>(),
    expiresAt: integer("expires_at").notNull(),
    extensionsUsed: integer("extensions_used").notNull(),
    maxExtensions: integer("max_extensions").notNull(),
    extensionSeconds: integer("extension_seconds").notNull(),
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("reservations_event_idx").on(t.eventId, t.createdAt), index("reservations_token_idx").on(t.tokenHash)],
);

export interface ReservationItem {
  tierId: string;
  quantity: number;
  seats?: string[];
}

/**
 * One row per (event, sessionId): the reservation that currently owns the session. Claimed with an
 * atomic insert before any capacity is held, so two racing requests of one session cannot both win.
 */
export const sessionClaims = sqliteTable(
  "session_claims",
  {
    eventId: text("event_id").notNull(),
    sessionId: text("session_id").notNull(),
    reservationId: text("reservation_id").notNull(),
    claimedAt: integer("claimed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.sessionId] })],
);

/**
 * The tickets each client holds, one row per reservation, claimed with one conditional insert before
 * any capacity is held (so a client's racing requests cannot together pass its limit). A row counts
 * while its reservation still holds (by the reservation's own row), or, before that row exists, for
 * `IN_FLIGHT_MS` (a request still running, or one that crashed: then the claim lapses by itself).
 */
export const clientHolds = sqliteTable(
  "client_holds",
  {
    reservationId: text("reservation_id").primaryKey(),
    eventId: text("event_id").notNull(),
    client: text("client").notNull(),
    quantity: integer("quantity").notNull(),
    claimedAt: integer("claimed_at").notNull(),
  },
  (t) => [index("client_holds_client_idx").on(t.eventId, t.client)],
);

/**
 * The reservations made with each admission pass (a queue entry's), claimed like `client_holds`: a
 * pass allows at most its `passReservations` created reservations, one holding at a time.
 */
export const passClaims = sqliteTable(
  "pass_claims",
  {
    reservationId: text("reservation_id").primaryKey(),
    entryId: text("entry_id").notNull(),
    eventId: text("event_id").notNull(),
    claimedAt: integer("claimed_at").notNull(),
  },
  (t) => [index("pass_claims_entry_idx").on(t.entryId)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    /** Deterministic where the entry comes from an outbox, so a re-sent entry is written once. */
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    at: integer("at").notNull(),
    action: text("action").notNull(),
    actorType: text("actor_type", { enum: ["organiser", "buyer", "scanner", "stripe", "system"] }).notNull(),
    actorId: text("actor_id"),
    subjectType: text("subject_type").notNull(),
    subjectId: text("subject_id").notNull(),
    data: text("data", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
  },
  (t) => [
    index("audit_event_at_idx").on(t.eventId, t.at, t.id),
    index("audit_event_action_at_idx").on(t.eventId, t.action, t.at, t.id),
  ],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    /** Hash of (credential scope, route, key). */
    scopeKey: text("scope_key").primaryKey(),
    requestHash: text("request_hash").notNull(),
    state: text("state", { enum: ["running", "done"] }).notNull(),
    /** A running request whose lock has passed is presumed dead; a retry may take the key over. */
    lockedUntil: integer("locked_until").notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    responseContentType: text("response_content_type"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("idempotency_created_idx").on(t.createdAt)],
);

export interface OrderItem extends ReservationItem {
  /** The tier's price when the order was made, in minor units. */
  unitPrice: number;
}

export const ORDER_STATUSES = [
  "pending_payment",
  "paid",
  "refunded",
  "partially_refunded",
  "expired",
  "canceled",
] as const;

/** Written by the lead tier's object through its outbox; that object decides every status change. */
export const orders = sqliteTable(
  "orders",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    reservationId: text("reservation_id").notNull(),
    leadTierId: text("lead_tier_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    email: text("email").notNull(),
    name: text("name"),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    items: text("items", { mode: "json" }).notNull().$type<OrderItem[]>(),
    tokenHash: text("token_hash").notNull(),
    stripeSessionId: text("stripe_session_id"),
    checkoutUrl: text("checkout_url"),
    /**
     * The Checkout Session request (JSON of `CheckoutSessionParams`), fixed when the order opens:
     * every retry sends exactly these parameters under the order's idempotency key, so Stripe answers
     * them with the same session. Null for a free order (no session).
     */
    sessionParams: text("session_params"),
    paymentIntentId: text("payment_intent_id"),
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    paidAt: integer("paid_at"),
    /** Minor units given back so far (refunds of some or all of its tickets). */
    refundedAmount: integer("refunded_amount").notNull().default(0),
    /** Set when the buyer's bank opened a dispute (`charge.dispute.created`). */
    disputeId: text("dispute_id"),
    disputedAt: integer("disputed_at"),
  },
  (t) => [
    uniqueIndex("orders_reservation_idx").on(t.reservationId),
    index("orders_event_idx").on(t.eventId, t.createdAt),
    index("orders_token_idx").on(t.tokenHash),
    index("orders_session_idx").on(t.stripeSessionId),
    index("orders_payment_intent_idx").on(t.paymentIntentId),
    index("orders_event_status_idx").on(t.eventId, t.status, t.createdAt),
  ],
);

export const TICKET_STATUSES = ["valid", "checked_in", "void"] as const;

/** Written by each tier's object when it sells its part of an order; ids derive from the order. */
export const tickets = sqliteTable(
  "tickets",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    eventId: text("event_id").notNull(),
    tierId: text("tier_id").notNull(),
    seat: text("seat"),
    code: text("code").notNull(),
    /** `checked_in` while the holder is inside; back to `valid` after an exit. */
    status: text("status", { enum: TICKET_STATUSES }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** The first admission ever (kept through exits). */
    firstCheckedInAt: integer("first_checked_in_at"),
    /** The admission in effect while inside: when, at which gate, by which scanner. */
    checkedInAt: integer("checked_in_at"),
    checkinGate: text("checkin_gate"),
    checkinScannerId: text("checkin_scanner_id"),
    /** Changes with every recorded scan: the compare-and-set token of check-in writes. */
    lastScanId: text("last_scan_id"),
  },
  (t) => [
    uniqueIndex("tickets_code_idx").on(t.code),
    index("tickets_order_idx").on(t.orderId),
    index("tickets_event_updated_idx").on(t.eventId, t.updatedAt, t.id),
  ],
);

/** A door device of one event. Its token is shown once and kept only as a hash; revoking is immediate. */
export const scanners = sqliteTable(
  "scanners",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    name: text("name").notNull(),
    /** The gate recorded for its scans when a scan names none. */
    gate: text("gate"),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("scanners_event_idx").on(t.eventId, t.createdAt)],
);

export const CHECKIN_RESULTS = ["admitted", "exited", "duplicate", "invalid", "void", "wrong_event"] as const;
export type CheckinResult = (typeof CHECKIN_RESULTS)[number];

/**
 * Every scan a scanner reported, online or from an offline batch: the door's movement log. A
 * ticket's state is the replay of its scans in `scannedAt` order (src/domain/checkin-timeline.ts).
 */
export const checkins = sqliteTable(
  "checkins",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    /** Null only for a code that does not verify. */
    ticketId: text("ticket_id"),
    scannerId: text("scanner_id").notNull(),
    /** The device's id for an offline scan (processed once per scanner); null online. */
    nonce: text("nonce"),
    offline: integer("offline", { mode: "boolean" }).notNull(),
    direction: text("direction", { enum: ["in", "out"] }).notNull(),
    gate: text("gate"),
    scannedAt: integer("scanned_at").notNull(),
    recordedAt: integer("recorded_at").notNull(),
    /** Order among the scans of one request with the same `scannedAt`. */
    position: integer("position").notNull(),
    /** What the scanner was answered (a replayed nonce gets the same). */
    result: text("result", { enum: CHECKIN_RESULTS }).notNull(),
    conflict: integer("conflict", { mode: "boolean" }).notNull(),
    firstCheckedInAt: integer("first_checked_in_at"),
    /**
     * Someone was let in whom online rules refuse, judged with every scan known so far: an offline
     * admission of a ticket already inside, or an earlier admission that a late upload showed to be the
     * second one. Unlike `conflict`, it can change when scans arrive late.
     */
    flagged: integer("flagged", { mode: "boolean" }).notNull(),
  },
  (t) => [
    uniqueIndex("checkins_nonce_idx").on(t.scannerId, t.nonce),
    index("checkins_ticket_idx").on(t.ticketId, t.scannedAt),
    index("checkins_event_idx").on(t.eventId, t.result, t.gate),
  ],
);

export const REFUND_STATUSES = ["pending", "succeeded", "failed"] as const;

/**
 * Money given back for some tickets of an order. Written by the Worker: claimed (`pending`) before
 * Stripe is asked, then `succeeded` (its tickets void, their capacity returned) or `failed`. The id
 * derives from the order and the ticket set, so asking twice for the same refund is one refund.
 */
export const refunds = sqliteTable(
  "refunds",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    eventId: text("event_id").notNull(),
    ticketIds: text("ticket_ids", { mode: "json" }).notNull().$type<string[]>(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    reason: text("reason"),
    status: text("status", { enum: REFUND_STATUSES }).notNull(),
    /** `api`: asked of this service; `stripe`: made in Stripe's dashboard, learnt from `charge.refunded`. */
    source: text("source", { enum: ["api", "stripe"] }).notNull(),
    stripeRefundId: text("stripe_refund_id"),
    failureReason: text("failure_reason"),
    /** Failed attempts so far: each new attempt asks Stripe with a new idempotency key. */
    attempts: integer("attempts").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("refunds_order_idx").on(t.orderId), index("refunds_event_idx").on(t.eventId, t.createdAt)],
);

/** Which refund a ticket belongs to: one live (pending or succeeded) refund per ticket. */
export const refundTickets = sqliteTable("refund_tickets", {
  ticketId: text("ticket_id").primaryKey(),
  refundId: text("refund_id").notNull(),
});

/** Stripe events seen, by Stripe's event id: a redelivered event is recognised and not processed again. */
export const webhookEvents = sqliteTable("webhook_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at").notNull(),
  processedAt: integer("processed_at"),
});

/** The types of the messages sent to the organiser's systems (API.md, "Webhooks to the organiser's systems"). */
export const WEBHOOK_TYPES = [
  "order.paid",
  "order.refunded",
  "order.partially_refunded",
  "order.expired",
  "order.canceled",
  "refund.failed",
  "dispute.opened",
  "tier.sold_out",
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/**
 * Where the organiser's systems want webhooks. The signing secret is kept sealed with APP_SECRET
 * (src/lib/secret-box.ts) and shown once, at creation. A deleted endpoint keeps its row (its deliveries
 * name it) but is gone to the API and gets nothing more; a disabled one is listed with `disabledAt`.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    /** The message types it wants; `["*"]` for all. */
    events: text("events", { mode: "json" }).notNull().$type<string[]>(),
    description: text("description"),
    secretSealed: text("secret_sealed").notNull(),
    createdAt: integer("created_at").notNull(),
    disabledAt: integer("disabled_at"),
    deletedAt: integer("deleted_at"),
    /** The first failed attempt since the last delivered one; null while deliveries go through (the 5-day rule). */
    failingSince: integer("failing_since"),
  },
  (t) => [index("webhook_endpoints_created_idx").on(t.createdAt, t.id)],
);

/**
 * One message per change reported, written in the same transaction as the change (a tier object's
 * outbox, or the D1 batch that records it) under a deterministic id, so a change sent twice is one
 * message. `data` is what the change said: the webhook's data, or for `order.*` the order as the change
 * left it (src/db/webhook-messages.ts). `payload` is the body every delivery and attempt of it sends,
 * fixed the first time the message is fanned out (`fannedOutAt`).
 */
export const webhookMessages = sqliteTable(
  "webhook_messages",
  {
    id: text("id").primaryKey(),
    type: text("type", { enum: WEBHOOK_TYPES }).notNull(),
    eventId: text("event_id").notNull(),
    data: text("data", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    createdAt: integer("created_at").notNull(),
    payload: text("payload"),
    fannedOutAt: integer("fanned_out_at"),
  },
  (t) => [index("webhook_messages_fan_out_idx").on(t.fannedOutAt, t.createdAt)],
);

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

/** One message to one endpoint: every attempt counted, retried on the contract's schedule. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id").notNull(),
    messageId: text("message_id").notNull(),
    type: text("type", { enum: WEBHOOK_TYPES }).notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    /** When the next attempt is due (while pending); an attempt in flight holds it a lease ahead. */
    nextAttemptAt: integer("next_attempt_at"),
    /**
     * Which queue message carries the delivery: a retry asked through the API starts a new one, and a
     * queue message of an older chain finds it changed and stops.
     */
    chain: integer("chain").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_message_idx").on(t.endpointId, t.messageId),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt, t.id),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_message_idx").on(t.messageId),
  ],
);

export const TICKET_EMAIL_STATUSES = ["pending", "sent", "failed"] as const;
/** Why a ticket e-mail is sent: its order was paid, or someone asked for it again. */
export const TICKET_EMAIL_REASONS = ["paid", "resend"] as const;

/**
 * The ticket e-mails (docs/api.md, "E-mail"): one row per message to send, under a deterministic id
 * (`eml_<orderId>_paid` for the one a payment sends, so a payment reported twice is one e-mail), its
 * attempts counted here and retried with backoff from the mail queue (src/domain/mail/). The message
 * itself is not kept: it is composed from the order at each attempt, its link's token recomputed then.
 */
export const ticketEmails = sqliteTable(
  "ticket_emails",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    eventId: text("event_id").notNull(),
    reason: text("reason", { enum: TICKET_EMAIL_REASONS }).notNull(),
    recipient: text("recipient").notNull(),
    /** Who asked for a resend (`organiser` or `buyer`); `system` for the one a payment sends. */
    requestedBy: text("requested_by", { enum: ["organiser", "buyer", "system"] }).notNull(),
    status: text("status", { enum: TICKET_EMAIL_STATUSES }).notNull(),
    attempts: integer("attempts").notNull(),
    lastError: text("last_error"),
    /** When the next attempt is due (while pending); an attempt in flight holds it a lease ahead. */
    nextAttemptAt: integer("next_attempt_at"),
    /** The sender's id of the message sent (the binding's `messageId`, or the simulator's). */
    messageId: text("message_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("ticket_emails_order_idx").on(t.orderId, t.createdAt),
    index("ticket_emails_due_idx").on(t.status, t.nextAttemptAt),
  ],
);

/**
 * What the mail simulator "sent" (MAIL_MODE=simulator only, `npm start` and the tests): each message as
 * it would have left, for `GET /dev/mail`. Never written in live mode, where messages carry the buyer's
 * link only to the buyer.
 */
export const simulatedMail = sqliteTable(
  "simulated_mail",
  {
    /** The ticket e-mail's id: a message stored twice (a retried attempt) is kept once. */
    id: text("id").primaryKey(),
    recipient: text("recipient").notNull(),
    sender: text("sender").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html").notNull(),
    sentAt: integer("sent_at").notNull(),
  },
  (t) => [index("simulated_mail_sent_idx").on(t.sentAt, t.id)],
);

export type EventRow = typeof events.$inferSelect;
export type TierRow = typeof tiers.$inferSelect;
export type ReservationRow = typeof reservations.$inferSelect;
export type AuditRow = typeof auditLog.$inferInsert;
export type OrderRow = typeof orders.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
export type ScannerRow = typeof scanners.$inferSelect;
export type CheckinRow = typeof checkins.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookMessageRow = typeof webhookMessages.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type TicketEmailRow = typeof ticketEmails.$inferSelect;
export type SimulatedMailRow = typeof simulatedMail.$inferSelect;
