import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { deliver } from "./fake-stripe";
import { api, auditActions, availability, createEvent, reserve } from "./helpers";
import { checkedOutOrder, completedEvent, lapse, useFakeStripe } from "./payments";

const stripe = useFakeStripe();
const tierObject = (tierId: string) => env.TIER_INVENTORY.getByName(tierId);
const checkout = (eventId: string, items: { tierId: string; quantity: number }[]) =>
  checkedOutOrder(stripe, eventId, items);

const readOrder = async (order: { orderId: string; orderToken: string }) =>
  (await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body;

describe("a hold that lapses during checkout", () => {
  it("expires the Stripe session through the API, with an idempotency key, and returns the capacity", async () => {
    const event = await createEvent([{ capacity: 5, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkout(event.id, [{ tierId, quantity: 2 }]);
    await lapse([tierId]);
    const expire = stripe.calls.filter((c) => c.path === `/v1/checkout/sessions/${session.id}/expire`);
    expect(expire).toHaveLength(1);
    expect(expire[0]?.idempotencyKey).toBe(`boxoffice-expireSession-${order.orderId}`);
    expect(stripe.session(session.id).status).toBe("expired");
    expect((await availability(event.id))[0]?.available).toBe(5);
    expect((await readOrder(order)).status).toBe("expired");
  });

  it("reads expired at once, before the alarm records it, and frees the buyer's session for a new hold", async () => {
    const event = await createEvent([{ capacity: 5, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const held = await reserve(event.id, [{ tierId, quantity: 2 }], { sessionId: "session-1" });
    const reservation = held.body;
    await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "buyer@example.com" },
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000); // past the hold; no alarm has run
    const read = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(read.body.status).toBe("expired");
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "session-1" })).status).toBe(201);
  });
});

describe("a payment that lands after its hold lapsed", () => {
  it("gets its tickets when the capacity is still there", async () => {
    const event = await createEvent([{ capacity: 5, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkout(event.id, [{ tierId, quantity: 2 }]);
    await lapse([tierId]);
    expect((await deliver(completedEvent(session))).status).toBe(200);
    const read = await readOrder(order);
    expect(read.status).toBe("paid");
    expect(read.tickets).toHaveLength(2);
    expect((await availability(event.id))[0]?.available).toBe(3);
    expect(await auditActions(event.id, "payment.late")).toHaveLength(1);
    expect(stripe.calls.filter((c) => c.path === "/v1/refunds")).toHaveLength(0);
  });

  it("is refunded exactly once when the capacity is gone, even delivered three times at once", async () => {
    const event = await createEvent([{ capacity: 2, holdSeconds: 60 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkout(event.id, [{ tierId, quantity: 2 }]);
    await lapse([tierId]);
    expect((await reserve(event.id, [{ tierId, quantity: 2 }])).status).toBe(201); // someone else takes it
    const paid = completedEvent(session);
    const results = await Promise.all([deliver(paid), deliver(paid), deliver(paid)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);

    const refunds = stripe.calls.filter((c) => c.path === "/v1/refunds");
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.idempotencyKey).toBe(`boxoffice-refund-${order.orderId}`);
    expect(refunds[0]?.params.get("payment_intent")).toBe(session.payment_intent);
    const read = await readOrder(order);
    expect(read).toMatchObject({ status: "refunded", tickets: [] });
    expect((await availability(event.id))[0]?.available).toBe(0);
    expect(await auditActions(event.id, "payment.late")).toHaveLength(1);
    expect(await auditActions(event.id, "order.refunded")).toHaveLength(1);
    // A fourth delivery, later, changes nothing.
    await deliver(paid);
    expect(stripe.calls.filter((c) => c.path === "/v1/refunds")).toHaveLength(1);
  });

  it("across tiers, gives back what one tier sold when another cannot, voids those tickets, and refunds", async () => {
    const event = await createEvent([
      { capacity: 5, holdSeconds: 60 },
      { capacity: 1, holdSeconds: 60 },
    ]);
    const [a, b] = event.tiers.map((t) => t.id) as [string, string];
    const { order, session } = await checkout(event.id, [
      { tierId: a, quantity: 2 },
      { tierId: b, quantity: 1 },
    ]);
    await lapse([a, b]);
    expect((await reserve(event.id, [{ tierId: a, quantity: 1 }])).status).toBe(201);
    expect((await reserve(event.id, [{ tierId: b, quantity: 1 }])).status).toBe(201);
    expect((await deliver(completedEvent(session))).status).toBe(200);

    expect((await readOrder(order)).status).toBe("refunded");
    expect((await availability(event.id)).map((t) => t.available)).toEqual([4, 0]);
    const issued = await env.DB.prepare("SELECT status FROM tickets WHERE order_id = ?").bind(order.orderId).all();
    for (const t of issued.results) expect(t.status).toBe("void");
    expect(stripe.calls.filter((c) => c.path === "/v1/refunds")).toHaveLength(1);
    for (const id of [a, b]) {
      const check = await tierObject(id).selfCheck(id);
      expect(check).toMatchObject({ ok: true, sold: 0 });
    }
  });
});
