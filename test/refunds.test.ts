/** Organiser refunds, refunds made in Stripe's dashboard, and disputes. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { resumeStaleRefunds } from "../src/domain/sales/refunds";
import { newScanner, scan } from "./door";
import { deliver, stripeEvent } from "./fake-stripe";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, reserve } from "./helpers";
import { chargeRefundedEvent, checkedOutOrder, completedEvent, type FakeStripe, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

/** A paid order of `quantity` tickets at 25.00 on a tier of `capacity`. */
async function paidOrder(fake: FakeStripe, quantity: number, capacity = quantity, tier: Record<string, unknown> = {}) {
  const event = await createEvent([{ capacity, price: 2500, ...tier }]);
  const tierId = event.tiers[0]?.id as string;
  const { order, session } = await checkedOutOrder(fake, event.id, [{ tierId, quantity }]);
  expect((await deliver(completedEvent(session))).status).toBe(200);
  const read = await readOrder(order.orderId);
  expect(read.status).toBe("paid");
  return {
    event,
    tierId,
    orderId: order.orderId as string,
    session,
    tickets: read.tickets as { id: string; code: string }[],
  };
}

async function readOrder(orderId: string) {
  const res = await api("GET", `/v1/orders/${orderId}`, { token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  return res.body;
}

const refund = (orderId: string, body: Record<string, unknown> = {}) =>
  api("POST", `/v1/orders/${orderId}/refunds`, { token: ADMIN_TOKEN, body });

describe("organiser refunds", () => {
  it("a full refund voids the tickets and returns the capacity: a sold-out tier can be bought again", async () => {
    const { event, tierId, orderId, session, tickets } = await paidOrder(stripe, 2);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }])).body.code).toBe("SOLD_OUT");

    const res = await refund(orderId, { reason: "Event moved" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      orderId,
      status: "succeeded",
      amount: 5000,
      currency: "eur",
      reason: "Event moved",
      source: "api",
      ticketIds: tickets.map((t) => t.id).sort(),
    });
    expect(res.body.id).toMatch(/^rfd_/);
    const [call] = stripe.calls.filter((c) => c.path === "/v1/refunds" && c.method === "POST");
    expect(call?.params.get("payment_intent")).toBe(session.payment_intent);
    expect(call?.params.get("amount")).toBe("5000");
    expect(call?.params.get("metadata[refundId]")).toBe(res.body.id);
    expect(call?.idempotencyKey).toBe(`boxoffice-refund-${res.body.id}-0`);
    expect(res.body.stripeRefundId).toBe(stripe.refunds[0]?.id);

    const order = await readOrder(orderId);
    expect(order).toMatchObject({ status: "refunded", refundedAmount: 5000 });
    expect(order.tickets.map((t: { status: string }) => t.status)).toEqual(["void", "void"]);
    expect((await availability(event.id))[0]?.available).toBe(2);
    expect((await reserve(event.id, [{ tierId, quantity: 2 }])).status).toBe(201);
    const audited = await api("GET", `/v1/events/${event.id}/audit?action=order.refunded`, { token: ADMIN_TOKEN });
    expect(audited.body.entries).toHaveLength(1);
    expect(audited.body.entries[0]).toMatchObject({
      actor: { type: "organiser" },
      data: { amount: 5000, refundId: res.body.id, status: "refunded" },
    });
  });

  it("a partial refund of 1 of 3 tickets; asking again is the same refund; the rest completes it", async () => {
    const { event, orderId, tickets } = await paidOrder(stripe, 3, 5);
    const one = tickets[1]?.id as string;
    const first = await refund(orderId, { ticketIds: [one] });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ amount: 2500, ticketIds: [one] });
    let order = await readOrder(orderId);
    expect(order).toMatchObject({ status: "partially_refunded", refundedAmount: 2500 });
    expect(
      order.tickets.filter((t: { status: string }) => t.status === "void").map((t: { id: string }) => t.id),
    ).toEqual([one]);
    expect((await availability(event.id))[0]?.available).toBe(3);

    const again = await refund(orderId, { ticketIds: [one] });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(stripe.refunds).toHaveLength(1);

    const overlapping = await refund(orderId, { ticketIds: [one, tickets[0]?.id as string] });
    expect(overlapping.status).toBe(410);
    expect(overlapping.body).toMatchObject({ code: "TICKET_VOID", ticketIds: [one] });

    const rest = await refund(orderId);
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe(5000);
    order = await readOrder(orderId);
    expect(order).toMatchObject({ status: "refunded", refundedAmount: 7500 });
    expect((await availability(event.id))[0]?.available).toBe(5);
    expect((await refund(orderId)).body.code).toBe("TICKET_VOID");
  });

  it("the same refund asked while the first request is still finishing it (tickets void, not yet recorded) is 200", async () => {
    const { orderId, tickets } = await paidOrder(stripe, 2, 4);
    const ids = tickets.map((t: { id: string }) => t.id);
    const first = await refund(orderId, { ticketIds: ids });
    expect(first.status).toBe(201);
    // As D1 stands while the first request is between voiding the tickets and recording the refund.
    await env.DB.prepare("UPDATE refunds SET status = 'pending' WHERE id = ?").bind(first.body.id).run();
    const again = await refund(orderId, { ticketIds: ids });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(stripe.refunds).toHaveLength(1);
    expect(await readOrder(orderId)).toMatchObject({ status: "refunded", refundedAmount: 5000 });
  });

  it.each([2, 5])(
    "the same refund asked %i times at once: one 201 and the rest 200, one Stripe refund, one capacity return",
    async (times) => {
      const { event, orderId } = await paidOrder(stripe, 2, 4);
      const answers = await Promise.all(Array.from({ length: times }, () => refund(orderId)));
      expect(answers.map((r) => r.status).sort()).toEqual([...Array(times - 1).fill(200), 201]);
      for (const r of answers) expect(r.body).toEqual(answers[0]?.body);
      expect(answers[0]?.body).toMatchObject({ status: "succeeded", amount: 5000 });
      expect(stripe.refunds).toHaveLength(1);
      expect((await availability(event.id))[0]?.available).toBe(4);
      expect(await auditActions(event.id, "order.refunded")).toHaveLength(1);
      const rows = await env.DB.prepare("SELECT count(*) AS n FROM refunds WHERE order_id = ?").bind(orderId).first();
      expect(rows).toEqual({ n: 1 });
    },
  );

  it("a refund Stripe refuses is 502 REFUND_FAILED and changes nothing; asked again later it goes through", async () => {
    const { event, orderId, tickets } = await paidOrder(stripe, 2, 2);
    stripe.refuseRefundsWith("Charge ch_1 has been charged back; cannot issue a refund.");
    const refused = await refund(orderId);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ code: "REFUND_FAILED", reason: expect.stringContaining("charged back") });
    const order = await readOrder(orderId);
    expect(order).toMatchObject({ status: "paid", refundedAmount: 0 });
    expect(order.tickets.map((t: { status: string }) => t.status)).toEqual(["valid", "valid"]);
    expect((await availability(event.id))[0]?.available).toBe(0);
    expect(await auditActions(event.id, "refund.failed")).toHaveLength(1);

    stripe.refuseRefundsWith(null);
    const retried = await refund(orderId, { ticketIds: tickets.map((t) => t.id) });
    expect(retried.status).toBe(201);
    const keys = stripe.calls.filter((c) => c.path === "/v1/refunds").map((c) => c.idempotencyKey);
    expect(keys).toEqual([`boxoffice-refund-${retried.body.id}-0`, `boxoffice-refund-${retried.body.id}-1`]);
    expect((await availability(event.id))[0]?.available).toBe(2);
  });

  it("a refunded ticket cannot check in", async () => {
    const { event, orderId, tickets } = await paidOrder(stripe, 2);
    const door = await newScanner(event.id);
    expect((await refund(orderId, { ticketIds: [tickets[0]?.id as string] })).status).toBe(201);
    const refused = await scan(door.token, tickets[0]?.code as string);
    expect(refused.status).toBe(410);
    expect(refused.body.code).toBe("TICKET_VOID");
    expect((await scan(door.token, tickets[1]?.code as string)).status).toBe(200);
  });

  it("a seated refund frees its seats", async () => {
    const { event, orderId } = await paidOrder(stripe, 2, 2, { seats: ["A1", "A2"], capacity: undefined });
    expect((await refund(orderId)).status).toBe(201);
    const seats = (await availability(event.id))[0]?.seats;
    expect(seats).toEqual([
      { label: "A1", status: "available" },
      { label: "A2", status: "available" },
    ]);
  });

  it("refuses what it cannot refund, changing nothing", async () => {
    const { orderId } = await paidOrder(stripe, 1);
    const other = await paidOrder(stripe, 1);
    expect((await api("POST", `/v1/orders/${orderId}/refunds`, { body: {} })).status).toBe(401);
    const foreign = await refund(orderId, { ticketIds: [other.tickets[0]?.id as string] });
    expect(foreign.status).toBe(400);
    expect(foreign.body.code).toBe("INVALID_INPUT");
    expect((await refund(orderId, { ticketIds: [] })).body.code).toBe("INVALID_INPUT");
    expect((await refund(orderId, { extra: 1 })).body.code).toBe("INVALID_INPUT");
    expect((await refund("ord_0000000000000000000000")).status).toBe(404);

    const event = await createEvent([{ capacity: 2 }]);
    const pending = await checkedOutOrder(stripe, event.id, [{ tierId: event.tiers[0]?.id as string, quantity: 1 }]);
    const unpaid = await refund(pending.order.orderId);
    expect(unpaid.status).toBe(409);
    expect(unpaid.body.code).toBe("ORDER_NOT_PAID");
    expect(stripe.refunds).toHaveLength(0);
  });
});

