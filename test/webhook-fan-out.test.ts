/**
 * Fanning a message out when no endpoint wants it: no delivery, so no body is fixed (`payload` stays
 * null), yet the message is done with, and what else it sets off (the ticket e-mail of `order.paid`) is
 * written all the same. One an endpoint wants has its body fixed once, the bytes every attempt sends.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliver } from "./fake-stripe";
import { createEvent } from "./helpers";
import { checkedOutOrder, completedEvent, useFakeStripe } from "./payments";
import { useReceiver } from "./receiver";
import { useWebhookQueue } from "./webhook-queue";
import { count, newEndpoint, useOwnEndpoints, webhooksAt } from "./webhooks";

const stripe = useFakeStripe();
const queue = useWebhookQueue();
const receiver = useReceiver();
useOwnEndpoints();

async function paidOrder() {
  const event = await createEvent([{ capacity: 10, price: 2500 }]);
  const tierId = event.tiers[0]?.id as string;
  const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
  expect((await deliver(completedEvent(session))).status).toBe(200);
  return order.orderId as string;
}

const messageOf = (orderId: string) =>
  env.DB.prepare("SELECT id, payload, fanned_out_at FROM webhook_messages WHERE id LIKE ? AND type = 'order.paid'")
    .bind(`msg_${orderId}_%`)
    .first<{ id: string; payload: string | null; fanned_out_at: number | null }>();

describe("a message no endpoint wants", () => {
  it.each([
    ["no endpoint at all", [] as string[][]],
    ["only endpoints of other types", [["order.refunded"], ["tier.sold_out", "dispute.opened"]]],
  ])("%s: fanned out with no delivery and no payload; the ticket e-mail is written", async (_, subscriptions) => {
    const endpoints = await Promise.all(subscriptions.map((events) => newEndpoint({ events })));
    const orderId = await paidOrder();
    await queue.drain();

    const message = await messageOf(orderId);
    expect(message?.payload).toBeNull();
    expect(message?.fanned_out_at).toEqual(expect.any(Number));
    expect(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE message_id = ?", message?.id)).toBe(0);
    expect(queue.sent.filter((t) => t.body.kind === "delivery")).toEqual([]);
    for (const e of endpoints) expect(webhooksAt(receiver.received, e)).toEqual([]);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM ticket_emails WHERE id = ? AND order_id = ?",
        `eml_${orderId}_paid`,
        orderId,
      ),
    ).toBe(1);
    expect(queue.mailSent.map((t) => t.body)).toContainEqual(expect.objectContaining({ id: `eml_${orderId}_paid` }));
  });
});

describe("a message an endpoint wants", () => {
  it("has its body fixed once, the bytes its delivery sends; processing it again changes nothing", async () => {
    const endpoint = await newEndpoint({ events: ["order.paid"] });
    const orderId = await paidOrder();
    await queue.drain();

    const message = await messageOf(orderId);
    expect(message?.fanned_out_at).toEqual(expect.any(Number));
    const [hook] = webhooksAt(receiver.received, endpoint);
    expect(hook?.received.body).toBe(message?.payload);
    expect(hook?.data.tickets).toHaveLength(2);
    expect(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE message_id = ?", message?.id)).toBe(1);
  });
});
