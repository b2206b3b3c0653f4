/**
 * One route repeated by autocannon: the floor, reservations, and diagnostics. Requests to the routes
 * the service limits per client (reservations, the event, availability) each come from an address of
 * their own (common/clients.ts).
 */
import { reservationBody } from "../../common/buyers.ts";
import { clientHeader, nextAddress } from "../../common/clients.ts";
import { benchEvent, JSON_HEADERS, requestScenario, type Scenario } from "../scenario.ts";

export const healthz: Scenario = requestScenario(
  { name: "healthz", description: "GET /healthz: the floor (routing and middleware only)" },
  async () => ({ method: "GET", path: "/healthz", expectStatus: 200 }),
);

export const reservations: Scenario = requestScenario(
  {
    name: "reservations",
    description: "POST /v1/events/:eventId/reservations, quantity 1 on one 1,000,000-ticket tier",
    after: async (ctx) => {
      const event = await benchEvent(ctx, "reservations");
      const availability = await ctx.api<{ tiers: { tierId: string; available: number }[] }>(
        "GET",
        `/v1/events/${event.id}/availability`,
        undefined,
        { headers: clientHeader(nextAddress("buyer")) },
      );
      const tier = availability.tiers.find((t) => t.tierId === event.tierId);
      // Every hold of the run (warm-up and measurement), including requests still in flight when
      // autocannon stopped counting.
      return { ticketsHeldAfterRun: tier ? event.capacity - tier.available : null };
    },
  },
  async (ctx) => {
    const event = await benchEvent(ctx, "reservations");
    return {
      method: "POST",
      path: `/v1/events/${event.id}/reservations`,
      headers: JSON_HEADERS,
      body: reservationBody(event),
      expectStatus: 201,
      client: () => nextAddress("buyer"),
    };
  },
);

// Diagnostics, not run by default: where does a reservation's time go? (They read the reservations
// scenario's event.)

export const event: Scenario = requestScenario(
  { name: "event", description: "GET /v1/events/:eventId: two D1 reads, no Durable Object" },
  async (ctx) => ({
    method: "GET",
    path: `/v1/events/${(await benchEvent(ctx, "reservations")).id}`,
    expectStatus: 200,
    client: () => nextAddress("buyer"),
  }),
);

export const availability: Scenario = requestScenario(
  {
    name: "availability",
    description: "GET /v1/events/:eventId/availability: two D1 reads and one Durable Object RPC (no writes)",
  },
  async (ctx) => ({
    method: "GET",
    path: `/v1/events/${(await benchEvent(ctx, "reservations")).id}/availability`,
    expectStatus: 200,
    client: () => nextAddress("buyer"),
  }),
);
