/**
 * Stripe refuses the late-payment refund with a permanent error (e.g. the charge was already
 * refunded or disputed from the dashboard): retrying cannot help, so it is not retried, and the
 * organiser learns of it from the audit log (`refund.failed`, with Stripe's reason).
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { deliver, installFakeStripe } from "./fake-stripe";
import { api, auditActions, createEvent, reserve } from "./helpers";
import { checkedOutOrder, completedEvent, lapse } from "./payments";

let stripe: ReturnType<typeof installFakeStripe>;
beforeEach(() => {
  stripe = installFakeStripe();
  const fake = vi.mocked(globalThis.fetch).getMockImplementation();
  if (!fake) throw new Error("no fake");
  vi.mocked(globalThis.fetch).mockImplementation(async (input, init) => {
    const url = new URL(new Request(input, init).url);
    if (url.host === "stripe.test" && url.pathname === "/v1/refunds") {
      await fake(input, init); // recorded
      return new Response(
        JSON.stringify({
          error: {
            type: "invalid_request_error",
            code: "charge_already_refunded",
            message: "Charge has already been refunded.",
          },
        }),
        { status: 400, headers: { "Content-Type": "application/json" } },
      );
    }
    return fake(input, init);
  });
});
afterEach(() => {
  stripe.restore();
  vi.useRealTimers();
});

const tierObject = (tierId: string) => env.TIER_INVENTORY.getByName(tierId);

it("a refund Stripe refuses is audited (refund.failed) and stops being retried forever", async () => {
  const event = await createEvent([{ capacity: 2, holdSeconds: 60 }]);
  const tierId = event.tiers[0]?.id as string;
  const { order, session } = await checkedOutOrder(stripe, event.id, [{ tierId, quantity: 2 }]);
  await lapse([tierId]);
  expect((await reserve(event.id, [{ tierId, quantity: 2 }])).status).toBe(201);

  const paid = completedEvent(session);
  expect((await deliver(paid)).status).toBe(200);
  for (let i = 0; i < 6; i++) {
    vi.setSystemTime(Date.now() + 301_000);
    await runDurableObjectAlarm(tierObject(tierId));
  }
  // One attempt, no retries; the order reads closed and the organiser is told why.
  expect(stripe.calls.filter((c) => c.path === "/v1/refunds")).toHaveLength(1);
  const read = (await api("GET", `/v1/orders/${order.orderId}`, { token: order.orderToken })).body;
  expect(read).toMatchObject({ status: "canceled", tickets: [] });
  const failed = await auditActions(event.id, "refund.failed");
  expect(failed).toHaveLength(1);
});
