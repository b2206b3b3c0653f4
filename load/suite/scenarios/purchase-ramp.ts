/**
 * purchase-ramp: VUs ramp from 0 to 100 over 30 s (smoke: 10 over 5 s) on a 1,000,000-ticket tier,
 * each buying one ticket after another (reserve → checkout → signed webhook) until the 30 s are up.
 * Pass: http_req_duration p95 < 500 ms, http_req_failed < 1 %; and every 200 webhook a paid order.
 */
import { httpClient, Metrics, runVus } from "../engine.ts";
import { exactly, failedRateBelow, latencyBelow, type SuiteScenario } from "../scenario.ts";
import { buy, createEvent, saleFacts } from "../setup.ts";

export const purchaseRamp: SuiteScenario = {
  name: "purchase-ramp",
  description: "VUs ramp 0 → 100 over 30 s on a large tier, each buying ticket after ticket",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke ? { vus: 10, rampSeconds: 5 } : { vus: 100, rampSeconds: 30 };
    const event = await createEvent(ctx, "purchase-ramp", { price: 2500, capacity: 1_000_000 });
    const metrics = new Metrics();
    const http = httpClient(ctx.baseUrl, metrics);
    const paidByClients = new Set<string>();
    await runVus(metrics, {
      vus: settings.vus,
      rampSeconds: settings.rampSeconds,
      durationSeconds: settings.rampSeconds,
      async iteration() {
        const purchase = await buy(http, metrics, ctx.webhookSecret, event);
        if (purchase.kind === "paid") paidByClients.add(purchase.order.orderId);
        return undefined;
      },
    });
    const { paidOrderIds, facts } = await saleFacts(ctx, event);
    const lost = [...paidByClients].filter((id) => !paidOrderIds.has(id)).length;
    return {
      eventId: event.id,
      settings: { ...settings, capacity: event.capacity },
      metrics,
      facts: { ...facts, paidByClients: paidByClients.size, lostPayments: lost },
      thresholds: [
        latencyBelow(metrics, null, 95, 500),
        failedRateBelow(metrics, 0.01),
        exactly("lost payments (webhook 200, order not paid)", lost, 0),
        exactly("tickets oversold", facts.oversold, 0),
      ],
    };
  },
};
