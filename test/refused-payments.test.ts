import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refusedPaymentRefundId } from "../src/lib/secret-box";
import { deliver } from "./fake-stripe";
import { api, auditActions, availability, createEvent, reserve } from "./helpers";
import { chargeRefundedEvent, checkedOutOrder, completedEvent, lapse, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

const readOrder = async (order: { orderId: string; orderToken: string }) =>
  (await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body;

describe("a payment that does not match its order", () => {
  for (const [what, overrides, received] of [
    ["amount", { amount_total: 100 }, { amount: 100, currency: "eur" }],
    ["currency", { currency: "usd" }, { amount: 5000, currency: "usd" }],
  ] as const) {
    const refunded = received.amount;
    it(`(${what}) gets no tickets and is refunded in full, once, with the hold given back`, async () => {
      const event = await createEvent([{ capacity: 4, price: 2500 }]);
      const tierId = event.tiers[0]?.id as string;
      const { reservation, order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
      const paid = completedEvent(session, overrides);
      const results = await Promise.all([deliver(paid), deliver(paid)]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      await deliver(paid);

      const refunds = stripe.calls.filter((c) => c.path === "/v1/refunds");
      expect(refunds).toHaveLength(1);
      expect(refunds[0]?.idempotencyKey).toBe(`boxoffice-refund-${order.orderId}`);
      expect(refunds[0]?.params.get("payment_intent")).toBe(session.payment_intent);
      expect(refunds[0]?.params.get("amount")).toBe(String(refunded));
      expect(refunds[0]?.params.get("metadata[reason]")).toBe("payment_mismatch");
      expect(refunds[0]?.params.get("metadata[refundId]")).toBe(
        await refusedPaymentRefundId(env.APP_SECRET, order.orderId),
      );
      // refundedAmount counts the order's currency: a refund in another one is in the audit entry.
      const refundedAmount = received.currency === "eur" ? refunded : 0;
      expect(await readOrder(order)).toMatchObject({ status: "refunded", refundedAmount, tickets: [] });
      expect((await availability(event.id))[0]?.available).toBe(4);
      const held = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
      expect(held.body.status).toBe("released");

      const mismatch = await auditActions(event.id, "payment.mismatch");
      expect(mismatch).toHaveLength(1);
      expect(mismatch[0]?.data).toMatchObject({
        expected: { amount: 5000, currency: "eur" },
        received,
        outcome: "refund",
        amount: refunded,
      });
      const closed = await auditActions(event.id, "order.refunded");
      expect(closed).toHaveLength(1);
      expect(closed[0]?.data).toMatchObject({
        amount: refunded,
        currency: received.currency,
        reason: "payment_mismatch",
      });
      expect(await auditActions(event.id, "tickets.issued")).toHaveLength(0);

      // Stripe reports the refund back: it is recognised as ours.
      expect((await deliver(chargeRefundedEvent(session.payment_intent, refunded, refunded))).status).toBe(200);
      expect(await auditActions(event.id, "refund.unmatched")).toHaveLength(0);
      expect(await api("GET", `/v1/events/${event.id}/verify`, { token: "test-admin-token" })).toMatchObject({
        status: 200,
        body: { ok: true },
      });
    });
  }
});

describe("the refund of a late payment", () => {
  it("carries our refund id, so Stripe's charge.refunded for it is not audited as unmatched", async () => {
    const event = await createEvent([{ capacity: 2, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
    await lapse([tierId]);
    expect((await reserve(event.id, [{ tierId, quantity: 2 }])).status).toBe(201);
    expect((await deliver(completedEvent(session))).status).toBe(200);

    const [refund] = stripe.refunds;
    expect(refund?.metadata).toEqual({
      orderId: order.orderId,
      refundId: await refusedPaymentRefundId(env.APP_SECRET, order.orderId),
      reason: "late_payment",
    });
    expect((await deliver(chargeRefundedEvent(session.payment_intent, 5000, 5000))).status).toBe(200);
    expect(await auditActions(event.id, "refund.unmatched")).toHaveLength(0);
    expect(await readOrder(order)).toMatchObject({ status: "refunded", refundedAmount: 5000 });
  });
});
