/**
 * Each change the contract reports produces its webhook type with its data (docs/api.md, "Outgoing
 * webhooks"): refunds (partial, then the rest), expiry (a lapsed hold, an expired Checkout Session),
 * cancellation, a late payment's refund, refunds Stripe refuses, disputes, and a tier selling out.
 */
import { describe, expect, it } from "vitest";
import type { WebhookType } from "../src/db/schema";
import { WEBHOOK_PAYLOADS } from "../src/routes/bodies";
import { deliver, stripeEvent } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";
import { checkedOutOrder, completedEvent, lapse, useFakeStripe } from "./payments";
import { useReceiver } from "./receiver";
import { useWebhookQueue } from "./webhook-queue";
import { newEndpoint, useOwnEndpoints, type Webhook, webhooksAt } from "./webhooks";

const stripe = useFakeStripe();
const queue = useWebhookQueue();
const receiver = useReceiver();
useOwnEndpoints();

const admin = { token: ADMIN_TOKEN };
const readOrder = async (orderId: string) => (await api("GET", `/v1/orders/${orderId}`, admin)).body;

/** The webhooks that reached the endpoint, each checked against its type's schema. */
async function arrived(endpoint: { url: string }): Promise<Webhook[]> {
  await queue.drain();
  const hooks = webhooksAt(receiver.received, endpoint);
  for (const h of hooks) {
    const parsed = WEBHOOK_PAYLOADS[h.type as WebhookType].safeParse(JSON.parse(h.received.body));
    expect(parsed.success, `${h.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  }
  return hooks;
}

const types = (hooks: Webhook[]) => hooks.map((h) => h.type);
const byType = (hooks: Webhook[], type: string) => hooks.find((h) => h.type === type)?.data;

async function paid(capacity: number, quantity: number) {
  const event = await createEvent([{ capacity, price: 2500 }]);
  const tierId = event.tiers[0]?.id as string;
  const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity }]);
  expect((await deliver(completedEvent(session))).status).toBe(200);
  // Delivered before what the test does next: webhooks come in no guaranteed order otherwise.
  await queue.drain();
  return { event, tierId, orderId: order.orderId as string, session };
}

describe("refunds", () => {
  it("a partial refund is order.partially_refunded, the rest order.refunded; data is the Order as it then reads", async () => {
    const endpoint = await newEndpoint();
    const { orderId } = await paid(10, 3);
    const tickets = (await readOrder(orderId)).tickets as { id: string }[];
    const one = await api("POST", `/v1/orders/${orderId}/refunds`, { ...admin, body: { ticketIds: [tickets[0]?.id] } });
    expect(one.status).toBe(201);
    let hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["order.paid", "order.partially_refunded"]);
    expect(hooks[1]?.data).toEqual(await readOrder(orderId));
    expect(hooks[1]?.data).toMatchObject({ status: "partially_refunded", refundedAmount: 2500 });

    const two = await api("POST", `/v1/orders/${orderId}/refunds`, { ...admin, body: { ticketIds: [tickets[1]?.id] } });
    expect(two.status).toBe(201);
    expect((await api("POST", `/v1/orders/${orderId}/refunds`, { ...admin, body: {} })).status).toBe(201);
    hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual([
      "order.paid",
      "order.partially_refunded",
      "order.partially_refunded",
      "order.refunded",
    ]);
    expect(hooks[3]?.data).toMatchObject({ status: "refunded", refundedAmount: 7500 });
    const voided = (hooks[3]?.data.tickets ?? []) as { status: string }[];
    expect(voided.map((t) => t.status)).toEqual(["void", "void", "void"]);
    // Each refund is its own message: four webhook-ids.
    expect(new Set(hooks.map((h) => h.received.headers["webhook-id"])).size).toBe(4);
  });

  it("each refund of free tickets is its own message, though neither the status nor the amount changes", async () => {
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 10, price: 0 }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 3 }])).body;
    const order = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "free@example.com" },
    });
    expect(order.body.status).toBe("paid");
    const tickets = order.body.tickets as { id: string }[];
    for (const ticket of tickets.slice(0, 2)) {
      const refund = await api("POST", `/v1/orders/${order.body.orderId}/refunds`, {
        ...admin,
        body: { ticketIds: [ticket.id] },
      });
      expect(refund.status).toBe(201);
    }
    const hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["order.paid", "order.partially_refunded", "order.partially_refunded"]);
    expect(new Set(hooks.map((h) => h.received.headers["webhook-id"])).size).toBe(3);
  });

  it("a refund Stripe refuses is refund.failed with the refund, and changes the order not at all", async () => {
    const endpoint = await newEndpoint();
    const { orderId, event } = await paid(10, 2);
    stripe.refuseRefundsWith("Charge has been disputed.");
    const refused = await api("POST", `/v1/orders/${orderId}/refunds`, { ...admin, body: {} });
    expect(refused.status).toBe(502);
    const hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["order.paid", "refund.failed"]);
    expect(hooks[1]?.data).toEqual({
      orderId,
      eventId: event.id,
      refundId: expect.stringMatching(/^rfd_/),
      amount: 5000,
      currency: "eur",
      reason: "Charge has been disputed.",
    });
  });

  it("a late payment whose capacity is gone is order.canceled, then order.refunded when its refund lands", async () => {
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 1, price: 2500, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    await lapse([tierId]);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }])).status).toBe(201);
    expect((await deliver(completedEvent(session))).status).toBe(200);
    const hooks = await arrived(endpoint);
    // Written in that order, delivered in no guaranteed one; each carries the order as its change left it.
    expect(types(hooks).sort()).toEqual(["order.canceled", "order.expired", "order.refunded"]);
    for (const h of hooks) {
      expect(h.data).toMatchObject({ id: order.orderId, status: h.type.slice("order.".length), tickets: [] });
    }
    expect(byType(hooks, "order.refunded")).toMatchObject({ refundedAmount: 2500 });
  });

  it("a late payment's refund Stripe refuses for good is refund.failed", async () => {
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 1, price: 2500, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    await lapse([tierId]);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }])).status).toBe(201);
    stripe.refuseRefundsWith("Charge has already been refunded.");
    expect((await deliver(completedEvent(session))).status).toBe(200);
    const hooks = await arrived(endpoint);
    expect(types(hooks).sort()).toEqual(["order.canceled", "order.expired", "refund.failed"]);
    expect(byType(hooks, "refund.failed")).toEqual({
      orderId: order.orderId,
      eventId: event.id,
      refundId: expect.stringMatching(/^rfd_/),
      amount: 2500,
      currency: "eur",
      reason: "Charge has already been refunded.",
    });
  });
});

describe("orders that end without a payment", () => {
  it("a hold that lapses in checkout is order.expired", async () => {
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 5, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    await lapse([tierId]);
    const hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["order.expired"]);
    expect(hooks[0]?.data).toEqual(await readOrder(order.orderId));
    expect(hooks[0]?.data).toMatchObject({ status: "expired", checkoutUrl: null, tickets: [] });
  });

  it("an expired Checkout Session is order.expired; a failed async payment is order.canceled", async () => {
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const a = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    const b = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    await deliver(stripeEvent("checkout.session.expired", { ...a.session, status: "expired" }));
    await deliver(stripeEvent("checkout.session.async_payment_failed", b.session));
    const hooks = await arrived(endpoint);
    expect(types(hooks).sort()).toEqual(["order.canceled", "order.expired"]);
    expect(byType(hooks, "order.expired")).toMatchObject({ id: a.order.orderId, status: "expired" });
    expect(byType(hooks, "order.canceled")).toMatchObject({ id: b.order.orderId, status: "canceled" });
  });
});

describe("disputes", () => {
  it("charge.dispute.created is dispute.opened with the dispute, once however often Stripe reports it", async () => {
    const endpoint = await newEndpoint();
    const { orderId, event, session } = await paid(5, 1);
    const dispute = {
      id: "dp_webhook_1",
      object: "dispute",
      payment_intent: session.payment_intent,
      charge: "ch_webhook_1",
      amount: 2500,
      currency: "eur",
      reason: "fraudulent",
      status: "needs_response",
    };
    expect((await deliver(stripeEvent("charge.dispute.created", dispute))).status).toBe(200);
    expect((await deliver(stripeEvent("charge.dispute.created", dispute))).status).toBe(200);
    const hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["order.paid", "dispute.opened"]);
    expect(hooks[1]?.data).toEqual({
      orderId,
      eventId: event.id,
      disputeId: "dp_webhook_1",
      amount: 2500,
      currency: "eur",
      reason: "fraudulent",
    });
  });
});

describe("tier.sold_out", () => {
  it("the sale that sells the last ticket is tier.sold_out; a refund opens the tier, the next sell-out is a new message", async () => {
    const endpoint = await newEndpoint({ events: ["tier.sold_out"] });
    const event = await createEvent([{ name: "Floor", capacity: 3, price: 2500 }]);
    const tierId = event.tiers[0]?.id as string;
    const first = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
    expect((await deliver(completedEvent(first.session))).status).toBe(200);
    expect(await arrived(endpoint)).toEqual([]);
    const last = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    expect((await deliver(completedEvent(last.session))).status).toBe(200);
    let hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["tier.sold_out"]);
    expect(hooks[0]?.data).toEqual({ tierId, eventId: event.id, name: "Floor", capacity: 3, sold: 3 });

    expect((await api("POST", `/v1/orders/${last.order.orderId}/refunds`, { ...admin, body: {} })).status).toBe(201);
    const again = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    expect((await deliver(completedEvent(again.session))).status).toBe(200);
    hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["tier.sold_out", "tier.sold_out"]);
    expect(hooks[1]?.received.headers["webhook-id"]).not.toBe(hooks[0]?.received.headers["webhook-id"]);
  });

  it("lowering the capacity to what is sold sells the tier out", async () => {
    const endpoint = await newEndpoint({ events: ["tier.sold_out"] });
    const { event, tierId } = await paid(5, 2);
    expect((await api("PATCH", `/v1/tiers/${tierId}`, { ...admin, body: { capacity: 2 } })).status).toBe(200);
    const hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["tier.sold_out"]);
    expect(hooks[0]?.data).toEqual({ tierId, eventId: event.id, name: "Tier 1", capacity: 2, sold: 2 });
  });

  it("a seated tier sells out with its last seat", async () => {
    const endpoint = await newEndpoint({ events: ["tier.sold_out"] });
    const event = await createEvent([{ seats: ["A1", "A2"], price: 4000 }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, seats: ["A1", "A2"] }])).body;
    const order = (
      await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
        token: reservation.token,
        body: { email: "seats@example.com" },
      })
    ).body;
    expect((await deliver(completedEvent(stripe.session(order.stripeSessionId)))).status).toBe(200);
    const hooks = await arrived(endpoint);
    expect(types(hooks)).toEqual(["tier.sold_out"]);
    expect(hooks[0]?.data).toMatchObject({ tierId, capacity: 2, sold: 2 });
  });
});
