/**
 * Outgoing webhooks, delivered: order.paid once per paid order, signed to the Standard Webhooks
 * specification (checked with its reference library and by hand), retried on the contract's schedule
 * under the same webhook-id, the disable rules, a deleted endpoint, and the retry route.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { WEBHOOK_PAYLOADS } from "../src/routes/bodies";
import { deliver } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent } from "./helpers";
import { checkedOutOrder, completedEvent, useFakeStripe } from "./payments";
import { useReceiver } from "./receiver";
import { useWebhookQueue } from "./webhook-queue";
import { count, deliveriesOf, endpointAudit, newEndpoint, useOwnEndpoints, webhooksAt } from "./webhooks";

const stripe = useFakeStripe();
const queue = useWebhookQueue();
const receiver = useReceiver();
useOwnEndpoints();

/** A paid order of one tier of `capacity`: the Stripe webhook delivered, nothing run on the queue yet. */
async function paidOrder(quantity = 1, capacity = 10) {
  const event = await createEvent([{ capacity, price: 2500 }]);
  const tierId = event.tiers[0]?.id as string;
  const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity }]);
  expect((await deliver(completedEvent(session))).status).toBe(200);
  return { event, tierId, orderId: order.orderId as string, session };
}

const readOrder = async (orderId: string) =>
  (await api("GET", `/v1/orders/${orderId}`, { token: ADMIN_TOKEN })).body as Record<string, unknown>;

const fakeClock = () => vi.useFakeTimers({ toFake: ["Date"] });

/** HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the secret's bytes, base64: the signature by hand. */
async function expectedSignature(secret: string, id: string, timestamp: string, body: string) {
  const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
  );
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

describe("order.paid", () => {
  it("arrives once per paid order, however often Stripe reports the payment, signed so standardwebhooks verifies it", async () => {
    const endpoint = await newEndpoint();
    const { orderId, session } = await paidOrder(2);
    // Stripe duplicates its events, and may send the same payment under another event id.
    expect((await deliver(completedEvent(session))).status).toBe(200);
    expect((await deliver({ ...completedEvent(session), id: "evt_webhook_again" })).status).toBe(200);
    await queue.drain();

    const hooks = webhooksAt(receiver.received, endpoint);
    expect(hooks.map((h) => h.type)).toEqual(["order.paid"]);
    expect(await count("SELECT COUNT(*) AS n FROM webhook_messages WHERE id LIKE ?", `msg_${orderId}_%`)).toBe(1);
    const [hook] = hooks;
    if (!hook) throw new Error("no webhook");
    const verified = new Webhook(endpoint.secret).verify(hook.received.body, hook.received.headers);
    expect(verified).toEqual(JSON.parse(hook.received.body));
    const { headers } = hook.received;
    expect(headers["webhook-id"]).toMatch(/^msg_/);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(hook.received.at / 1000)));
    expect(headers["webhook-signature"]).toBe(
      await expectedSignature(
        endpoint.secret,
        headers["webhook-id"] as string,
        headers["webhook-timestamp"] as string,
        hook.received.body,
      ),
    );
    expect(headers["content-type"]).toBe("application/json");
    // A tampered body or another secret fails verification.
    expect(() => new Webhook(endpoint.secret).verify(`${hook.received.body} `, headers)).toThrow();
    expect(() => new Webhook(`whsec_${btoa("x".repeat(32))}`).verify(hook.received.body, headers)).toThrow();

    // The body is { type, timestamp, data } and data is the Order as GET /v1/orders/:orderId answers it.
    expect(WEBHOOK_PAYLOADS["order.paid"].safeParse(verified).success).toBe(true);
    expect(hook.data).toEqual(await readOrder(orderId));
    expect(hook.data).toMatchObject({ id: orderId, status: "paid" });
    expect(hook.data.tickets).toHaveLength(2);

    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({
      messageId: headers["webhook-id"],
      type: "order.paid",
      status: "delivered",
      attempts: 1,
      lastStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    // Run everything again (a duplicated queue message, the sweep): nothing is sent twice.
    for (const task of [...queue.sent]) await env.WEBHOOK_QUEUE.send(task.body);
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1);
  });

  it("an endpoint gets only the types it subscribed to", async () => {
    const refundsOnly = await newEndpoint({ events: ["order.refunded"] });
    const everything = await newEndpoint({ events: ["*"] });
    await paidOrder();
    await queue.drain();
    expect(webhooksAt(receiver.received, refundsOnly)).toEqual([]);
    expect(webhooksAt(receiver.received, everything).map((h) => h.type)).toEqual(["order.paid"]);
  });
});

