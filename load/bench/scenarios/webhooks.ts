/**
 * Signed webhooks fulfilled per second: Stripe's `checkout.session.completed`, one per pending order
 * (each a new event id for a different order, so none is deduplicated), at `--connections`.
 *
 * The orders are prepared before the clock starts (reserve + check out, 16 buyers at a time). How
 * many: the warm-up delivers `connections × 3`, and its rate sizes the measured phase (that rate ×
 * its seconds × 1.2, at most 3,000). autocannon sends at most that many, so a run faster than the
 * warm-up stops early (reported, with its rate over the time it ran) rather than send a webhook twice.
 * Afterwards the event's audit log counts the orders paid, and a random sample of 20 is read back,
 * each read by a buyer of its own (common/clients.ts; the orders were too, by pendingOrders).
 */
import { randomInt } from "node:crypto";
import {
  isPaid,
  type OrderView,
  type PendingOrder,
  paidWebhook,
  pendingOrders,
  stripeSignature,
} from "../../common/buyers.ts";
import { clientHeader, nextAddress } from "../../common/clients.ts";
import type { ScenarioContext } from "../../common/context.ts";
import { auditEntries } from "../../common/events.ts";
import type { RequestSpec } from "../measure.ts";
import { benchEvent, preparedCount, requestLoad, type Scenario } from "../scenario.ts";

const MAX_ORDERS = 3000;
const WARMUP_ORDERS_PER_CONNECTION = 3;
const MARGIN = 1.2;
const PREPARE_CONCURRENCY = 16;
const SAMPLE = 20;
/** How long a sampled order that does not read paid yet is given (its webhook was in flight at the stop). */
const IN_FLIGHT_GRACE_MS = 3_000;

interface PhaseRecord {
  prepared: number;
  prepareSeconds: number;
  /** Orders whose webhook was sent (taken by autocannon). */
  delivered: PendingOrder[];
  /** Webhooks answered 200: each must have paid its order. */
  answered200: number;
}

interface State {
  warmup?: PhaseRecord & { rate: number };
  measure?: PhaseRecord & { plannedFrom: string };
}

const stateOf = (ctx: ScenarioContext) => ctx.once("webhooks:state", async (): Promise<State> => ({}));

export const webhooks: Scenario = {
  name: "webhooks",
  description:
    "POST /v1/webhooks/stripe: a signed checkout.session.completed per pending order (1 ticket each, one 1,000,000-ticket tier), fulfilled before the 200",
  concurrency: "connections",

  async prepare(ctx, phase) {
    const [event, state] = await Promise.all([benchEvent(ctx, "webhooks"), stateOf(ctx)]);
    const { n, plannedFrom } = preparedCount(phase, state.warmup?.rate, {
      warmup: phase.connections * WARMUP_ORDERS_PER_CONNECTION,
      margin: MARGIN,
      cap: MAX_ORDERS,
    });
    const started = performance.now();
    const orders = await pendingOrders(ctx, event, n, PREPARE_CONCURRENCY);
    const prepareSeconds = (performance.now() - started) / 1000;
    ctx.log(
      `  webhooks ${phase.kind}: ${n} pending orders prepared in ${prepareSeconds.toFixed(1)}s ` +
        `(${(n / prepareSeconds).toFixed(0)}/s; ${plannedFrom})`,
    );
    const record: PhaseRecord = { prepared: n, prepareSeconds, delivered: [], answered200: 0 };
    const request: RequestSpec = {
      method: "POST",
      path: "/v1/webhooks/stripe",
      expectStatus: 200,
      perRequest: () => {
        const order = orders[record.delivered.length];
        // Never reached (autocannon sends at most `n`); if it were, a bad signature (400) shows it.
        if (!order) return { body: "{}", headers: { "Stripe-Signature": stripeSignature("not-the-secret", "{}") } };
        record.delivered.push(order);
        return paidWebhook(ctx.webhookSecret, order);
      },
    };
    const load = requestLoad(ctx, phase, request, { maxRequests: n });
    return {
      ...load,
      run: async () => {
        const m = await load.run();
        record.answered200 = m.statusCodes["200"] ?? 0;
        if (phase.kind === "warmup") state.warmup = { ...record, rate: m.requestsPerSec };
        else state.measure = { ...record, plannedFrom };
        return m;
      },
    };
  },

  /** Every order of the event that reads paid (its audit log), and a random sample read back. */
  async after(ctx) {
    const [event, state] = await Promise.all([benchEvent(ctx, "webhooks"), stateOf(ctx)]);
    const measured = state.measure;
    if (!measured) return {};
    const pool = [...measured.delivered];
    const sample = Array.from(
      { length: Math.min(SAMPLE, pool.length) },
      () => pool.splice(randomInt(pool.length), 1)[0],
    ).filter((o): o is PendingOrder => o !== undefined);
    const read = (o: PendingOrder) =>
      ctx.api<OrderView>("GET", `/v1/orders/${o.orderId}`, undefined, {
        token: o.orderToken,
        headers: clientHeader(nextAddress("buyer")),
      });
    // A webhook still in flight when autocannon stopped is answered (and its order paid) a moment later.
    const unpaidNow = (await Promise.all(sample.map(read))).flatMap((v, i) => (isPaid(v) ? [] : [sample[i]]));
    if (unpaidNow.length > 0) await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_GRACE_MS));
    const stillUnpaid = (await Promise.all(unpaidNow.map((o) => read(o as PendingOrder)))).filter((v) => !isPaid(v));
    const samplePaid = sample.length - stillUnpaid.length;
    const ordersPaid = (await auditEntries(ctx, event.id, "order.paid")).length;
    const summary = (r: PhaseRecord) => ({
      ordersPrepared: r.prepared,
      prepareSeconds: Math.round(r.prepareSeconds * 10) / 10,
      webhooksSent: r.delivered.length,
      answered200: r.answered200,
    });
    const answered200 = (state.warmup?.answered200 ?? 0) + measured.answered200;
    const problems = [
      ...(samplePaid < sample.length
        ? [`${sample.length - samplePaid} of ${sample.length} sampled orders not paid`]
        : []),
      ...(ordersPaid < answered200 ? [`${answered200} webhooks answered 200 but ${ordersPaid} orders paid`] : []),
    ];
    return {
      warmup: state.warmup ? { ...summary(state.warmup), ratePerSec: Math.round(state.warmup.rate) } : null,
      measured: { ...summary(measured), plannedFrom: measured.plannedFrom },
      // Warm-up and measured phase together. Every 200 must have paid its order; a webhook still in
      // flight when autocannon stopped may have paid one too.
      webhooksSent: (state.warmup?.delivered.length ?? 0) + measured.delivered.length,
      answered200,
      ordersPaidInEvent: ordersPaid,
      sampleChecked: sample.length,
      samplePaidWithTickets: samplePaid,
      ...(problems.length > 0 ? { problems } : {}),
    };
  },
};
