/**
 * Each route's documented cases, sent through the Worker: its success answers and the answers every route of
 * its kind gives (a malformed id or query, an unknown id, a bad or too large body, a reused idempotency key,
 * a missing or another's token). Each answer is validated against the served document by `api()` (see
 * openapi-check.ts); the last test checks that every success answer the document declares was seen here.
 */
import { describe, expect, it } from "vitest";
import { newScanner, scan, uploadBatch } from "./door";
import { deliver } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";
import { documentedAnswers, seenAnswers } from "./openapi-check";
import { completedEvent, useFakeStripe } from "./payments";
import { useReceiver } from "./receiver";
import { useWebhookQueue } from "./webhook-queue";
import { deliveriesOf, newEndpoint } from "./webhooks";

const stripe = useFakeStripe();
const webhookQueue = useWebhookQueue();
const receiver = useReceiver();
const admin = { token: ADMIN_TOKEN };
const unknown = {
  evt: "evt_0000000000000000000000",
  rsv: "rsv_0000000000000000000000",
  ord: "ord_0000000000000000000000",
};

async function paidOrder() {
  const event = await createEvent([
    { capacity: 10, price: 2500 },
    { seats: ["A1", "A2"], price: 4000 },
  ]);
  const tierId = event.tiers[0]?.id as string;
  const reservation = (await reserve(event.id, [{ tierId, quantity: 2 }])).body;
  const checkout = (body: Record<string, unknown>) =>
    api("POST", `/v1/reservations/${reservation.id}/checkout`, { token: reservation.token, body });
  const opened = await checkout({ email: "ada@example.com" });
  expect(opened.status).toBe(201);
  // A repeated checkout is the same order: 200.
  expect((await checkout({ email: "ada@example.com" })).status).toBe(200);
  expect((await deliver(completedEvent(stripe.session(opened.body.stripeSessionId)))).status).toBe(200);
  return { event, tierId, reservation, order: opened.body };
}

