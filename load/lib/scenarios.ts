/**
 * What the benchmark measures: one scenario per route. A scenario prepares what it needs through the
 * API (once per server, shared through `ctx.once`), then names the request that autocannon repeats.
 * To measure another route (webhook fulfilment, check-ins, ...), add a scenario here and name it in
 * BENCH_SCENARIOS (or add it to DEFAULT_SCENARIOS).
 */
import type { RequestSpec } from "./measure.ts";

export interface ScenarioContext {
  baseUrl: string;
  adminToken: string;
  /** Calls the API and returns the parsed JSON body; throws unless the status is `expect`. */
  api<T = unknown>(method: string, path: string, body?: unknown, options?: ApiOptions): Promise<T>;
  /** Runs `make` once per server and caches its result under `key` (e.g. one event for all scenarios). */
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
}

export interface ApiOptions {
  token?: string;
  expect?: number;
}

export interface Scenario {
  name: string;
  /** One line for the report. */
  description: string;
  request(ctx: ScenarioContext): Promise<RequestSpec>;
  /** Optional facts gathered after the measurement (e.g. the tier's counters), stored with the figures. */
  after?(ctx: ScenarioContext): Promise<Record<string, unknown>>;
}

/** The route every other route is compared with: the cheapest thing the Worker serves. */
export const BASELINE = "healthz";
export const DEFAULT_SCENARIOS = ["healthz", "reservations"];

interface BenchEvent {
  id: string;
  tierId: string;
  capacity: number;
}

const LARGE_TIER_CAPACITY = 1_000_000;

/** One event with one general-admission tier large enough never to sell out during a run. */
function benchEvent(ctx: ScenarioContext): Promise<BenchEvent> {
  return ctx.once("bench-event", async () => {
    const event = await ctx.api<{ id: string; tiers: { id: string }[] }>(
      "POST",
      "/v1/events",
      {
        name: "Bench",
        startsAt: "2027-01-01T19:00:00Z",
        currency: "eur",
        maxTicketsPerOrder: 10,
        tiers: [{ name: "Floor", price: 2500, capacity: LARGE_TIER_CAPACITY, maxPerOrder: 10 }],
      },
      { token: ctx.adminToken, expect: 201 },
    );
    const tier = event.tiers[0];
    if (!tier) throw new Error("the bench event was created without its tier");
    return { id: event.id, tierId: tier.id, capacity: LARGE_TIER_CAPACITY };
  });
}

const JSON_HEADERS = { "Content-Type": "application/json" };

export const SCENARIOS: Record<string, Scenario> = {
  healthz: {
    name: "healthz",
    description: "GET /healthz: the floor (routing and middleware only)",
    request: async () => ({ method: "GET", path: "/healthz", expectStatus: 200 }),
  },

  reservations: {
    name: "reservations",
    description: "POST /v1/events/:eventId/reservations, quantity 1 on one 1,000,000-ticket tier",
    request: async (ctx) => {
      const event = await benchEvent(ctx);
      return {
        method: "POST",
        path: `/v1/events/${event.id}/reservations`,
        headers: JSON_HEADERS,
        body: JSON.stringify({ items: [{ tierId: event.tierId, quantity: 1 }] }),
        expectStatus: 201,
      };
    },
    after: async (ctx) => {
      const event = await benchEvent(ctx);
      const availability = await ctx.api<{ tiers: { tierId: string; available: number }[] }>(
        "GET",
        `/v1/events/${event.id}/availability`,
      );
      const tier = availability.tiers.find((t) => t.tierId === event.tierId);
      // Every hold of the run (warm-up and measurement), including requests still in flight when
      // autocannon stopped counting.
      return { ticketsHeldAfterRun: tier ? event.capacity - tier.available : null };
    },
  },

  // Diagnostics, not run by default: where does a reservation's time go?
  event: {
    name: "event",
    description: "GET /v1/events/:eventId: two D1 reads, no Durable Object",
    request: async (ctx) => ({ method: "GET", path: `/v1/events/${(await benchEvent(ctx)).id}`, expectStatus: 200 }),
  },

  availability: {
    name: "availability",
    description: "GET /v1/events/:eventId/availability: two D1 reads and one Durable Object RPC (no writes)",
    request: async (ctx) => ({
      method: "GET",
      path: `/v1/events/${(await benchEvent(ctx)).id}/availability`,
      expectStatus: 200,
    }),
  },
};

/** A ScenarioContext for one server. */
export function scenarioContext(baseUrl: string, adminToken: string): ScenarioContext {
  const cache = new Map<string, Promise<unknown>>();
  return {
    baseUrl,
    adminToken,
    async api<T>(method: string, path: string, body?: unknown, options: ApiOptions = {}): Promise<T> {
      const headers: Record<string, string> = {};
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const res = await fetch(new URL(path, baseUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      const expect = options.expect ?? 200;
      if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    },
    once<T>(key: string, make: () => Promise<T>): Promise<T> {
      let value = cache.get(key);
      if (!value) {
        value = make();
        cache.set(key, value);
      }
      return value as Promise<T>;
    },
  };
}
