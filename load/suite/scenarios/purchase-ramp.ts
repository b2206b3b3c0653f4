/**
 * purchase-ramp: VUs ramp from 0 to 100 over 30 s, then all 100 hold for 30 s more (smoke: 10, 5 s and
 * 5 s), on a 1,000,000-ticket tier, each buying one ticket after another (reserve → checkout → signed
 * webhook) until the time is up. The tier cannot sell out, so any 409 fails. Pass: http_req_duration
 * p95 < 500 ms, http_req_failed < 1 %; and every 200 webhook a paid order.
 */

import { createEvent } from "../../common/events.ts";
import { checkSale } from "../checks.ts";
import { measured, runVus } from "../engine.ts";
import { buy } from "../steps.ts";
import { failedRateBelow, latencyBelow, type SuiteScenario } from "../thresholds.ts";

export const purchaseRamp: SuiteScenario = {
  name: "purchase-ramp",
  description: "VUs ramp 0 → 100 over 30 s, then hold 30 s, on a large tier, each buying ticket after ticket",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke
      ? { vus: 10, rampSeconds: 5, holdSeconds: 5 }
      : { vus: 100, rampSeconds: 30, holdSeconds: 30 };
    const event = await createEvent(ctx, "Load: purchase-ramp", { price: 2500, capacity: 1_000_000 });
    const { metrics, http } = measured(ctx.baseUrl);
    const paidByClients = new Set<string>();
    await runVus(metrics, {
      vus: settings.vus,
      rampSeconds: settings.rampSeconds,
      durationSeconds: settings.rampSeconds + settings.holdSeconds,
      async iteration() {
        const purchase = await buy(http, metrics, ctx.webhookSecret, event, false);
        if (purchase.kind === "paid") paidByClients.add(purchase.order.orderId);
        return undefined;
      },
    });
    const sale = await checkSale(ctx, event, paidByClients);
    return {
      eventId: event.id,
      settings: { ...settings, capacity: event.capacity },
      metrics,
      facts: sale.facts,
      thresholds: [latencyBelow(metrics, null, 95, 500), failedRateBelow(metrics, 0.01), ...sale.thresholds],
    };
  },
};
