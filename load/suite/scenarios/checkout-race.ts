/**
 * checkout-race: 200 VUs at once on one tier of 50 (smoke: 40 on 10); each reserves one ticket, checks
 * out and pays with a signed webhook as fast as it can, once. Pass: exactly 50 paid orders and 50
 * tickets, 0 oversell, every 200 webhook a paid order (no lost payment), 0 responses 5xx, reserve
 * p95 < 500 ms.
 */
import { httpClient, Metrics, runVus } from "../engine.ts";
import { exactly, latencyBelow, noServerErrors, type SuiteScenario } from "../scenario.ts";
import { buy, createEvent, saleFacts } from "../setup.ts";

export const checkoutRace: SuiteScenario = {
  name: "checkout-race",
  description: "200 VUs race for one tier of 50: reserve → checkout → signed webhook, once each",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke ? { vus: 40, capacity: 10 } : { vus: 200, capacity: 50 };
    const event = await createEvent(ctx, "checkout-race", { price: 2500, capacity: settings.capacity });
    const metrics = new Metrics();
    const http = httpClient(ctx.baseUrl, metrics);
    const paidByClients = new Set<string>();
    let soldOut = 0;
    await runVus(metrics, {
      vus: settings.vus,
      iterationsPerVu: 1,
      async iteration() {
        const purchase = await buy(http, metrics, ctx.webhookSecret, event);
        if (purchase.kind === "paid") paidByClients.add(purchase.order.orderId);
        if (purchase.kind === "sold_out") soldOut++;
        return undefined;
      },
    });
    const { paidOrderIds, facts } = await saleFacts(ctx, event);
    const lost = [...paidByClients].filter((id) => !paidOrderIds.has(id)).length;
    return {
      eventId: event.id,
      settings,
      metrics,
      facts: { ...facts, paidByClients: paidByClients.size, refusedSoldOut: soldOut, lostPayments: lost },
      thresholds: [
        exactly("paid orders", facts.paidOrders, settings.capacity),
        exactly("tickets of paid orders", facts.ticketsOfPaidOrders, settings.capacity),
        exactly("tickets oversold", facts.oversold, 0),
        exactly("lost payments (webhook 200, order not paid)", lost, 0),
        noServerErrors(metrics),
        latencyBelow(metrics, "reserve", 95, 500),
      ],
    };
  },
};
