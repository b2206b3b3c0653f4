/**
 * Flatness (issue 12, aim 5: reservations at 100,000 active holds ≥ 0.9× the rate at 0): the same
 * reservations as `reservations` (quantity 1), on one tier of 1,000,000 tickets whose holds last an
 * hour (the longest a tier allows), measured twice:
 *
 * - `flatness-0`: the tier fresh (its warm-up runs on another event, so the tier has no hold when
 *   the clock starts);
 * - `flatness-n`: the same tier once it holds `--holds` active holds (default 100,000). They are
 *   made off the clock, by reservations of one ticket each (it is the number of hold rows that
 *   matters), `connections` at a time through autocannon, which at ~700/s takes minutes: hence not a
 *   default scenario. The summary divides its rate by that of `flatness-0`.
 *
 * The tier's held count is read back (capacity − available; nothing is sold) before and after each
 * measured phase. With the Postgres peers on, each peer gets the same two rows (peers.ts). Every
 * reservation comes from an address of its own (common/clients.ts): the holds last an hour.
 */
import { reservationBody } from "../../common/buyers.ts";
import { clientHeader, nextAddress } from "../../common/clients.ts";
import type { ScenarioContext } from "../../common/context.ts";
import { createEvent, type LoadEvent } from "../../common/events.ts";
import { measure, type RequestSpec } from "../measure.ts";
import { benchEvent, JSON_HEADERS, type Load, type Phase, requestLoad, type Scenario } from "../scenario.ts";

const CAPACITY = 1_000_000;
/** The longest hold a tier allows (src/schemas/events.ts): the holds must outlive the preparation. */
const HOLD_SECONDS = 3600;
/** Holds made per autocannon run, between two progress lines. */
const FILL_CHUNK = 10_000;
/** Room left for the measured phases' own holds. */
export const MAX_HOLDS = CAPACITY - 100_000;

const heldTier = (ctx: ScenarioContext) =>
  ctx.once("flatness:event", () =>
    createEvent(ctx, "Bench: flatness", { price: 2500, capacity: CAPACITY, holdSeconds: HOLD_SECONDS }),
  );

const reserve = (event: LoadEvent): RequestSpec => ({
  method: "POST",
  path: `/v1/events/${event.id}/reservations`,
  headers: JSON_HEADERS,
  body: reservationBody(event),
  expectStatus: 201,
  client: () => nextAddress("buyer"),
});

/** The tier's active holds (nothing is sold on it). */
async function activeHolds(ctx: ScenarioContext, event: LoadEvent): Promise<number> {
  const availability = await ctx.api<{ tiers: { tierId: string; available: number }[] }>(
    "GET",
    `/v1/events/${event.id}/availability`,
    undefined,
    { headers: clientHeader(nextAddress("buyer")) },
  );
  const tier = availability.tiers.find((t) => t.tierId === event.tierId);
  if (!tier) throw new Error(`the availability of event ${event.id} lists no tier ${event.tierId}`);
  return event.capacity - tier.available;
}

/** Reserves one ticket at a time until the tier holds `target` active holds. */
async function fillTo(ctx: ScenarioContext, event: LoadEvent, target: number, connections: number): Promise<void> {
  let held = await activeHolds(ctx, event);
  if (held >= target) return;
  const from = held;
  const started = performance.now();
  while (held < target) {
    const n = Math.min(FILL_CHUNK, target - held);
    const m = await measure({
      baseUrl: ctx.baseUrl,
      request: reserve(event),
      connections,
      durationSeconds: 3600,
      maxRequests: n,
    });
    if (m.unexpected > 0 || m.errors > 0) {
      throw new Error(
        `preparing holds: ${m.unexpected} answers not 201, ${m.errors} errors (${JSON.stringify(m.statusCodes)})`,
      );
    }
    held = await activeHolds(ctx, event);
    const seconds = (performance.now() - started) / 1000;
    ctx.log(`  flatness: ${held} active holds (${((held - from) / seconds).toFixed(0)}/s over ${seconds.toFixed(0)}s)`);
  }
}

/** The measured phase on `event`, with the tier's holds before and after it. */
function measured(ctx: ScenarioContext, phase: Phase, event: LoadEvent): Load {
  const load = requestLoad(ctx, phase, reserve(event));
  return {
    ...load,
    run: async () => {
      const activeHoldsAtStart = await activeHolds(ctx, event);
      const m = await load.run();
      return { ...m, extra: { activeHoldsAtStart } };
    },
  };
}

const afterRun = async (ctx: ScenarioContext) => ({ activeHoldsAfterRun: await activeHolds(ctx, await heldTier(ctx)) });

export const flatness0: Scenario = {
  name: "flatness-0",
  description:
    "POST /v1/events/:eventId/reservations, quantity 1, on a fresh 1,000,000-ticket tier with one-hour holds (0 active holds; warm-up on another event)",
  concurrency: "connections",
  async prepare(ctx, phase) {
    if (phase.kind === "warmup") return requestLoad(ctx, phase, reserve(await benchEvent(ctx, "flatness-warmup")));
    return measured(ctx, phase, await heldTier(ctx));
  },
  after: afterRun,
};

export const flatnessN: Scenario = {
  name: "flatness-n",
  description:
    "the same reservations on the same tier once it holds --holds active holds (default 100,000; prepared off the clock, one ticket each)",
  concurrency: "connections",
  compareWith: "flatness-0",
  compareAim: { atLeast: 0.9 },
  async prepare(ctx, phase) {
    const event = await heldTier(ctx);
    await fillTo(ctx, event, phase.options.holds, phase.connections);
    return phase.kind === "warmup" ? requestLoad(ctx, phase, reserve(event)) : measured(ctx, phase, event);
  },
  after: afterRun,
};
