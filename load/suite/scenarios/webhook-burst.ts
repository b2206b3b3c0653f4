/**
 * webhook-burst: Stripe's signed `checkout.session.completed` for 50 pending orders at 5 a second,
 * each sent twice at the same instant (a concurrent duplicate, as when Stripe redelivers an event
 * whose first delivery has not been answered: the two race on one unprocessed event and one order),
 * then the same 50 events again (same ids and bodies, signed anew, as Stripe redelivers them) mixed
 * with 10 badly signed ones (wrong secret, altered body, stale timestamp, no or malformed header), each
 * for one of 10 further pending orders; all at the same rate (smoke: 10 at 10/s, 10 duplicates, 5 bad).
 * Pass: each of the 50 orders paid once (one `order.paid` in the audit log, one ticket), the 10 others
 * still unpaid, originals and duplicates 200, bad ones 400 WEBHOOK_SIGNATURE_INVALID, p95 < 1 s; and,
 * against a service on this machine, a local receiver subscribed to `order.paid` gets exactly one
 * message (`webhook-id`) per paid order, each verified with `standardwebhooks`.
 */
import { type PendingOrder, paidWebhook, pendingOrders, stripeSignature } from "../../common/buyers.ts";
import { auditEntries, createEvent } from "../../common/events.ts";
import { startReceiver } from "../../common/webhook-receiver.ts";
import { saleFacts } from "../checks.ts";
import { measured, runArrivals } from "../engine.ts";
import { exactly, latencyBelow, type SuiteScenario, type Threshold } from "../thresholds.ts";

type Delivery = {
  kind: "original" | "raced duplicate" | "duplicate" | "bad signature";
  orderId: string;
  body: string;
  headers: () => Record<string, string>;
};

/** Five ways to get Stripe's signature wrong; each must be refused with 400 and change nothing. */
function badlySigned(secret: string, order: PendingOrder, i: number): Delivery {
  const { body } = paidWebhook(secret, order);
  const now = () => Math.floor(Date.now() / 1000);
  const json = { "Content-Type": "application/json" };
  const variants: (() => { body: string; headers: () => Record<string, string> })[] = [
    () => ({ body, headers: () => ({ ...json, "Stripe-Signature": stripeSignature(`${secret}-not`, body) }) }),
    () => ({
      // Signed, then altered: a cheaper amount.
      body: body.replace(`"amount_total":${order.amount}`, `"amount_total":1`),
      headers: () => ({ ...json, "Stripe-Signature": stripeSignature(secret, body) }),
    }),
    () => ({ body, headers: () => ({ ...json, "Stripe-Signature": stripeSignature(secret, body, now() - 600) }) }),
    () => ({ body, headers: () => json }),
    () => ({ body, headers: () => ({ ...json, "Stripe-Signature": "t=not-a-time,v1=zz" }) }),
  ];
  const variant = (variants[i % variants.length] as (typeof variants)[number])();
  return { kind: "bad signature", orderId: order.orderId, ...variant };
}

