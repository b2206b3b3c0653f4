/**
 * Messages ride the same transaction as their change (DESIGN.md decision 15): a change whose D1 batch
 * fails writes no message and sends nothing; one that lands later lands with its message, delivered
 * once. And what should be on the queue gets there: the per-minute sweep puts back a message the tier
 * object could not queue, and a delivery whose queue message was lost.
 */
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { SWEEP_CRON } from "../src/domain/webhooks/sweep";
import worker from "../src/index";
import { deliver } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent } from "./helpers";
import { checkedOutOrder, completedEvent, useFakeStripe } from "./payments";
import { useReceiver } from "./receiver";
import { useWebhookQueue } from "./webhook-queue";
import { count, deliveriesOf, newEndpoint, useOwnEndpoints, webhooksAt } from "./webhooks";

const stripe = useFakeStripe();
const queue = useWebhookQueue();
const receiver = useReceiver();
useOwnEndpoints();

const sweep = () => worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: SWEEP_CRON }), env);

const messagesOf = (subjectId: string) =>
  count("SELECT COUNT(*) AS n FROM webhook_messages WHERE id LIKE ?", `msg_${subjectId}_%`);

describe("no message for a change that failed", () => {
  it("a refused refund whose D1 batch fails half-way writes no refund.failed message and sends nothing", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.useFakeTimers({ toFake: ["Date"] });
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    expect((await deliver(completedEvent(session))).status).toBe(200);
    await queue.drain();
    stripe.refuseRefundsWith("Charge has been disputed.");
    // The audit table vanishing makes the batch that records the refusal fail after its first statements.
    await env.DB.exec("ALTER TABLE audit_log RENAME TO audit_log_away");
    let res: Awaited<ReturnType<typeof api>>;
    try {
      res = await api("POST", `/v1/orders/${order.orderId}/refunds`, { token: ADMIN_TOKEN, body: {} });
    } finally {
      await env.DB.exec("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    expect(res.status).toBe(500);
    expect(await count("SELECT COUNT(*) AS n FROM webhook_messages WHERE type = 'refund.failed'")).toBe(0);
    expect(
      await count("SELECT COUNT(*) AS n FROM refunds WHERE order_id = ? AND status = 'pending'", order.orderId),
    ).toBe(1);
    await queue.advance(120_000);
    await sweep();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint).map((h) => h.type)).toEqual(["order.paid"]);
    expect((await deliveriesOf(endpoint.id)).map((d) => d.type)).toEqual(["order.paid"]);
  });

  it("a payment whose records D1 refuses leaves no message and sends nothing; once they land, one order.paid", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
    // D1 takes none of the tier object's writes: the tickets table is gone.
    await env.DB.exec("ALTER TABLE tickets RENAME TO tickets_away");
    let paid: Awaited<ReturnType<typeof deliver>>;
    try {
      paid = await deliver(completedEvent(session));
      expect(paid.status).toBe(500);
      expect(await messagesOf(order.orderId)).toBe(0);
      expect(await count("SELECT COUNT(*) AS n FROM orders WHERE id = ? AND status = 'paid'", order.orderId)).toBe(0);
      await queue.drain();
      expect(queue.sent).toEqual([]);
      expect(webhooksAt(receiver.received, endpoint)).toEqual([]);
    } finally {
      await env.DB.exec("ALTER TABLE tickets_away RENAME TO tickets");
    }
    // The object's alarm sends its outbox again: the order, its tickets and its message land together.
    await runDurableObjectAlarm(env.TIER_INVENTORY.getByName(tierId));
    expect(await messagesOf(order.orderId)).toBe(1);
    expect((await deliver(completedEvent(session))).status).toBe(200);
    await queue.drain();
    const hooks = webhooksAt(receiver.received, endpoint);
    expect(hooks.map((h) => h.type)).toEqual(["order.paid"]);
    expect(hooks[0]?.data).toMatchObject({ id: order.orderId, status: "paid" });
    expect(hooks[0]?.data.tickets).toHaveLength(2);
  });
});

describe("the per-minute sweep", () => {
  it("puts a landed message the tier object could not queue on the queue, a minute after its change", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.useFakeTimers({ toFake: ["Date"] });
    const endpoint = await newEndpoint();
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    queue.refuseSends(true);
    expect((await deliver(completedEvent(session))).status).toBe(200);
    queue.refuseSends(false);
    expect(await messagesOf(order.orderId)).toBe(1);
    await sweep(); // too soon: the object may still be queueing it
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toEqual([]);
    await queue.advance(61_000);
    await sweep();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint).map((h) => h.type)).toEqual(["order.paid"]);
    // Fanned out: the next sweeps leave it alone.
    await queue.advance(60_000);
    await sweep();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1);
  });

  it("puts back a delivery whose queue message was lost, once it is 5 minutes overdue", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const endpoint = await newEndpoint();
    receiver.answerAt(endpoint.url, 500);
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const { session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 1 }]);
    expect((await deliver(completedEvent(session))).status).toBe(200);
    await queue.drain();
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "pending", attempts: 1 });
    queue.loseAll();
    await queue.advance(5_000 + 4 * 60_000);
    await sweep();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(1);
    await queue.advance(61_000);
    await sweep();
    await queue.drain();
    expect(webhooksAt(receiver.received, endpoint)).toHaveLength(2);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "delivered", attempts: 2 });
  });
});