describe("Stripe reports refunds and disputes", () => {
  it("charge.refunded after an API refund: nothing happens twice", async () => {
    const { event, orderId, session } = await paidOrder(stripe, 2, 3);
    expect((await refund(orderId)).status).toBe(201);
    const before = await readOrder(orderId);
    expect((await deliver(chargeRefundedEvent(session.payment_intent, 5000))).status).toBe(200);
    expect(await readOrder(orderId)).toEqual(before);
    expect((await availability(event.id))[0]?.available).toBe(3);
    expect(await auditActions(event.id, "order.refunded")).toHaveLength(1);
  });

  it("a full refund made in Stripe's dashboard voids the tickets once; a partial one is audited for the organiser", async () => {
    const { event, orderId, session } = await paidOrder(stripe, 2, 2);
    stripe.dashboardRefund(session.payment_intent, 5000);
    const delivered = chargeRefundedEvent(session.payment_intent, 5000);
    expect((await deliver(delivered)).status).toBe(200);
    expect((await deliver({ ...delivered, id: "evt_again" })).status).toBe(200);
    const order = await readOrder(orderId);
    expect(order).toMatchObject({ status: "refunded", refundedAmount: 5000 });
    expect(order.tickets.every((t: { status: string }) => t.status === "void")).toBe(true);
    expect((await availability(event.id))[0]?.available).toBe(2);
    expect(await auditActions(event.id, "order.refunded")).toHaveLength(1);

    const partial = await paidOrder(stripe, 2, 2);
    stripe.dashboardRefund(partial.session.payment_intent, 1000);
    expect((await deliver(chargeRefundedEvent(partial.session.payment_intent, 1000, 5000))).status).toBe(200);
    expect(await readOrder(partial.orderId)).toMatchObject({ status: "paid", refundedAmount: 0 });
    expect(await auditActions(partial.event.id, "refund.unmatched")).toHaveLength(1);
  });

  it("charge.dispute.created flags the order and is audited once", async () => {
    const { event, orderId, session } = await paidOrder(stripe, 1);
    const dispute = {
      id: "dp_test_1",
      object: "dispute",
      payment_intent: session.payment_intent,
      charge: "ch_test_1",
      amount: 2500,
      currency: "eur",
      reason: "fraudulent",
      status: "needs_response",
    };
    expect((await deliver(stripeEvent("charge.dispute.created", dispute))).status).toBe(200);
    expect((await deliver(stripeEvent("charge.dispute.created", dispute))).status).toBe(200);
    const order = await readOrder(orderId);
    expect(order.status).toBe("paid");
    expect(order.disputedAt).toEqual(expect.any(String));
    const audited = await api("GET", `/v1/events/${event.id}/audit?action=dispute.opened`, { token: ADMIN_TOKEN });
    expect(audited.body.entries).toHaveLength(1);
    expect(audited.body.entries[0]).toMatchObject({
      actor: { type: "stripe" },
      subject: { type: "order", id: orderId },
      data: { disputeId: "dp_test_1", reason: "fraudulent", amount: 2500 },
    });
  });
});

