/**
 * What the benchmark measures. A scenario prepares what it needs through the API (once per server,
 * shared through `ctx.once`), off the clock, then hands the bench what to run: autocannon repeating
 * one route (routes.ts, webhooks.ts) or buyers' journeys of several requests (reservation-to-paid.ts).
 * To measure something else, add a scenario here and name it in BENCH_SCENARIOS (or add it to
 * DEFAULT_SCENARIOS).
 */
import { reservationToPaid } from "./reservation-to-paid.ts";
import { availability, event, healthz, reservations } from "./routes.ts";
import type { Scenario } from "./scenario.ts";
import { webhooks } from "./webhooks.ts";

export { type ScenarioContext, scenarioContext } from "./context.ts";
export type { Load, Phase, Scenario } from "./scenario.ts";

/** The route every other one is compared with: the cheapest thing the Worker serves. */
export const BASELINE = "healthz";
export const DEFAULT_SCENARIOS = ["healthz", "reservations", "webhooks", "reservation-to-paid"];

export const SCENARIOS: Record<string, Scenario> = Object.fromEntries(
  // Diagnostics last: `event` and `availability` are not run by default.
  [healthz, reservations, webhooks, reservationToPaid, event, availability].map((s) => [s.name, s]),
);