describe("retries", () => {
  it("a receiver answering 500 then 200 gets the same webhook-id twice; the delivery reads delivered with 2 attempts", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    receiver.answer(500);
    await paidOrder();
    await queue.drain();
    let [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastStatus: 500 });
    expect(delivery?.lastError).toContain("500");
    const first = webhooksAt(receiver.received, endpoint)[0]?.received.at as number;
    expect(Date.parse(delivery?.nextAttemptAt as string)).toBe(first + 5_000);

    await queue.advance(4_000);
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1); // not yet: the first step is 5 s
    await queue.advance(1_000);
    const hooks = webhooksAt(receiver.received, endpoint);
    expect(hooks).toHaveLength(2);
    expect(hooks[1]?.received.headers["webhook-id"]).toBe(hooks[0]?.received.headers["webhook-id"]);
    expect(hooks[1]?.received.body).toBe(hooks[0]?.received.body);
    [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2, lastStatus: 200, lastError: null });
    expect(delivery?.deliveredAt).toEqual(expect.any(String));
  });

  it("a receiver that always fails gets 8 attempts on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then the delivery is failed", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    receiver.alwaysAnswer(503);
    await paidOrder();
    await queue.drain();
    while (await queue.next()) {
      // each wake-up of the delivery's queue message
    }
    const arrivals = webhooksAt(receiver.received, endpoint).map((h) => h.received.at);
    const gaps = arrivals.slice(1).map((at, i) => (at - (arrivals[i] as number)) / 1000);
    expect(gaps).toEqual([5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 8, lastStatus: 503, nextAttemptAt: null });
    // A network fault is a failed attempt like any other; the endpoint is not disabled (not 5 days yet).
    const list = (await api("GET", "/v1/webhook-endpoints", { token: ADMIN_TOKEN })).body.endpoints;
    expect(list.find((e: { id: string }) => e.id === endpoint.id)?.disabledAt).toBeNull();
  });

  it("a network fault counts as a failed attempt, retried", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    receiver.answer("network error");
    await paidOrder();
    await queue.drain();
    let [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastStatus: null });
    expect(delivery?.lastError).toContain("connection refused");
    await queue.advance(5_000);
    [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2 });
  });
});

describe("an endpoint whose secret cannot be read", () => {
  it("fails its delivery at once, with the reason, and claims no attempt", async () => {
    const endpoint = await newEndpoint();
    // What a changed APP_SECRET leaves: a sealed secret this deployment cannot open.
    await env.DB.prepare("UPDATE webhook_endpoints SET secret_sealed = ? WHERE id = ?")
      .bind("garbage", endpoint.id)
      .run();
    await paidOrder();
    await queue.drain();
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 0 });
    expect(delivery?.lastError).toContain("secret cannot be read");
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(0);
  });
});

