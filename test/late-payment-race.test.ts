/**
 * Two concurrent deliveries of one late payment (Stripe duplicates / retries a slow webhook), modelled
 * as the interleaving of two `fulfil()` runs, step by step through the same RPCs fulfil() makes:
 *   A: lead.sell -> SOLD_OUT               (capacity taken by someone else)
 *   -- the other buyer releases its hold (capacity back)
 *   B: lead.sell -> ok (late re-take)      (tickets enqueued, sold++)
 *   A: lead.refusePayment                  (order canceled, refund queued and sent to Stripe)
 *   B: lead.completeOrder                  (order -> paid: nothing refuses a canceled/refunding order)
 * Fulfilment goes through a per-order claim at the lead, so the Worker never interleaves like this;
 * the lead's own decisions still refuse to end with both tickets and a refund.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { SYSTEM } from "../src/db/audit";
import { createDb } from "../src/db/client";
import { orders } from "../src/db/schema";
import { orderTickets } from "../src/domain/sales/tickets";
import { api, createEvent, reserve } from "./helpers";
import { checkedOutOrder, lapse, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

const tierObject = (tierId: string) => env.TIER_INVENTORY.getByName(tierId);

it("a late payment delivered twice concurrently never ends with both tickets and a refund", async () => {
  const event = await createEvent([{ capacity: 2, holdSeconds: 60 }]);
  const tierId = event.tiers[0]?.id as string;
  const { reservation: rsv, order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
  await lapse([tierId]);
  const other = (await reserve(event.id, [{ tierId, quantity: 2 }])).body; // capacity gone

  const row = await createDb(env.DB).select().from(orders).where(eq(orders.id, order.orderId)).get();
  if (!row) throw new Error("no order row");
  const tickets = (await orderTickets(env, row, Date.now())).get(tierId) ?? [];
  const lead = tierObject(tierId);

  // A: the lead refuses (sold out).
  const a = await lead.sell({ tierId, reservationId: rsv.id, tickets });
  expect(a.ok).toBe(false);
  // The other buyer lets go.
  expect((await api("DELETE", `/v1/reservations/${other.id}`, { token: other.token })).status).toBe(200);
  // B: the lead re-takes the capacity.
  const b = await lead.sell({ tierId, reservationId: rsv.id, tickets });
  expect(b.ok).toBe(true);
  // A: refuses the payment (refund queued and sent).
  await lead.refusePayment({
    tierId,
    orderId: order.orderId,
    paymentIntentId: session.payment_intent,
    amount: session.amount_total,
    currency: session.currency,
    reason: "late_payment",
    ctx: SYSTEM,
  });
  // B: marks the order paid.
  const completed = await lead.completeOrder({
    tierId,
    orderId: order.orderId,
    paymentIntentId: session.payment_intent,
    late: true,
    ctx: SYSTEM,
  });

  const refunds = stripe.calls.filter((c) => c.path === "/v1/refunds").length;
  const valid = await env.DB.prepare("SELECT COUNT(*) AS n FROM tickets WHERE order_id = ? AND status = 'valid'")
    .bind(order.orderId)
    .first<{ n: number }>();
  // The delivery that got the capacity wins: tickets, and no refund.
  expect(completed.ok).toBe(true);
  expect(refunds).toBe(0);
  expect(valid?.n).toBe(2);
  expect(await lead.selfCheck(tierId)).toMatchObject({ ok: true, sold: 2, held: 0 });
});
