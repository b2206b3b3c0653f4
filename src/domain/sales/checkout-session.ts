/**
 * The Stripe Checkout Session of an order, as one request fixed when the order opens. It is stored
 * on the order and sent as stored on every attempt, under the order's idempotency key: Stripe refuses
 * a key replayed with other parameters, so a retry after a lost answer must be byte-identical to
 * converge on the session Stripe already made (docs/api.md, Payments).
 */
import type { EventRow, OrderItem, TierRow } from "../../db/schema";
import type { CheckoutInput } from "../../schemas/orders";
import type { Stripe } from "../../stripe/client";

/** Stripe keeps a Checkout Session open at least 30 minutes; ours asks for a little more. */
const SESSION_MINIMUM_MS = 31 * 60 * 1000;

type CheckoutSessionParams = Stripe.Checkout.SessionCreateParams;

export const checkoutIdempotencyKey = (orderId: string) => `boxoffice-checkout-session-${orderId}`;

export interface SessionSubject {
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
    expires_at: Math.ceil(Math.max(s.now + SESSION_MINIMUM_MS, s.holdExpiresAt) / 1000),
    success_url: input.successUrl ?? `${origin}/checkout/complete?order=${s.orderId}`,
    cancel_url: input.cancelUrl ?? `${origin}/checkout/canceled?reservation=${s.reservationId}`,
  };
  return JSON.stringify(params);
}

export const storedSessionParams = (json: string) => JSON.parse(json) as CheckoutSessionParams;
