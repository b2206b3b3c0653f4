import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { publicTicketKeys, verifyTicketCode } from "../src/lib/ticket-codes";
import { deliver, signature, stripeEvent } from "./fake-stripe";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, reserve } from "./helpers";
import { completedEvent, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

async function checkedOut(quantity = 2, tier: Record<string, unknown> = {}) {
  const event = await createEvent([{ capacity: 10, price: 2500, ...tier }]);
  const tierId = event.tiers[0]?.id as string;
  const reservation = (await reserve(event.id, [{ tierId, quantity }])).body;
  const res = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
    token: reservation.token,
    body: { email: "ada@example.com", name: "Ada" },
  });
  return { event, tierId, reservation, res, order: res.body };
}

const completed = completedEvent;

describe("checkout", () => {
  it("opens a Stripe Checkout Session for the order and answers with its url", async () => {
    const { reservation, res, order } = await checkedOut(2);
    expect(res.status).toBe(201);
    expect(order).toMatchObject({ status: "pending_payment", amount: 5000, currency: "eur" });
    expect(order.orderId).toMatch(/^ord_/);
    expect(order.orderToken).toMatch(/^ordtok_/);
    const [call] = stripe.calls.filter((c) => c.path === "/v1/checkout/sessions");
    expect(call?.idempotencyKey).toBe(`boxoffice-checkout-session-${order.orderId}`);
    expect(call?.params.get("client_reference_id")).toBe(order.orderId);
    expect(call?.params.get("metadata[orderId]")).toBe(order.orderId);
    expect(call?.params.get("line_items[0][quantity]")).toBe("2");
    expect(call?.params.get("line_items[0][price_data][unit_amount]")).toBe("2500");
    expect(Number(call?.params.get("expires_at"))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 30 * 60);
    const [sessionId] = stripe.sessions.keys();
    expect(order.stripeSessionId).toBe(sessionId);
    expect(order.checkoutUrl).toBe(`http://stripe.test/pay/${sessionId}`);

    const again = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "ada@example.com" },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(order);
    expect(stripe.calls.filter((c) => c.path === "/v1/checkout/sessions")).toHaveLength(1);
  });

  it("a paid webhook issues the tickets once, signed, and sells the capacity", async () => {
    const { event, reservation, order } = await checkedOut(2);
    const paid = completed(stripe.session(order.stripeSessionId));
    expect(await deliver(paid)).toEqual({ status: 200, body: { received: true } });

    const read = await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: "paid", amount: 5000, email: "ada@example.com" });
    expect(read.body.tickets).toHaveLength(2);
    const keys = await publicTicketKeys(env);
    for (const ticket of read.body.tickets) {
      expect(ticket.status).toBe("valid");
      expect(await verifyTicketCode(keys, ticket.code)).toEqual({ ticketId: ticket.id, eventId: event.id });
    }
    expect((await availability(event.id))[0]?.available).toBe(8);
    const held = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(held.body.status).toBe("completed");
    const actions = (await auditActions(event.id)).map((a) => a.action);
    for (const action of ["checkout.started", "order.paid", "tickets.issued"]) expect(actions).toContain(action);
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: ADMIN_TOKEN })).status).toBe(200);
    expect((await api("GET", `/v1/orders/${order.orderId}`)).status).toBe(401);
  });

  it("the same event delivered 5 times at once gives one set of tickets", async () => {
    const { event, order } = await checkedOut(3);
    const paid = completed(stripe.session(order.stripeSessionId));
    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(paid)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const read = await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken });
    expect(read.body.tickets).toHaveLength(3);
    expect((await availability(event.id))[0]?.available).toBe(7);
    expect(await auditActions(event.id, "order.paid")).toHaveLength(1);
    const codes = await env.DB.prepare(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT code) AS distinct_codes FROM tickets WHERE order_id = ?",
    )
      .bind(order.orderId)
      .first<{ n: number; distinct_codes: number }>();
    expect(codes).toEqual({ n: 3, distinct_codes: 3 });
  });

  it("refuses missing, wrong-secret, stale, future and tampered signatures, and changes nothing", async () => {
    const { order } = await checkedOut(1);
    const paid = completed(stripe.session(order.stripeSessionId));
    const body = JSON.stringify(paid);
    const attempts = [
      await deliver(paid, { signature: null }),
      await deliver(paid, { signature: await signature(body, { secret: "whsec_wrong" }) }),
      await deliver(paid, { signature: await signature(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }) }),
      await deliver(paid, { signature: await signature(body, { timestamp: Math.floor(Date.now() / 1000) + 302 }) }),
      await deliver(paid, {
        signature: await signature(body),
        body: body.replace('"amount_total":2500', '"amount_total":1'),
      }),
    ];
    for (const a of attempts) expect(a).toMatchObject({ status: 400, body: { code: "WEBHOOK_SIGNATURE_INVALID" } });
    const read = await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken });
    expect(read.body).toMatchObject({ status: "pending_payment", tickets: [] });
  });

  it("accepts a signature from a clock a little ahead, within the 300 s tolerance", async () => {
    const { order } = await checkedOut(1);
    const paid = completed(stripe.session(order.stripeSessionId));
    const ahead = await signature(JSON.stringify(paid), { timestamp: Math.floor(Date.now() / 1000) + 250 });
    expect(await deliver(paid, { signature: ahead })).toEqual({ status: 200, body: { received: true } });
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body.status).toBe("paid");
  });

  it("waits on an unpaid completion and fulfils on async_payment_succeeded", async () => {
    const { order } = await checkedOut(1);
    const session = stripe.session(order.stripeSessionId);
    await deliver(completed(session, { payment_status: "unpaid" }));
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body.status).toBe(
      "pending_payment",
    );
    await deliver(stripeEvent("checkout.session.async_payment_succeeded", { ...session, payment_status: "paid" }));
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body.status).toBe("paid");
  });

  it("async_payment_failed releases the tickets", async () => {
    const { event, order } = await checkedOut(2);
    await deliver(stripeEvent("checkout.session.async_payment_failed", stripe.session(order.stripeSessionId)));
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body.status).toBe("canceled");
    expect((await availability(event.id))[0]?.available).toBe(10);
  });

  it("out of order: expired, then completed: the capacity is taken again and the tickets issued", async () => {
    const { event, order } = await checkedOut(2);
    const session = stripe.session(order.stripeSessionId);
    await deliver(stripeEvent("checkout.session.expired", { ...session, status: "expired" }));
    expect((await availability(event.id))[0]?.available).toBe(10);
    await deliver(completed(session));
    const read = await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken });
    expect(read.body.status).toBe("paid");
    expect(read.body.tickets).toHaveLength(2);
    expect((await availability(event.id))[0]?.available).toBe(8);
    expect(await auditActions(event.id, "payment.late")).toHaveLength(1);
    // completed twice, and expired after completed: nothing changes
    await deliver(completed(session));
    await deliver(stripeEvent("checkout.session.expired", { ...session, status: "expired" }));
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body.status).toBe("paid");
    expect((await availability(event.id))[0]?.available).toBe(8);
  });

  it("a free order is paid at once, with its tickets", async () => {
    const { event, res } = await checkedOut(2, { price: 0 });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("paid");
    expect(res.body.tickets).toHaveLength(2);
    expect(stripe.calls).toHaveLength(0);
    expect((await availability(event.id))[0]?.available).toBe(8);
  });

  it("ignores event types it does not handle", async () => {
    expect(await deliver(stripeEvent("customer.created", { id: "cus_1" }))).toEqual({
      status: 200,
      body: { received: true },
    });
  });
});
