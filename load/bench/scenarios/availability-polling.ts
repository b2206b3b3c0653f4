/**
 * Availability polling never slows sales (issue 12, aim 4: 20 clients polling a 20,000-seat tier's
 * availability change reservations' p99 by < 20 %). One event with two tiers: a seated tier of
 * 20,000 seats (the most a tier takes, src/schemas/events.ts; added 2,000 a request, under the API's
 * 64 KiB body limit), 1 seat in 20 held at random places (so a seat map does not read as one run of
 * free seats), and a 1,000,000-ticket general-admission tier. Reservations of one general-admission
 * ticket at `--connections`, measured twice:
 *
 * - `polling-off`: alone;
 * - `polling-on`: while 20 clients poll `GET /v1/events/:eventId/availability` in closed loops (each
 *   asks again as soon as its answer is read; no think time), started before the warm-up's or the
 *   measured phase's clock and stopped after it. The summary divides its p99 by that of `polling-off`;
 *   the pollers' own rate and latency go with its figures (`extra.pollers`).
 *
 * The pollers read the body as bytes, not JSON, to keep this process's CPU for autocannon. Every
 * reservation, and every poll (a closed loop with no think time would soon go over one client's
 * limit), comes from an address of its own (common/clients.ts).
 */
import { randomInt } from "node:crypto";
import { clientHeader, nextAddress } from "../../common/clients.ts";
import type { ScenarioContext } from "../../common/context.ts";
import { Trend } from "../../common/latency.ts";
import { JSON_HEADERS, type Load, type Phase, requestLoad, type Scenario } from "../scenario.ts";

const SEATS = 20_000;
const SEATS_PER_REQUEST = 2_000;
const SEATS_PER_ROW = 200;
const HELD_EVERY = 20;
const SEATS_PER_HOLD = 10;
const POLLERS = 20;

interface PolledEvent {
  id: string;
  gaTierId: string;
  seatedTierId: string;
  /** One availability answer's size, when set up. */
  availabilityBytes: number;
  seatsHeld: number;
}

const seatLabel = (i: number) => `R${Math.floor(i / SEATS_PER_ROW) + 1}-${(i % SEATS_PER_ROW) + 1}`;

