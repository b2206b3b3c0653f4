/**
 * The messages to the organiser's systems that a change writes with itself (API.md, "Webhooks to the
 * organiser's systems"; DESIGN.md decision 15): built synchronously inside the decision's transaction
 * (a tier object's outbox) or as a row of the D1 batch that records the change, never sent from there.
 * Their ids derive from what they report, so a change sent twice (an outbox retried, a decision asked
 * again) is one message, and a receiver dedupes by that id (`webhook-id`).
 *
 * What `data` holds (docs/api.md, "Outgoing webhooks"): for `order.*` the order as the change left it
 * (its Order body is built when the message is first sent, with the tickets as D1 then has them); for
 * the others the webhook's data itself.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type OrderRow, type TierRow, type WebhookMessageRow, type WebhookType, webhookMessages } from "./schema";

/** A message's id: the subject, what makes this change of it unique, the type. */
export const webhookMessageId = (subjectId: string, key: number | string, type: WebhookType) =>
  `msg_${subjectId}_${key}-${type}`;

function message(
  type: WebhookType,
  id: string,
  eventId: string,
  at: number,
  data: Record<string, unknown>,
): WebhookMessageRow {
  return { id, type, eventId, data, createdAt: at, payload: null, fannedOutAt: null };
}

/** The order statuses a message reports, by the type that reports them. */
const ORDER_TYPES: Partial<Record<OrderRow["status"], WebhookType>> = {
  paid: "order.paid",
  refunded: "order.refunded",
  partially_refunded: "order.partially_refunded",
  expired: "order.expired",
  canceled: "order.canceled",
};

/** The order as an `order.*` message carries it: all but the stored Checkout Session request and token hash. */
export type OrderSnapshot = Omit<OrderRow, "sessionParams" | "tokenHash">;

/** What an `order.*` message's `data` holds. */
export interface OrderMessageData {
  orderId: string;
  version: number;
  order: OrderSnapshot;
}

/**
 * The message an order's change writes, or null: one whenever the order moves to a status the contract
 * reports, and one for every refund recorded on it (`refund`: a second partial refund leaves the status
 * as it was, and a refund of free tickets the amount too).
 */
export function orderMessage(before: OrderRow, after: OrderRow, refund = false): WebhookMessageRow | null {
  const type = ORDER_TYPES[after.status];
  if (!type) return null;
  // A refund always reports (one of free tickets changes neither the status nor the amount).
  if (!refund && before.status === after.status && before.refundedAmount === after.refundedAmount) return null;
  const { sessionParams: _request, tokenHash: _hash, ...order } = after;
  const data: OrderMessageData = { orderId: after.id, version: after.version, order };
  return message(type, webhookMessageId(after.id, after.version, type), after.eventId, after.updatedAt, { ...data });
}

export interface RefundFailure {
  orderId: string;
  eventId: string;
  refundId: string;
  amount: number;
  currency: string;
  reason: string;
}

/** A refund the payment provider refused for good; `key` tells this failure apart (the refund's attempt). */
export function refundFailedMessage(f: RefundFailure, key: number | string, at: number): WebhookMessageRow {
  const { orderId, eventId, refundId, amount, currency, reason } = f;
  return message("refund.failed", webhookMessageId(refundId, key, "refund.failed"), eventId, at, {
    orderId,
    eventId,
    refundId,
    amount,
    currency,
    reason,
  });
}

export interface DisputeOpened {
  disputeId: string;
  amount: number;
  currency: string;
  reason: string | null;
}

export function disputeMessage(order: OrderRow, d: DisputeOpened, at: number): WebhookMessageRow {
  return message("dispute.opened", webhookMessageId(order.id, d.disputeId, "dispute.opened"), order.eventId, at, {
    orderId: order.id,
    eventId: order.eventId,
    disputeId: d.disputeId,
    amount: d.amount,
    currency: d.currency,
    reason: d.reason,
  });
}

/** The tier's sold count reached its capacity; `key` is what did it (the reservation sold, or the tier's version). */
export function soldOutMessage(tier: TierRow, sold: number, key: string | number, at: number): WebhookMessageRow {
  return message("tier.sold_out", webhookMessageId(tier.id, key, "tier.sold_out"), tier.eventId, at, {
    tierId: tier.id,
    eventId: tier.eventId,
    name: tier.name,
    capacity: tier.capacity,
    sold,
  });
}

/**
 * The insert of `row` (once) as a statement of the D1 batch that records its change, written only if
 * `condition` holds when the statement runs (the change took).
 */
export function insertMessageWhere(db: Db, row: WebhookMessageRow, condition: SQL) {
  // Every column, in the table's order (Drizzle inserts a select into all of them).
  return db
    .insert(webhookMessages)
    .select(
      sql`SELECT ${row.id}, ${row.type}, ${row.eventId}, ${JSON.stringify(row.data)}, ${row.createdAt}, NULL, NULL
          WHERE ${condition}`,
    )
    .onConflictDoNothing();
}
