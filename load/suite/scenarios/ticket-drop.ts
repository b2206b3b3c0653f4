/**
 * ticket-drop: 0 → 500 VUs in 10 s (smoke: 50 in 1 s) on one tier of 1,000 (smoke: 100); each buys
 * one ticket after another (reserve → checkout → signed webhook) until it is refused SOLD_OUT. Pass:
 * no oversell, every 200 webhook a paid order; reported: sell-out time (first SOLD_OUT, last ticket
 * paid), tickets and requests a second, latency per request.
 */

import { createEvent } from "../../common/events.ts";
import { checkSale } from "../checks.ts";
import { measured, runVus } from "../engine.ts";
import { buy } from "../steps.ts";
import { exactly, type SuiteScenario } from "../thresholds.ts";

export const ticketDrop: SuiteScenario = {
  name: "ticket-drop",
  description: "0 → 500 VUs in 10 s on one tier of 1,000, buying until sold out",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke
      ? { vus: 50, rampSeconds: 1, capacity: 100, maxSeconds: 60 }
      : { vus: 500, rampSeconds: 10, capacity: 1000, maxSeconds: 300 };
    const event = await createEvent(ctx, "Load: ticket-drop", { price: 2500, capacity: settings.capacity });
    const { metrics, http } = measured(ctx.baseUrl);
    const paidByClients = new Set<string>();
    let firstSoldOutMs: number | null = null;
    let lastPaidMs: number | null = null;
    await runVus(metrics, {
      vus: settings.vus,
      rampSeconds: settings.rampSeconds,
      // A safety net: a sale that never sells out ends here (and fails its thresholds).
      durationSeconds: settings.maxSeconds,
      async iteration() {
        const purchase = await buy(http, metrics, ctx.webhookSecret, event, true);
        if (purchase.kind === "paid") {
          paidByClients.add(purchase.order.orderId);
          lastPaidMs = metrics.elapsedMs();
        }
        if (purchase.kind === "sold_out") {
          firstSoldOutMs ??= metrics.elapsedMs();
          return "done";
        }
        return undefined;
      },
    });
    const sale = await checkSale(ctx, event, paidByClients);
    const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 10) / 100);
    const paidSeconds = seconds(lastPaidMs);
    return {
      eventId: event.id,
      settings,
      metrics,
      facts: {
        ...sale.facts,
        firstSoldOutSeconds: seconds(firstSoldOutMs),
        lastTicketPaidSeconds: paidSeconds,
        ticketsPaidPerSecond: paidSeconds ? Math.round((paidByClients.size / paidSeconds) * 10) / 10 : null,
      },
      thresholds: [
        ...sale.thresholds,
        exactly("tickets sold (the tier sold out, every hold paid)", sale.facts.tier.sold, settings.capacity),
      ],
    };
  },
};
