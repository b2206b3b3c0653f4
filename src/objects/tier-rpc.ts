/**
 * The contract between the Worker and a TierInventory object. Refusals are returned as values (an
 * exception crossing RPC loses its type); the Worker turns them into API errors.
 */

import type { RequestContext } from "../db/audit";
import type { OrderRow, ReservationRow, TicketRow, TierRow } from "../db/schema";
import type { TierPatch } from "../schemas/events";
import type { RefusalReason } from "./stripe-tasks";

export type Refusal =
  | { ok: false; code: "NOT_FOUND"; detail: string }
  | { ok: false; code: "SALES_CLOSED"; detail: string; tierId: string }
  | { ok: false; code: "TOO_MANY_TICKETS"; detail: string; tierId: string; limit: number }
  | { ok: false; code: "SOLD_OUT"; detail: string; tierId: string; available: number }
  | { ok: false; code: "SEAT_UNAVAILABLE"; detail: string; tierId: string; seats: string[] }
  | { ok: false; code: "INVALID_INPUT"; detail: string; errors: { path: string; message: string }[] }
  | { ok: false; code: "RESERVATION_EXPIRED"; detail: string }
  | { ok: false; code: "RESERVATION_NOT_ACTIVE"; detail: string; reservationStatus: string }
  | { ok: false; code: "RESERVATION_NOT_ACTIVE"; detail: string; orderStatus: string }
  | { ok: false; code: "EXTENSION_LIMIT"; detail: string }
  | { ok: false; code: "CAPACITY_BELOW_COMMITTED"; detail: string; tierId: string; committed: number };

export type Result<T> = ({ ok: true } & T) | Refusal;

/** The reservation-wide fields the Worker decides; the lead object completes them into a header. */
export interface HeaderInit {
  id: string;
  eventId: string;
  leadTierId: string;
  sessionId: string | null;
  tokenHash: string;
  items: ReservationRow["items"];
}

/** Hold lifetime terms: a reservation across tiers takes the strictest of its tiers. */
export interface HoldTerms {
  holdSeconds: number;
  maxExtensions: number;
  extensionSeconds: number;
}

export interface HoldRequest {
  tierId: string;
  eventId: string;
  reservationId: string;
  leadTierId: string;
  /** For a seated tier, the seats; otherwise (or for "best available" seats) the quantity. */
  quantity: number;
  seats?: string[];
  /**
   * A single-tier reservation is held and activated in one step (`header` given). A part of a
   * multi-tier reservation is held `pending` and activated once every tier has said yes.
   */
  header: HeaderInit | null;
  ctx: RequestContext;
}

export interface HeldPart {
  quantity: number;
  seats: string[] | null;
  terms: HoldTerms;
  /** The reservation header when this object leads it and it is active. */
  reservation: ReservationRow | null;
}

export interface ActivateRequest {
  tierId: string;
  reservationId: string;
  expiresAt: number;
  /** Only for the lead tier. */
  header: (HeaderInit & { terms: HoldTerms }) | null;
  ctx: RequestContext;
}

/** What a lead object decided about a reservation, for the other tiers to follow. */
export interface LeadDecision {
  reservationId: string;
  status: "active" | "released" | "expired";
  expiresAt: number;
}

export interface SeatState {
  label: string;
  status: "available" | "held" | "sold";
}

export interface TierSnapshot {
  tier: TierRow;
  currency: string;
  held: number;
  sold: number;
  available: number;
  seats: SeatState[] | null;
  now: number;
  /** Names this state of the tier: the same version is the same snapshot (but for `now`). */
  version: string;
}

/** `snapshot(tierId, seen)` when nothing has changed since the snapshot of version `seen`. */
export interface UnchangedSnapshot {
  unchanged: true;
  version: string;
  now: number;
}

export interface UpdateTierRequest {
  tierId: string;
  patch: TierPatch;
  ctx: RequestContext;
}

/** What the Worker decides about an order; the lead tier completes it into the order record. */
export type OrderInit = Pick<
  OrderRow,
  "id" | "email" | "name" | "amount" | "currency" | "items" | "tokenHash" | "sessionParams"
>;

export interface CheckoutRequest {
  tierId: string;
  reservationId: string;
  order: OrderInit;
  ctx: RequestContext;
}

export interface SellRequest {
  tierId: string;
  reservationId: string;
  /** This tier's tickets of the order, with their ids and signed codes (deterministic). */
  tickets: TicketRow[];
}

/** An order of one tier: its tickets (ids and signed codes, deterministic) and the payment. */
export interface FulfilAloneRequest {
  tierId: string;
  orderId: string;
  tickets: TicketRow[];
  paymentIntentId: string | null;
  ctx: RequestContext;
}

export interface RefusePaymentRequest {
  tierId: string;
  orderId: string;
  /** Null when nothing was charged (then there is nothing to refund). */
  paymentIntentId: string | null;
  /** What the buyer paid, to be refunded in full, in the payment's currency. */
  amount: number;
  currency: string;
  reason: RefusalReason;
  /** What Stripe reported, for a payment that does not match the order. */
  received?: { amount: number | null; currency: string | null };
  ctx: RequestContext;
}

export interface CompleteRequest {
  tierId: string;
  orderId: string;
  paymentIntentId: string | null;
  /** Whether any tier had to take its capacity again because the hold had lapsed. */
  late: boolean;
  ctx: RequestContext;
}

export interface RefundTicketsRequest {
  tierId: string;
  reservationId: string;
  refundId: string;
  /** This tier's tickets of the refund. */
  tickets: { id: string; seat: string | null }[];
}

export interface RecordRefundRequest {
  tierId: string;
  orderId: string;
  refundId: string;
  amount: number;
  ticketIds: string[];
  stripeRefundId: string | null;
  reason: string | null;
  source: "api" | "stripe";
  ctx: RequestContext;
}

export interface DisputeRequest {
  tierId: string;
  orderId: string;
  disputeId: string;
  reason: string | null;
  amount: number;
  currency: string;
}