function polledEvent(ctx: ScenarioContext): Promise<PolledEvent> {
  return ctx.once("polling:event", async () => {
    const labels = Array.from({ length: SEATS }, (_, i) => seatLabel(i));
    const batches = Array.from({ length: SEATS / SEATS_PER_REQUEST }, (_, b) =>
      labels.slice(b * SEATS_PER_REQUEST, (b + 1) * SEATS_PER_REQUEST),
    );
    const auth = { token: ctx.adminToken, expect: 201 } as const;
    const event = await ctx.api<{ id: string; tiers: { id: string; name: string }[] }>(
      "POST",
      "/v1/events",
      {
        name: `Bench: availability-polling ${new Date().toISOString()}`,
        startsAt: "2030-06-01T19:00:00Z",
        currency: "eur",
        maxTicketsPerOrder: SEATS_PER_HOLD,
        tiers: [
          { name: "General admission", price: 2500, capacity: 1_000_000, maxPerOrder: SEATS_PER_HOLD },
          { name: "Stalls", price: 5000, seats: batches[0], maxPerOrder: SEATS_PER_HOLD },
        ],
      },
      auth,
    );
    const [ga, seated] = [event.tiers.find((t) => t.name !== "Stalls"), event.tiers.find((t) => t.name === "Stalls")];
    if (!ga || !seated) throw new Error(`event ${event.id} was created without its two tiers`);
    for (const seats of batches.slice(1)) {
      await ctx.api("PATCH", `/v1/tiers/${seated.id}`, { addSeats: seats }, { token: ctx.adminToken });
    }
    // 1 seat in 20, at random, held in reservations of 10 seats (8 at a time).
    const pool = [...labels];
    const held = Array.from({ length: SEATS / HELD_EVERY }, () => pool.splice(randomInt(pool.length), 1)[0] as string);
    const holds = Array.from({ length: held.length / SEATS_PER_HOLD }, (_, i) =>
      held.slice(i * SEATS_PER_HOLD, (i + 1) * SEATS_PER_HOLD),
    );
    let next = 0;
    const holder = async () => {
      for (let i = next++; i < holds.length; i = next++) {
        await ctx.api(
          "POST",
          `/v1/events/${event.id}/reservations`,
          {
            items: [{ tierId: seated.id, seats: holds[i] }],
          },
          { headers: clientHeader(nextAddress("buyer")), expect: 201 },
        );
      }
    };
    await Promise.all(Array.from({ length: 8 }, holder));
    // The tier must count every seat and the holds (read from its counts, not its seat map, whose
    // encoding may change; a cached answer may take a moment to catch up).
    let text = "";
    for (let attempt = 1; ; attempt++) {
      const url = new URL(`/v1/events/${event.id}/availability`, ctx.baseUrl);
      text = await (await fetch(url, { headers: clientHeader(nextAddress("buyer")) })).text();
      const tier = (
        JSON.parse(text) as { tiers: { tierId: string; capacity: number; available: number }[] }
      ).tiers.find((t) => t.tierId === seated.id);
      if (tier?.capacity === SEATS && tier.available === SEATS - held.length) break;
      if (attempt === 10) {
        throw new Error(
          `the seated tier has ${tier?.capacity} seats, ${tier?.available} available (expected ${SEATS}, ${SEATS - held.length})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    ctx.log(
      `  availability-polling: ${SEATS} seats (${held.length} held); one availability answer is ${text.length} bytes`,
    );
    return {
      id: event.id,
      gaTierId: ga.id,
      seatedTierId: seated.id,
      availabilityBytes: text.length,
      seatsHeld: held.length,
    };
  });
}

async function reservationsLoad(ctx: ScenarioContext, phase: Phase): Promise<Load> {
  const event = await polledEvent(ctx);
  return requestLoad(ctx, phase, {
    method: "POST",
    path: `/v1/events/${event.id}/reservations`,
    headers: JSON_HEADERS,
    body: JSON.stringify({ items: [{ tierId: event.gaTierId, quantity: 1 }] }),
    expectStatus: 201,
    client: () => nextAddress("buyer"),
  });
}

/** `POLLERS` closed loops of availability reads until `stop()`; what they saw. */
function startPollers(ctx: ScenarioContext, eventId: string) {
  const latency = new Trend();
  const url = new URL(`/v1/events/${eventId}/availability`, ctx.baseUrl);
  const statuses: Record<string, number> = {};
  let bytes = 0;
  let running = true;
  /** Polls are counted between `ready()` and `stop()`. */
  let counting = false;
  let started = 0;
  let firstAnswers: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    firstAnswers = resolve;
  });
  const poller = async () => {
    let first = true;
    // As a page polling with the browser's HTTP cache would: revalidate with the last ETag (304 while unchanged).
    let etag: string | null = null;
    while (running) {
      const t = performance.now();
      let status = "error";
      let size = 0;
      try {
        const headers: Record<string, string> = {
          ...clientHeader(nextAddress("buyer")),
          ...(etag ? { "If-None-Match": etag } : {}),
        };
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
        size = (await res.arrayBuffer()).byteLength;
        status = String(res.status);
        etag = res.headers.get("ETag") ?? etag;
      } catch {
        // counted as an error
      }
      if (counting) {
        if (status !== "error") latency.record(performance.now() - t);
        bytes += size;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
      if (first && ++started === POLLERS) firstAnswers();
      first = false;
    }
  };
  const loops = Array.from({ length: POLLERS }, poller);
  let from = 0;
  return {
    /** Resolves once every poller has had its first answer (so the measured phase is polled throughout). */
    ready: () =>
      ready.then(() => {
        counting = true;
        from = performance.now();
      }),
    async stop() {
      counting = false;
      const seconds = (performance.now() - from) / 1000;
      running = false;
      await Promise.all(loops);
      const l = latency.summary();
      const polls = Object.values(statuses).reduce((a, b) => a + b, 0);
      return {
        clients: POLLERS,
        polls,
        pollsPerSec: Math.round((polls / seconds) * 10) / 10,
        latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
        statusCodes: statuses,
        meanBytes: polls ? Math.round(bytes / polls) : 0,
      };
    },
  };
}

export const pollingOff: Scenario = {
  name: "polling-off",
  description:
    "POST /v1/events/:eventId/reservations, quantity 1 on a 1,000,000-ticket tier, in an event that also has a 20,000-seat tier (1 seat in 20 held); no polling",
  concurrency: "connections",
  prepare: reservationsLoad,
};

export const pollingOn: Scenario = {
  name: "polling-on",
  description: `the same reservations while ${POLLERS} clients poll GET /v1/events/:eventId/availability (the 20,000-seat tier's map) in closed loops`,
  concurrency: "connections",
  compareWith: "polling-off",
  compareOn: "p99",
  compareAim: { below: 1.2 },
  async prepare(ctx, phase) {
    const [event, load] = [await polledEvent(ctx), await reservationsLoad(ctx, phase)];
    return {
      ...load,
      run: async () => {
        const pollers = startPollers(ctx, event.id);
        await pollers.ready();
        const m = await load.run();
        const seen = await pollers.stop();
        const summary =
          `pollers: ${seen.clients} clients, ${seen.pollsPerSec} polls/s, p50 ${seen.latencyMs.p50} ms, ` +
          `p99 ${seen.latencyMs.p99} ms, ${seen.meanBytes} bytes an answer`;
        // 304: unchanged since the poller's ETag (it revalidates).
        const problems = Object.keys(seen.statusCodes).some((s) => s !== "200" && s !== "304")
          ? [`availability polls answered ${JSON.stringify(seen.statusCodes)}`]
          : [];
        return {
          ...m,
          extra: {
            pollers: seen,
            summary,
            availabilityBytes: event.availabilityBytes,
            ...(problems.length ? { problems } : {}),
          },
        };
      },
    };
  },
};