describe("disabling", () => {
  it("410 Gone disables the endpoint at once (audited); it gets nothing more", async () => {
    const endpoint = await newEndpoint();
    receiver.answer(410);
    await paidOrder();
    await queue.drain();
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 1, lastStatus: 410 });
    const list = (await api("GET", "/v1/webhook-endpoints", { token: ADMIN_TOKEN })).body.endpoints;
    expect(list.find((e: { id: string }) => e.id === endpoint.id)?.disabledAt).toEqual(expect.any(String));
    const audit = await endpointAudit(endpoint.id);
    expect(audit.map((a) => a.action)).toEqual(["webhook_endpoint.created", "webhook_endpoint.disabled"]);
    expect(audit[1]?.data).toMatchObject({ reason: "gone", url: endpoint.url });

    await paidOrder();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
    // A retry of its delivery is refused: a disabled endpoint gets nothing more.
    const retry = await api("POST", `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery?.id}/retry`, {
      token: ADMIN_TOKEN,
    });
    expect(retry.status).toBe(409);
    expect(retry.body.code).toBe("ENDPOINT_DISABLED");
  });

  it("an endpoint whose attempts have all failed for 5 days is disabled (audited); its pending deliveries fail", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    receiver.alwaysAnswer(500);
    const day = 24 * 60 * 60 * 1000;
    for (let d = 0; d < 6; d++) {
      await paidOrder();
      await queue.drain();
      await queue.advance(day);
    }
    const list = (await api("GET", "/v1/webhook-endpoints", { token: ADMIN_TOKEN })).body.endpoints;
    const disabledAt = list.find((e: { id: string }) => e.id === endpoint.id)?.disabledAt;
    expect(disabledAt).toEqual(expect.any(String));
    const firstFailure = webhooksAt(receiver.received, endpoint)[0]?.received.at as number;
    expect(Date.parse(disabledAt) - firstFailure).toBeGreaterThanOrEqual(5 * day);
    const audit = await endpointAudit(endpoint.id);
    expect(audit.filter((a) => a.action === "webhook_endpoint.disabled")).toEqual([
      { action: "webhook_endpoint.disabled", data: { reason: "failing", url: endpoint.url } },
    ]);
    const deliveries = await deliveriesOf(endpoint.id);
    expect(deliveries.every((d) => d.status === "failed")).toBe(true);
    const after = webhooksAt(receiver.received, endpoint).length;
    while (await queue.next()) {
      // what is still on the queue finds the endpoint disabled
    }
    await paidOrder();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(after);
  });

  it("a delivery that goes through clears the failing streak: no disabling", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    const day = 24 * 60 * 60 * 1000;
    for (let d = 0; d < 6; d++) {
      // Fails all day but the day's last attempt goes through.
      receiver.answer(500, 500, 500, 500, 500);
      await paidOrder();
      await queue.drain();
      while (await queue.next()) {
        // the day's retries
      }
      await queue.advance(day);
    }
    const list = (await api("GET", "/v1/webhook-endpoints", { token: ADMIN_TOKEN })).body.endpoints;
    expect(list.find((e: { id: string }) => e.id === endpoint.id)?.disabledAt).toBeNull();
  });
});

describe("a deleted endpoint", () => {
  it("gets nothing more: its pending deliveries fail, new messages are not fanned out to it", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    const other = await newEndpoint();
    receiver.answerAt(endpoint.url, 500);
    await paidOrder();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1);
    expect((await api("DELETE", `/v1/webhook-endpoints/${endpoint.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    await queue.advance(5_000);
    await paidOrder();
    await queue.drain();
    while (await queue.next()) {
      // whatever is left
    }
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1);
    expect(webhooksAt(receiver.received, other)).toHaveLength(2);
    expect((await api("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { token: ADMIN_TOKEN })).status).toBe(
      404,
    );
    const audit = await endpointAudit(endpoint.id);
    expect(audit.map((a) => a.action)).toEqual(["webhook_endpoint.created", "webhook_endpoint.deleted"]);
  });
});

describe("POST …/deliveries/:deliveryId/retry", () => {
  it("queues a failed delivery again (202) for one more attempt; a delivered one is 409 ALREADY_DELIVERED", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    receiver.alwaysAnswer(500);
    await paidOrder();
    await queue.drain();
    while (await queue.next()) {
      // the whole schedule
    }
    const [failed] = await deliveriesOf(endpoint.id);
    expect(failed).toMatchObject({ status: "failed", attempts: 8 });
    receiver.alwaysAnswer(null);
    const path = `/v1/webhook-endpoints/${endpoint.id}/deliveries/${failed?.id}/retry`;
    const retried = await api("POST", path, { token: ADMIN_TOKEN });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: failed?.id, status: "pending", attempts: 8 });
    await queue.drain();
    const [delivered] = await deliveriesOf(endpoint.id);
    expect(delivered).toMatchObject({ status: "delivered", attempts: 9, lastStatus: 200 });
    const again = await api("POST", path, { token: ADMIN_TOKEN });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("ALREADY_DELIVERED");
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(9);
  });

  it("moves a pending delivery up to now; its earlier queue message then stops", async () => {
    fakeClock();
    const endpoint = await newEndpoint();
    receiver.answer(500, 500);
    await paidOrder();
    await queue.drain();
    await queue.advance(5_000); // attempt 2 fails: the next is due in 5 min
    const [pending] = await deliveriesOf(endpoint.id);
    expect(pending).toMatchObject({ status: "pending", attempts: 2 });
    const path = `/v1/webhook-endpoints/${endpoint.id}/deliveries/${pending?.id}/retry`;
    expect((await api("POST", path, { token: ADMIN_TOKEN })).status).toBe(202);
    await queue.drain();
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "delivered", attempts: 3 });
    while (await queue.next()) {
      // the older chain's message wakes at 5 min and stops
    }
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(3);
  });
});
