/**
 * checkout-race: 200 VUs at once on one tier of 50 (smoke: 40 on 10); each reserves one ticket, checks
 * out and pays with a signed webhook as fast as it can, once. Pass: exactly 50 paid orders and 50
 * tickets, 0 oversell, every 200 webhook a paid order (no lost payment), every reservation refused
 * 409 SOLD_OUT, reserve p95 < 500 ms (and the runner's: no failed check, no 5xx...).
 */

import { createEvent } from "../../common/events.ts";
import { checkSale } from "../checks.ts";
import { measured, runVus } from "../engine.ts";
import { buy } from "../steps.ts";
import { exactly, latencyBelow, type SuiteScenario } from "../thresholds.ts";

export const checkoutRace: SuiteScenario = {
  name: "checkout-race",
  description: "200 VUs race for one tier of 50: reserve → checkout → signed webhook, once each",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke ? { vus: 40, capacity: 10 } : { vus: 200, capacity: 50 };
    const event = await createEvent(ctx, "Load: checkout-race", { price: 2500, capacity: settings.capacity });
    const { metrics, http } = measured(ctx.baseUrl);
    const paidByClients = new Set<string>();
    let soldOut = 0;
    await runVus(metrics, {
      vus: settings.vus,
      iterationsPerVu: 1,
      async iteration() {
        const purchase = await buy(http, metrics, ctx.webhookSecret, event, true);
        if (purchase.kind === "paid") paidByClients.add(purchase.order.orderId);
        if (purchase.kind === "sold_out") soldOut++;
        return undefined;
      },
    });
    const sale = await checkSale(ctx, event, paidByClients);
    return {
      eventId: event.id,
      settings,
      metrics,
      facts: { ...sale.facts, refusedSoldOut: soldOut },
      thresholds: [
        exactly("paid orders", sale.facts.paidOrders, settings.capacity),
        exactly("tickets of paid orders", sale.facts.ticketsOfPaidOrders, settings.capacity),
        ...sale.thresholds,
        exactly("reservations refused SOLD_OUT", soldOut, settings.vus - settings.capacity),
        latencyBelow(metrics, "reserve", 95, 500),
      ],
    };
  },
};
