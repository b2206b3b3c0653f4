/**
 * Reservation to paid: one buyer's whole journey, timed end to end: reserve one ticket, check out,
 * Stripe's signed `checkout.session.completed` for its session (sent at once: no time on a payment
 * page), then one read of the order, which must be paid with its ticket. `--buyers` buyers in a
 * closed loop (each starts its next journey when the last ends), through Node's fetch. Each journey is
 * a buyer of its own, from a new address (common/clients.ts); the webhook comes from Stripe.
 */
import {
  CHECKOUT_BODY,
  type CheckoutAnswer,
  isPaid,
  type OrderView,
  paidWebhook,
  pendingOrder,
  type Reservation,
  reservationBody,
} from "../../common/buyers.ts";
import { clientHeader, nextAddress } from "../../common/clients.ts";
import { drive } from "../drive.ts";
import { benchEvent, type Scenario } from "../scenario.ts";

export const reservationToPaid: Scenario = {
  name: "reservation-to-paid",
  description:
    "one buyer's journey timed whole: POST reservation → POST checkout → signed webhook → GET order reads paid (1 ticket, one 1,000,000-ticket tier); --buyers concurrent buyers, closed loop",
  concurrency: "buyers",

  async prepare(ctx, phase) {
    const event = await benchEvent(ctx, "reservation-to-paid");
    const reserve = reservationBody(event);
    return {
      method: "POST",
      path: `/v1/events/${event.id}/reservations → /v1/reservations/:id/checkout → /v1/webhooks/stripe → GET /v1/orders/:id`,
      run: async () => {
        const { steps, failures, ...m } = await drive({
          baseUrl: ctx.baseUrl,
          concurrency: phase.connections,
          durationSeconds: phase.seconds,
          journey: async (step) => {
            const buyer = clientHeader(nextAddress("buyer"));
            const r = await step.call<Reservation>("reserve", "POST", `/v1/events/${event.id}/reservations`, {
              raw: reserve,
              headers: buyer,
              expect: 201,
            });
            const answer = await step.call<CheckoutAnswer>("checkout", "POST", `/v1/reservations/${r.id}/checkout`, {
              raw: CHECKOUT_BODY,
              token: r.token,
              headers: buyer,
              expect: 201,
            });
            const order = pendingOrder(answer);
            if (typeof order === "string") return step.fail(order);
            const { body, headers } = paidWebhook(ctx.webhookSecret, order);
            await step.call("webhook", "POST", "/v1/webhooks/stripe", { raw: body, headers, expect: 200 });
            const view = await step.call<OrderView>("read order", "GET", `/v1/orders/${order.orderId}`, {
              token: order.orderToken,
              headers: buyer,
              expect: 200,
            });
            if (!isPaid(view))
              step.fail(`order ${order.orderId} reads ${view.status} with ${view.tickets.length} tickets`);
          },
        });
        return { ...m, extra: { unit: "journeys", stepLatencyMs: steps, ...(failures.length ? { failures } : {}) } };
      },
    };
  },
};
