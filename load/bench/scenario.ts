/**
 * What a benchmark scenario is: how it prepares a measured phase, and what it hands the bench to run;
 * and the one large event the scenarios share.
 */
import type { ScenarioContext } from "../common/context.ts";
import { createEvent, type LoadEvent } from "../common/events.ts";
import { type Measurement, measure, type RequestSpec } from "./measure.ts";

export interface Phase {
  /** The warm-up is run and thrown away; the measured phase is the one reported. */
  kind: "warmup" | "measure";
  seconds: number;
  /** Concurrent connections (autocannon) or buyers (journeys). */
  connections: number;
  /** The bench's settings that some scenarios read. */
  options: ScenarioOptions;
}

export interface ScenarioOptions {
  /** `--holds`: the active holds `flatness-n` measures reservations at. */
  holds: number;
}

/** A prepared phase: everything before the clock starts is done; `run` is what is measured. */
export interface Load {
  /** For the report: the route measured (a journey names its first request and lists the rest). */
  method: string;
  path: string;
  run(): Promise<Measurement & { extra?: Record<string, unknown> }>;
}

export interface Scenario {
  name: string;
  /** One line for the report. */
  description: string;
  /** Which setting sets its concurrency: `--connections` (autocannon) or `--buyers` (journeys). */
  concurrency: "connections" | "buyers";
  /** A fixed concurrency that overrides the setting (the door's 32 scanners). */
  connections?: number;
  /** Another scenario this one is divided by in the summary (forged over real check-ins). */
  compareWith?: string;
  /** What is divided (default req/s; `p99`: this one's p99 latency over the other's). */
  compareOn?: "req/s" | "p99";
  /** The issue's aim for that ratio, marked ✓/✗ on the Worker's servers. */
  compareAim?: { atLeast?: number; below?: number };
  /** Called once per phase (warm-up, then the measured one): sets up what it needs, off the clock. */
  prepare(ctx: ScenarioContext, phase: Phase): Promise<Load>;
  /** Optional facts gathered after the measurement (e.g. the tier's counters), stored with the figures. */
  after?(ctx: ScenarioContext): Promise<Record<string, unknown>>;
}

export const JSON_HEADERS = { "Content-Type": "application/json" };

const LARGE_TIER = { capacity: 1_000_000, price: 2500 };

/**
 * One event (per `key`, per server) with one general-admission tier large enough never to sell out:
 * priced for buyers by default, free (or otherwise) when asked.
 */
export function benchEvent(
  ctx: ScenarioContext,
  key: string,
  tier: { price: number; perOrder: number } = { price: LARGE_TIER.price, perOrder: 10 },
): Promise<LoadEvent> {
  return ctx.once(`event:${key}`, () =>
    createEvent(ctx, `Bench: ${key}`, { price: tier.price, capacity: LARGE_TIER.capacity, perOrder: tier.perOrder }),
  );
}

/** A phase in which autocannon repeats one request (see measure.ts). */
export function requestLoad(
  ctx: ScenarioContext,
  phase: Phase,
  request: RequestSpec,
  options: { maxRequests?: number } = {},
): Load {
  return {
    method: request.method,
    path: request.path,
    run: () =>
      measure({
        baseUrl: ctx.baseUrl,
        request,
        connections: phase.connections,
        durationSeconds: phase.seconds,
        ...options,
      }),
  };
}

/** A scenario whose every phase repeats the same request. */
export function requestScenario(
  fields: Pick<Scenario, "name" | "description" | "after">,
  request: (ctx: ScenarioContext) => Promise<RequestSpec>,
): Scenario {
  return {
    ...fields,
    concurrency: "connections",
    prepare: async (ctx, phase) => requestLoad(ctx, phase, await request(ctx)),
  };
}

/**
 * How many requests to prepare (off the clock) for a phase whose every request uses up what it was
 * given (an order to pay, a ticket to admit): for the warm-up, `warmup`; for the measured phase, the
 * warm-up's rate × seconds × `margin`, at least one per connection and at most `cap`.
 */
export function preparedCount(
  phase: Phase,
  warmupRate: number | undefined,
  plan: { warmup: number; margin: number; cap: number },
): { n: number; plannedFrom: string } {
  if (phase.kind === "warmup") return { n: Math.min(plan.cap, plan.warmup), plannedFrom: "warm-up" };
  if (!warmupRate) return { n: plan.cap, plannedFrom: "no warm-up: the cap" };
  const n = Math.ceil(warmupRate * phase.seconds * plan.margin);
  return {
    n: Math.max(phase.connections, Math.min(plan.cap, n)),
    plannedFrom: `warm-up rate ${warmupRate.toFixed(0)}/s × ${phase.seconds}s × ${plan.margin}${n > plan.cap ? `, capped at ${plan.cap}` : ""}`,
  };
}