describe("refunds that meet each other", () => {
  it("two dashboard refunds that together refund the whole charge void every ticket", async () => {
    const { event, orderId, session } = await paidOrder(stripe, 2, 2);
    stripe.dashboardRefund(session.payment_intent, 2500);
    expect((await deliver(chargeRefundedEvent(session.payment_intent, 2500, 5000))).status).toBe(200);
    expect((await readOrder(orderId)).status).toBe("paid");
    stripe.dashboardRefund(session.payment_intent, 2500);
    expect((await deliver(chargeRefundedEvent(session.payment_intent, 5000, 5000))).status).toBe(200);
    const order = await readOrder(orderId);
    expect(order).toMatchObject({ status: "refunded", refundedAmount: 5000 });
    expect(order.tickets.map((t: { status: string }) => t.status)).toEqual(["void", "void"]);
    expect((await availability(event.id))[0]?.available).toBe(2);
  });

  it("an API refund of one ticket, then the rest refunded in the dashboard", async () => {
    const { event, orderId, session, tickets } = await paidOrder(stripe, 2, 2);
    expect((await refund(orderId, { ticketIds: [tickets[0]?.id as string] })).status).toBe(201);
    stripe.dashboardRefund(session.payment_intent, 2500);
    expect((await deliver(chargeRefundedEvent(session.payment_intent, 5000, 5000))).status).toBe(200);
    expect(await readOrder(orderId)).toMatchObject({ status: "refunded", refundedAmount: 5000 });
    expect((await availability(event.id))[0]?.available).toBe(2);
    expect(await auditActions(event.id, "order.refunded")).toHaveLength(2);
  });

  it("a refund whose Stripe call got no answer is finished by the hourly sweep, with the same key", async () => {
    const { event, orderId } = await paidOrder(stripe, 2, 2);
    stripe.failBeforeStripe("/v1/refunds", Number.POSITIVE_INFINITY);
    expect((await refund(orderId)).status).toBe(500);
    stripe.failBeforeStripe("/v1/refunds", 0);
    const blocked = await refund(orderId, { ticketIds: [(await readOrder(orderId)).tickets[0].id] });
    expect(blocked.status).toBe(410);
    expect(blocked.body.refundIds).toHaveLength(1);

    await resumeStaleRefunds(env, createDb(env.DB), Date.now() + 10 * 60 * 1000);
    expect(await readOrder(orderId)).toMatchObject({ status: "refunded", refundedAmount: 5000 });
    expect(stripe.refunds).toHaveLength(1);
    expect((await availability(event.id))[0]?.available).toBe(2);
  });

  it("an order of 120 tickets is refunded whole", async () => {
    const event = await createEvent([{ capacity: 200, price: 0, maxPerOrder: 200 }], {
      maxTicketsPerOrder: 200,
      maxHeldPerClient: 200,
    });
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 120 }])).body;
    const order = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "group@example.com" },
    });
    expect(order.body.tickets).toHaveLength(120);
    const res = await refund(order.body.orderId);
    expect(res.status).toBe(201);
    expect(res.body.ticketIds).toHaveLength(120);
    expect((await availability(event.id))[0]?.available).toBe(200);
  });
});
