/**
 * What the benchmark measures. A scenario prepares what it needs through the API (once per server,
 * shared through `ctx.once`), off the clock, then hands the bench what to run: autocannon repeating
 * one route (routes.ts, webhooks.ts, checkins.ts) or buyers' journeys of several requests
 * (reservation-to-paid.ts). To measure something else, add a scenario here and name it in
 * BENCH_SCENARIOS (or add it to DEFAULT_SCENARIOS). A group names scenarios measured as a pair, the
 * second compared with the first (flatness.ts, availability-polling.ts): too long for a default run.
 */

import type { Scenario } from "../scenario.ts";
import { pollingOff, pollingOn } from "./availability-polling.ts";
import { checkins, checkinsForged } from "./checkins.ts";
import { flatness0, flatnessN } from "./flatness.ts";
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

/** `--scenarios flatness` runs flatness-0 then flatness-n; `availability-polling`, polling-off then polling-on. */
export const GROUPS: Record<string, string[]> = {
  flatness: ["flatness-0", "flatness-n"],
  "availability-polling": ["polling-off", "polling-on"],
};

// Not run by default: the pairs (minutes for flatness at 100,000 holds), then diagnostics (`event` and
// `availability`).
const ALL = [
  healthz,
  reservations,
  webhooks,
  reservationToPaid,
  checkins,
  checkinsForged,
  flatness0,
  flatnessN,
  pollingOff,
  pollingOn,
  event,
  availability,
];
export const SCENARIOS: Record<string, Scenario> = Object.fromEntries(ALL.map((s) => [s.name, s]));