describe("every route answers as the OpenAPI document says", () => {
  it("the drop queue", async () => {
    const opensAt = new Date(Date.now() - 1000).toISOString();
    const event = await createEvent([{ capacity: 5 }], { queue: { opensAt, admitPerMinute: 60 } });
    const joined = await api("POST", `/v1/events/${event.id}/queue`, { body: { sessionId: "s" } });
    expect(joined.status).toBe(201);
    expect((await api("POST", `/v1/events/${event.id}/queue`, { body: { sessionId: "s" } })).status).toBe(200);
    expect((await api("POST", `/v1/events/${event.id}/queue`, { body: { nope: 1 } })).status).toBe(400);
    expect((await api("GET", `/v1/queue/${joined.body.id}`, { token: joined.body.token })).status).toBe(200);
    expect((await api("GET", `/v1/queue/${joined.body.id}`)).status).toBe(401);
    const tierId = event.tiers[0]?.id as string;
    expect((await reserve(event.id, [{ tierId, quantity: 1 }])).status).toBe(403);
  });

  it("events, tiers, availability and the audit log", async () => {
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    expect((await api("GET", `/v1/events/${event.id}`)).status).toBe(200);
    expect((await api("GET", "/v1/events/not-an-id")).status).toBe(400);
    expect((await api("GET", `/v1/events/${unknown.evt}`)).status).toBe(404);
    const tier = { name: "Late", price: 1000, capacity: 3 };
    expect((await api("POST", `/v1/events/${event.id}/tiers`, { ...admin, body: tier })).status).toBe(201);
    expect((await api("POST", `/v1/events/${event.id}/tiers`, { body: tier })).status).toBe(401);
    expect((await api("PATCH", `/v1/tiers/${tierId}`, { ...admin, body: { capacity: 6 } })).status).toBe(200);
    expect((await api("PATCH", `/v1/tiers/${tierId}`, { ...admin, raw: "{" })).status).toBe(400);
    expect((await api("PATCH", `/v1/events/${event.id}`, { ...admin, body: { name: "Renamed" } })).status).toBe(200);
    expect((await api("GET", `/v1/tiers/${tierId}/attempts`, admin)).status).toBe(200);
    expect((await api("GET", `/v1/tiers/${tierId}/attempts`)).status).toBe(401);
    expect((await api("PATCH", `/v1/events/${event.id}`, { ...admin, body: {} })).status).toBe(400);
    expect((await api("PATCH", `/v1/events/${event.id}`, { body: { name: "x" } })).status).toBe(401);
    expect((await api("GET", `/v1/events/${event.id}/availability`)).status).toBe(200);
    expect((await api("GET", "/v1/events/nope/availability")).status).toBe(400);
    expect((await api("GET", `/v1/events/${event.id}/audit?limit=2`, admin)).status).toBe(200);
    expect((await api("GET", `/v1/events/${event.id}/audit?limit=0`, admin)).status).toBe(400);
    const big = { name: "x".repeat(70 * 1024), startsAt: "2027-01-01T20:00:00Z", currency: "eur", tiers: [] };
    expect((await api("POST", "/v1/events", { ...admin, body: big })).status).toBe(413);
    const body = { name: "Keyed", startsAt: "2027-01-01T20:00:00Z", currency: "eur", tiers: [] };
    const headers = { "Idempotency-Key": "openapi-answers-1" };
    expect((await api("POST", "/v1/events", { ...admin, body, headers })).status).toBe(201);
    expect((await api("POST", "/v1/events", { ...admin, body: { ...body, name: "Other" }, headers })).status).toBe(422);
  });

  it("reservations: hold, read, extend, release, another's token, refusals", async () => {
    const event = await createEvent([{ capacity: 2, maxExtensions: 1 }]);
    const tierId = event.tiers[0]?.id as string;
    const mine = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const theirs = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    expect((await reserve(event.id, [{ tierId, quantity: 1 }])).status).toBe(409);
    const path = `/v1/reservations/${mine.id}`;
    expect((await api("GET", path, { token: mine.token })).status).toBe(200);
    expect((await api("GET", "/v1/reservations/bad", { token: mine.token })).status).toBe(400);
    expect((await api("GET", `/v1/reservations/${unknown.rsv}`, { token: mine.token })).status).toBe(404);
    expect((await api("GET", path)).status).toBe(401);
    expect((await api("POST", `${path}/extend`, { token: mine.token })).status).toBe(200);
    expect((await api("POST", `${path}/extend`, { token: mine.token })).status).toBe(409);
    expect((await api("DELETE", path, { token: theirs.token })).status).toBe(403);
    expect((await api("DELETE", path, { token: mine.token })).status).toBe(200);
  });

  it("checkout, orders, refunds, the order list, the attendee export and Stripe's webhook", async () => {
    const { event, order, reservation } = await paidOrder();
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).status).toBe(200);
    expect((await api("GET", `/v1/orders/${order.orderId}`, { token: reservation.token })).status).toBe(401);
    expect((await api("GET", `/v1/orders/${unknown.ord}`, admin)).status).toBe(404);
    // The buyer's tickets page: the link with the order token, and the one page for any other link.
    expect((await fetchText(`/tickets/${order.orderId}?t=${order.orderToken}`)).status).toBe(200);
    expect((await fetchText(`/tickets/${order.orderId}`)).status).toBe(404);
    // The ticket e-mail, sent again; the simulator's list of what it kept (MAIL_MODE=simulator in tests).
    expect((await api("POST", `/v1/orders/${order.orderId}/resend`, { token: order.orderToken })).status).toBe(202);
    expect((await api("GET", "/dev/mail")).status).toBe(200);
    const refund = (body: Record<string, unknown>) =>
      api("POST", `/v1/orders/${order.orderId}/refunds`, { ...admin, body });
    const ticketIds = [(await api("GET", `/v1/orders/${order.orderId}`, admin)).body.tickets[0].id];
    expect((await refund({ ticketIds })).status).toBe(201);
    expect((await refund({ ticketIds })).status).toBe(200);
    expect((await refund({})).status).toBe(201);
    expect((await refund({})).status).toBe(410);
    expect((await refund({ ticketIds: "all" })).status).toBe(400);
    expect((await api("GET", `/v1/events/${event.id}/orders?status=paid`, admin)).status).toBe(200);
    expect((await api("GET", `/v1/events/${event.id}/orders?status=lost`, admin)).status).toBe(400);
    const csv = await fetchText(`/v1/events/${event.id}/attendees.csv`);
    expect(csv.status).toBe(200);
    const bad = await deliver(completedEvent(stripe.session(order.stripeSessionId)), { signature: "t=1,v1=00" });
    expect(bad.status).toBe(400);
  });

  it("stats, verify, scanners, check-in online and offline, the check-in list and keys", async () => {
    const event = await createEvent([{ capacity: 5, price: 0 }]);
    const tierId = event.tiers[0]?.id as string;
    const held = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const free = await api("POST", `/v1/reservations/${held.id}/checkout`, {
      token: held.token,
      body: { email: "free@example.com" },
    });
    expect(free.status).toBe(201);
    const code = free.body.tickets[0].code as string;
    expect((await api("GET", `/v1/events/${event.id}/stats`, admin)).status).toBe(200);
    expect((await api("GET", `/v1/events/${event.id}/verify`, admin)).status).toBe(200);
    const scanner = await newScanner(event.id, { name: "North" });
    expect((await api("GET", `/v1/events/${event.id}/scanners`, admin)).status).toBe(200);
    expect((await scan(scanner.token, code)).status).toBe(200);
    expect((await scan(scanner.token, code)).status).toBe(409);
    expect((await scan(scanner.token, code, { direction: "out" })).status).toBe(200);
    expect((await scan(scanner.token, "v1.forged")).status).toBe(400);
    const batch = await uploadBatch(scanner.token, [{ nonce: "n-1", code, scannedAt: new Date().toISOString() }]);
    expect(batch.status).toBe(200);
    expect((await api("GET", `/v1/events/${event.id}/checkin-list`, { token: scanner.token })).status).toBe(200);
    const other = await createEvent([{ capacity: 1 }]);
    expect((await api("GET", `/v1/events/${other.id}/checkin-list`, { token: scanner.token })).status).toBe(403);
    expect((await api("GET", `/v1/events/${event.id}/checkin-keys`)).status).toBe(200);
    expect((await api("DELETE", `/v1/scanners/${scanner.id}`, admin)).status).toBe(204);
    expect((await scan(scanner.token, code)).status).toBe(401);
  });

  it("webhook endpoints, their deliveries and a retry", async () => {
    const endpoint = await newEndpoint({ events: ["order.paid"] });
    expect((await api("POST", "/v1/webhook-endpoints", { ...admin, body: { url: "http://x.example" } })).status).toBe(
      400,
    );
    expect((await api("GET", "/v1/webhook-endpoints", admin)).status).toBe(200);
    receiver.answerAt(endpoint.url, 500);
    await paidOrder();
    await webhookQueue.drain();
    const [delivery] = await deliveriesOf(endpoint.id);
    const deliveries = `/v1/webhook-endpoints/${endpoint.id}/deliveries`;
    expect((await api("GET", `${deliveries}?status=nope`, admin)).status).toBe(400);
    expect((await api("POST", `${deliveries}/${delivery?.id}/retry`, admin)).status).toBe(202);
    await webhookQueue.drain();
    expect((await api("POST", `${deliveries}/${delivery?.id}/retry`, admin)).status).toBe(409);
    expect((await api("DELETE", `/v1/webhook-endpoints/${endpoint.id}`, admin)).status).toBe(204);
    expect((await api("GET", deliveries, admin)).status).toBe(404);
  });

  it("health, the document itself, and the pages", async () => {
    expect((await api("GET", "/healthz")).status).toBe(200);
    expect((await api("GET", "/openapi.json")).status).toBe(200);
    for (const page of ["/scan", "/dashboard", "/checkout/complete?order=x", "/checkout/canceled"]) {
      expect((await fetchText(page)).status).toBe(200);
    }
    // The shop: an event's, and the one page for an id that names none.
    const event = await createEvent([{ capacity: 5 }]);
    expect((await fetchText(`/e/${event.id}`)).status).toBe(200);
    expect((await fetchText(`/e/${unknown.evt}`)).status).toBe(404);
    // The dashboard's QR of a text (a new scanner's token), for the organiser only.
    const qr = await api("POST", "/dashboard/qr", { token: ADMIN_TOKEN, body: { text: "scntok_example" } });
    expect(qr.status).toBe(200);
    expect(qr.headers.get("Content-Type")).toBe("image/svg+xml");
    expect((await api("POST", "/dashboard/qr", { body: { text: "x" } })).status).toBe(401);
    expect((await api("POST", "/dashboard/qr", { token: ADMIN_TOKEN, body: { text: "" } })).status).toBe(400);
  });

  it("every success answer the document declares was sent and validated above", async () => {
    const successes = (await documentedAnswers()).filter((a) => /\s2\d\d$/.test(a));
    expect(successes.filter((a) => !seenAnswers.has(a))).toEqual([]);
  });
});

/** A page for people (HTML, CSV), checked against the document like the JSON answers. */
const fetchText = (path: string) => api("GET", path, { token: ADMIN_TOKEN });
