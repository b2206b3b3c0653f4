/**
 * The Stripe Checkout Session of an order, as one request fixed when the order opens. It is stored
 * on the order and sent as stored on every attempt, under the order's idempotency key: Stripe refuses
 * a key replayed with other parameters, so a retry after a lost answer must be byte-identical to
 * converge on the session Stripe already made (docs/api.md, Payments).
 */
import type { EventRow, OrderItem, TierRow } from "../../db/schema";
import type { CheckoutInput } from "../../schemas/orders";
import type { Stripe } from "../../stripe/client";

/**
 * Stripe refuses a session that expires less than 30 minutes after it is created. A request Stripe
 * never ran (a 429, a connection that failed before it) has no stored answer, so a retry is a new
 * request: the session expires 31 minutes after the hold does, which leaves a retry made any time
 * while the hold lives its 30 minutes. (A lapsed hold expires the session through Stripe's API.)
 */
const SESSION_MINIMUM_MS = 31 * 60 * 1000;

type CheckoutSessionParams = Stripe.Checkout.SessionCreateParams;

export const checkoutIdempotencyKey = (orderId: string) => `boxoffice-checkout-session-${orderId}`;

interface SessionSubject {
  orderId: string;
  reservationId: string;
  email: string;
  currency: string;
  items: OrderItem[];
  event: Pick<EventRow, "id" | "name">;
  tierNames: Map<string, TierRow["name"]>;
  /** When the hold lapses: the session stays open at least until then. */
  holdExpiresAt: number;
  now: number;
}

/** The session request, as the JSON stored on the order. */
export function sessionParams(
  s: SessionSubject,
  input: Pick<CheckoutInput, "successUrl" | "cancelUrl">,
  origin: string,
): string {
  const params: CheckoutSessionParams = {
    mode: "payment",
    client_reference_id: s.orderId,
    metadata: { orderId: s.orderId, reservationId: s.reservationId, eventId: s.event.id },
    payment_intent_data: { metadata: { orderId: s.orderId } },
    customer_email: s.email,
    line_items: s.items.map((item) => ({
      quantity: item.quantity,
      price_data: {
        currency: s.currency,
        unit_amount: item.unitPrice,
        product_data: {
          name: `${s.event.name}: ${s.tierNames.get(item.tierId) ?? item.tierId}`,
          ...(item.seats ? { description: `Seats ${item.seats.join(", ")}` } : {}),
        },
      },
    })),
    expires_at: Math.ceil((Math.max(s.now, s.holdExpiresAt) + SESSION_MINIMUM_MS) / 1000),
    success_url: input.successUrl ?? `${origin}/checkout/complete?order=${s.orderId}`,
    cancel_url: input.cancelUrl ?? `${origin}/checkout/canceled?reservation=${s.reservationId}`,
  };
  return JSON.stringify(params);
}

export const storedSessionParams = (json: string) => JSON.parse(json) as CheckoutSessionParams;
