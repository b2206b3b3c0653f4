/**
 * What the benchmark measures. A scenario prepares what it needs through the API (once per server,
 * shared through `ctx.once`), off the clock, then hands the bench what to run: autocannon repeating
 * one route (routes.ts, webhooks.ts, checkins.ts) or buyers' journeys of several requests
 * (reservation-to-paid.ts). To measure something else, add a scenario here and name it in
 * BENCH_SCENARIOS (or add it to DEFAULT_SCENARIOS).
 */

import type { Scenario } from "../scenario.ts";
import { checkins, checkinsForged } from "./checkins.ts";
import { reservationToPaid } from "./reservation-to-paid.ts";
import { availability, event, healthz, reservations } from "./routes.ts";
import { webhooks } from "./webhooks.ts";

/** The route every other one is compared with: the cheapest thing the Worker serves. */
export const BASELINE = "healthz";
export const DEFAULT_SCENARIOS = [
  "healthz",
  "reservations",
  "webhooks",
  "reservation-to-paid",
  "checkins",
  "checkins-forged",
];

// Diagnostics last: `event` and `availability` are not run by default.
const ALL = [healthz, reservations, webhooks, reservationToPaid, checkins, checkinsForged, event, availability];
export const SCENARIOS: Record<string, Scenario> = Object.fromEntries(ALL.map((s) => [s.name, s]));
