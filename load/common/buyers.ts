/**
 * What the scenarios share about buyers: a reservation's and a checkout's bodies and answers, pending
 * orders (a reservation checked out), and Stripe's `checkout.session.completed` for an order, signed
 * as Stripe signs it, to pay them.
 */
import { createHmac, randomBytes } from "node:crypto";
import { clientHeader, nextAddress } from "./clients.ts";
import type { ScenarioContext } from "./context.ts";
import type { LoadEvent } from "./events.ts";

/** One ticket of the event's tier. */
export const reservationBody = (event: LoadEvent) => JSON.stringify({ items: [{ tierId: event.tierId, quantity: 1 }] });
export const TICKETS_PER_ORDER = 1;
export const CHECKOUT_BODY = JSON.stringify({ email: "bench@example.com" });

export interface Reservation {
  id: string;
  token: string;
}

export interface CheckoutAnswer {
  orderId: string;
  orderToken: string;
  status: string;
  stripeSessionId: string | null;
  amount: number;
  currency: string;
}

export interface PendingOrder {
  orderId: string;
  orderToken: string;
  sessionId: string;
  amount: number;
  currency: string;
}

export interface OrderView {
  status: string;
  tickets: unknown[];
}

/** Checks a checkout's answer: an order waiting for its payment, with its Checkout Session. */
export function pendingOrder(answer: CheckoutAnswer): PendingOrder | string {
  if (answer.status !== "pending_payment" || !answer.stripeSessionId) {
    return `checkout answered status ${answer.status}, session ${answer.stripeSessionId}`;
  }
  return {
    orderId: answer.orderId,
    orderToken: answer.orderToken,
    sessionId: answer.stripeSessionId,
    amount: answer.amount,
    currency: answer.currency,
  };
}

/**
 * `n` pending orders of one ticket each (reserve, then check out), `concurrency` buyers at a time,
 * each order a buyer of its own (a new address: a pending order still holds its ticket).
 */
export async function pendingOrders(
  ctx: ScenarioContext,
  event: LoadEvent,
  n: number,
  concurrency: number,
): Promise<PendingOrder[]> {
  const orders: PendingOrder[] = [];
  let inFlight = 0;
  let failed = false;
  const buyer = async () => {
    while (!failed && orders.length + inFlight < n) {
      inFlight++;
      try {
        const headers = clientHeader(nextAddress("buyer"));
        const r = await ctx.api<Reservation>("POST", `/v1/events/${event.id}/reservations`, undefined, {
          raw: reservationBody(event),
          headers,
          expect: 201,
        });
        const answer = await ctx.api<CheckoutAnswer>("POST", `/v1/reservations/${r.id}/checkout`, undefined, {
          raw: CHECKOUT_BODY,
          token: r.token,
          headers,
          expect: 201,
        });
        const order = pendingOrder(answer);
        if (typeof order === "string") throw new Error(order);
        orders.push(order);
      } catch (error) {
        // The other buyers stop too rather than go on in the background.
        failed = true;
        throw error;
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, buyer));
  return orders;
}

/** Stripe's `Stripe-Signature`: `t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the webhook secret>`. */
export function stripeSignature(secret: string, payload: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac("sha256", secret).update(`${at}.${payload}`).digest("hex")}`;
}

/**
 * The webhook Stripe sends once an order's Checkout Session is paid: a new event id every time (a
 * repeated one is deduplicated), signed now (Stripe's tolerance is 300 s).
 */
export function paidWebhook(secret: string, order: PendingOrder): { body: string; headers: Record<string, string> } {
  const created = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: `evt_bench_${randomBytes(12).toString("hex")}`,
    object: "event",
    type: "checkout.session.completed",
    created,
    data: {
      object: {
        id: order.sessionId,
        object: "checkout.session",
        payment_status: "paid",
        status: "complete",
        amount_total: order.amount,
        currency: order.currency,
        client_reference_id: order.orderId,
        metadata: { orderId: order.orderId },
        payment_intent: `pi_bench_${randomBytes(8).toString("hex")}`,
      },
    },
  });
  return {
    body,
    headers: { "Content-Type": "application/json", "Stripe-Signature": stripeSignature(secret, body, created) },
  };
}

/** Pays `orders` with signed webhooks, off the clock, `concurrency` at a time (to seed an event). */
export async function payOrders(ctx: ScenarioContext, orders: PendingOrder[], concurrency = 16): Promise<void> {
  let next = 0;
  const payer = async () => {
    for (let i = next++; i < orders.length; i = next++) {
      const order = orders[i] as PendingOrder;
      const { body, headers } = paidWebhook(ctx.webhookSecret, order);
      await ctx.api("POST", "/v1/webhooks/stripe", undefined, { raw: body, headers, expect: 200 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, payer));
}

/** Whether the order reads paid with its tickets. */
export function isPaid(view: OrderView): boolean {
  return view.status === "paid" && view.tickets.length === TICKETS_PER_ORDER;
}