export const webhookBurst: SuiteScenario = {
  name: "webhook-burst",
  description: "50 signed checkout.session.completed at 5/s, each twice at once, the same 50 again, 10 badly signed",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke ? { orders: 10, bad: 5, ratePerSecond: 10 } : { orders: 50, bad: 10, ratePerSecond: 5 };
    const event = await createEvent(ctx, "Load: webhook-burst", {
      price: 2500,
      capacity: settings.orders + settings.bad,
    });
    const orders = await pendingOrders(ctx, event, settings.orders + settings.bad, 16);
    const good = orders.slice(0, settings.orders);
    const unpaid = orders.slice(settings.orders);
    const originals: Delivery[] = good.map((order) => {
      const { body } = paidWebhook(ctx.webhookSecret, order);
      return {
        kind: "original",
        orderId: order.orderId,
        body,
        // Signed when sent, as Stripe signs every delivery.
        headers: () => ({
          "Content-Type": "application/json",
          "Stripe-Signature": stripeSignature(ctx.webhookSecret, body),
        }),
      };
    });
    const duplicates: Delivery[] = originals.map((d) => ({ ...d, kind: "duplicate" }));
    const bad = unpaid.map((order, i) => badlySigned(ctx.webhookSecret, order, i));
    // The duplicates, with a bad one after every few.
    const every = Math.ceil(duplicates.length / Math.max(1, bad.length));
    const left = [...bad];
    const second = duplicates.flatMap((d, i) =>
      (i + 1) % every === 0 && left.length > 0 ? [d, left.shift() as Delivery] : [d],
    );
    second.push(...left);
    // What arrives together: an original with its concurrent duplicate; then one delivery at a time.
    const stream = [
      ...originals.map((d): Delivery[] => [d, { ...d, kind: "raced duplicate" }]),
      ...second.map((d) => [d]),
    ];

    const local = ["127.0.0.1", "localhost"].includes(new URL(ctx.baseUrl).hostname);
    const receiver = local ? await startReceiver() : null;
    const endpoint = receiver
      ? await ctx.api<{ id: string; secret: string }>(
          "POST",
          "/v1/webhook-endpoints",
          { url: receiver.url, events: ["order.paid"], description: "load: webhook-burst" },
          { token: ctx.adminToken, expect: 201 },
        )
      : null;
    if (endpoint) receiver?.useSecret(endpoint.secret);

    const { metrics, http } = measured(ctx.baseUrl);
    await runArrivals(metrics, {
      rate: settings.ratePerSecond,
      items: stream,
      async run(deliveries) {
        await Promise.all(
          deliveries.map(async (d) => {
            const bad = d.kind === "bad signature";
            const r = await http.request(`webhook ${d.kind}`, "POST", "/v1/webhooks/stripe", {
              raw: d.body,
              headers: d.headers(),
              expect: [bad ? "400 WEBHOOK_SIGNATURE_INVALID" : 200],
            });
            metrics.check(bad ? "bad signature: 400 WEBHOOK_SIGNATURE_INVALID" : `${d.kind}: 200`, r.ok, `${r.status}`);
          }),
        );
      },
    });

    const [{ paidOrderIds, facts }, paidEntries] = await Promise.all([
      saleFacts(ctx, event),
      auditEntries(ctx, event.id, "order.paid"),
    ]);
    const paidTimes = new Map<string, number>();
    for (const e of paidEntries) paidTimes.set(e.subject.id, (paidTimes.get(e.subject.id) ?? 0) + 1);
    const fulfilledOnce = good.filter((o) => paidOrderIds.has(o.orderId) && paidTimes.get(o.orderId) === 1).length;
    const fulfilledTwice = [...paidTimes.values()].filter((n) => n > 1).length;
    const badPaid = unpaid.filter((o) => paidOrderIds.has(o.orderId) || paidTimes.has(o.orderId)).length;
    const delivered = receiver ? await orderPaidDeliveries(receiver, event.id, settings.orders) : null;
    if (endpoint)
      await ctx.api("DELETE", `/v1/webhook-endpoints/${endpoint.id}`, undefined, {
        token: ctx.adminToken,
        expect: 204,
      });
    await receiver?.close();
    const deliveryThresholds: Threshold[] = delivered
      ? [
          exactly("order.paid messages received (one webhook-id a paid order)", delivered.ids, settings.orders),
          exactly("orders the order.paid messages were for", delivered.orders, settings.orders),
          exactly(
            "order.paid messages of unpaid orders",
            unpaid.filter((o) => delivered.orderIds.has(o.orderId)).length,
            0,
          ),
          exactly("order.paid messages standardwebhooks did not verify", delivered.unverified, 0),
        ]
      : [];
    const count = (kind: Delivery["kind"], status: number) =>
      metrics.requests.get(`webhook ${kind}`)?.statuses[status] ?? 0;
    return {
      eventId: event.id,
      settings: { ...settings, deliveries: stream.flat().length },
      metrics,
      facts: {
        ...facts,
        orderPaidAuditEntries: paidEntries.length,
        fulfilledOnce,
        fulfilledTwice,
        badOrdersPaid: badPaid,
        ...(delivered ? { orderPaidMessages: delivered.ids, orderPaidMessageSeconds: delivered.seconds } : {}),
      },
      thresholds: [
        exactly("orders fulfilled exactly once", fulfilledOnce, settings.orders),
        exactly("orders fulfilled twice or more", fulfilledTwice, 0),
        exactly("order.paid audit entries", paidEntries.length, settings.orders),
        exactly("tickets of paid orders", facts.ticketsOfPaidOrders, settings.orders),
        exactly("originals answered 200", count("original", 200), settings.orders),
        exactly("raced duplicates answered 200", count("raced duplicate", 200), settings.orders),
        exactly("duplicates answered 200", count("duplicate", 200), settings.orders),
        exactly("bad signatures answered 400", count("bad signature", 400), settings.bad),
        exactly("orders paid by a bad signature", badPaid, 0),
        latencyBelow(metrics, null, 95, 1000),
        ...deliveryThresholds,
      ],
    };
  },
};

/**
 * The `order.paid` messages of the event the receiver has, once `expected` have come or 30 s have
 * passed (delivery is from a queue, a little after the payment), and 2 s more for any extra one.
 */
async function orderPaidDeliveries(
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  eventId: string,
  expected: number,
) {
  const started = Date.now();
  const mine = () => receiver.received.filter((r) => r.type === "order.paid" && r.data.eventId === eventId);
  while (new Set(mine().map((r) => r.id)).size < expected && Date.now() - started < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const messages = mine();
  const orderIds = new Set(messages.map((r) => String(r.data.id)));
  return {
    ids: new Set(messages.map((r) => r.id)).size,
    orders: orderIds.size,
    orderIds,
    unverified: messages.filter((r) => !r.verified).length,
    seconds,
  };
}
