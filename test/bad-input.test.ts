import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, reserve } from "./helpers";

let eventId: string;
let gaTier: string;
let seatedTier: string;
let reservation: { id: string; token: string };

beforeAll(async () => {
  const event = await createEvent([{ capacity: 10, maxPerOrder: 4 }, { seats: ["A1", "A2", "A3"] }], {
    maxTicketsPerOrder: 5,
  });
  eventId = event.id;
  [gaTier, seatedTier] = event.tiers.map((t) => t.id) as [string, string];
  reservation = (await reserve(eventId, [{ tierId: gaTier, quantity: 3 }])).body;
});

const big = "x".repeat(100 * 1024);
const unknownTier = "tier_0000000000000000000000";
const unknownEvent = "evt_0000000000000000000000";
/** Well formed, but no scanner has it. */
const unknownScanner = `scntok_${"0".repeat(22)}_${"A".repeat(43)}`;
const goodEvent = { name: "N", startsAt: "2027-01-01T20:00:00Z", currency: "eur", tiers: [] };

interface Case {
  name: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  raw?: string;
  token?: () => string | null;
  status: number;
  code: string;
}

const items = (...list: unknown[]) => ({ items: list });
const ga = (quantity: unknown) => items({ tierId: gaTier, quantity });
const reservations = () => `/v1/events/${eventId}/reservations`;
const admin = () => ADMIN_TOKEN;

const cases: Case[] = [
  // creating events
  {
    name: "event without a token",
    method: "POST",
    path: () => "/v1/events",
    body: () => goodEvent,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "event with a wrong token",
    method: "POST",
    path: () => "/v1/events",
    body: () => goodEvent,
    token: () => "nope",
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "event with broken JSON",
    method: "POST",
    path: () => "/v1/events",
    raw: '{"name":',
    token: admin,
    status: 400,
    code: "INVALID_JSON",
  },
  {
    name: "event with an unknown field",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, venue: "x" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "event name of the wrong type",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, name: 5 }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "event with an uppercase currency",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, currency: "EUR" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "event with an unknown currency",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, currency: "xxq" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "event with a non-ISO start",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, startsAt: "tomorrow" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "event ending before it starts",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, endsAt: "2026-01-01T00:00:00Z" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "tier with zero capacity",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, tiers: [{ name: "t", price: 1, capacity: 0 }] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "tier with a negative price",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, tiers: [{ name: "t", price: -1, capacity: 1 }] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "tier with capacity and seats",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, tiers: [{ name: "t", price: 1, capacity: 1, seats: ["A"] }] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "tier with a repeated seat",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, tiers: [{ name: "t", price: 1, seats: ["A", "A"] }] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "tier with holdSeconds 4",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, tiers: [{ name: "t", price: 1, capacity: 1, holdSeconds: 4 }] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "event body of 100 KiB",
    method: "POST",
    path: () => "/v1/events",
    body: () => ({ ...goodEvent, name: big }),
    token: admin,
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
  },
  {
    name: "tier for an unknown event",
    method: "POST",
    path: () => `/v1/events/${unknownEvent}/tiers`,
    body: () => ({ name: "t", price: 1, capacity: 1 }),
    token: admin,
    status: 404,
    code: "NOT_FOUND",
  },
  // reserving
  { name: "quantity zero", method: "POST", path: reservations, body: () => ga(0), status: 400, code: "INVALID_INPUT" },
  {
    name: "negative quantity",
    method: "POST",
    path: reservations,
    body: () => ga(-2),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "fractional quantity",
    method: "POST",
    path: reservations,
    body: () => ga(1.5),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "quantity as a string",
    method: "POST",
    path: reservations,
    body: () => ga("2"),
    status: 400,
    code: "INVALID_INPUT",
  },
  { name: "no items", method: "POST", path: reservations, body: () => items(), status: 400, code: "INVALID_INPUT" },
  {
    name: "an unknown field",
    method: "POST",
    path: reservations,
    body: () => ({ ...ga(1), coupon: "FREE" }),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "an unknown item field",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: gaTier, quantity: 1, price: 0 }),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "the same tier twice",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: gaTier, quantity: 1 }, { tierId: gaTier, quantity: 1 }),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "a malformed tier id",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: "general", quantity: 1 }),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "an unknown tier",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: unknownTier, quantity: 1 }),
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "an unknown event",
    method: "POST",
    path: () => `/v1/events/${unknownEvent}/reservations`,
    body: () => ga(1),
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "a malformed event id",
    method: "POST",
    path: () => "/v1/events/42/reservations",
    body: () => ga(1),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "seats on a general-admission tier",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: gaTier, seats: ["A1"] }),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "a seat the tier does not have",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: seatedTier, seats: ["Z9"] }),
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "more than the tier's maxPerOrder",
    method: "POST",
    path: reservations,
    body: () => ga(5),
    status: 400,
    code: "TOO_MANY_TICKETS",
  },
  {
    name: "more than the event's maxTicketsPerOrder",
    method: "POST",
    path: reservations,
    body: () => items({ tierId: gaTier, quantity: 4 }, { tierId: seatedTier, seats: ["A1", "A2"] }),
    status: 400,
    code: "TOO_MANY_TICKETS",
  },
  { name: "broken JSON", method: "POST", path: reservations, raw: "{items: [", status: 400, code: "INVALID_JSON" },
  {
    name: "a body of 100 KiB",
    method: "POST",
    path: reservations,
    raw: JSON.stringify({ items: [], pad: big }),
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
  },
  // a reservation
  {
    name: "a malformed reservation id",
    method: "GET",
    path: () => "/v1/reservations/abc",
    token: () => reservation.token,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "an unknown reservation",
    method: "GET",
    path: () => "/v1/reservations/rsv_0000000000000000000000",
    token: () => reservation.token,
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "extend without a token",
    method: "POST",
    path: () => `/v1/reservations/${reservation.id}/extend`,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "release with the organiser token",
    method: "DELETE",
    path: () => `/v1/reservations/${reservation.id}`,
    token: admin,
    status: 401,
    code: "UNAUTHORIZED",
  },
  // changing tiers
  {
    name: "tier change without a token",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({ capacity: 20 }),
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "tier capacity 0",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({ capacity: 0 }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "tier capacity below sold + held",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({ capacity: 2 }),
    token: admin,
    status: 409,
    code: "CAPACITY_BELOW_COMMITTED",
  },
  {
    name: "an empty tier change",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({}),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "an unknown tier field",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({ colour: "red" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "capacity on a seated tier",
    method: "PATCH",
    path: () => `/v1/tiers/${seatedTier}`,
    body: () => ({ capacity: 9 }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "seats on a general-admission tier",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({ addSeats: ["B1"] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "adding a seat that exists",
    method: "PATCH",
    path: () => `/v1/tiers/${seatedTier}`,
    body: () => ({ addSeats: ["A3", "B1"] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "a sales window ending before it starts",
    method: "PATCH",
    path: () => `/v1/tiers/${gaTier}`,
    body: () => ({ salesStartAt: "2030-01-01T00:00:00Z", salesEndAt: "2029-01-01T00:00:00Z" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "an unknown tier",
    method: "PATCH",
    path: () => `/v1/tiers/${unknownTier}`,
    body: () => ({ capacity: 9 }),
    token: admin,
    status: 404,
    code: "NOT_FOUND",
  },
  // reading the audit log
  {
    name: "audit without a token",
    method: "GET",
    path: () => `/v1/events/${eventId}/audit`,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "audit limit 0",
    method: "GET",
    path: () => `/v1/events/${eventId}/audit?limit=0`,
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "audit with a forged cursor",
    method: "GET",
    path: () => `/v1/events/${eventId}/audit?cursor=abc`,
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "audit with an unknown parameter",
    method: "GET",
    path: () => `/v1/events/${eventId}/audit?sort=asc`,
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "audit of an unknown event",
    method: "GET",
    path: () => `/v1/events/${unknownEvent}/audit`,
    token: admin,
    status: 404,
    code: "NOT_FOUND",
  },
  // anything else
  { name: "an unknown route", method: "GET", path: () => "/v1/nothing", status: 404, code: "NOT_FOUND" },
  // scanners, check-ins and organiser reports
  {
    name: "scanner without a name",
    method: "POST",
    path: () => `/v1/events/${eventId}/scanners`,
    body: () => ({ gate: "north" }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "scanner with a gate of 101 characters",
    method: "POST",
    path: () => `/v1/events/${eventId}/scanners`,
    body: () => ({ name: "Door", gate: "g".repeat(101) }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "scanner for an unknown event",
    method: "POST",
    path: () => `/v1/events/${unknownEvent}/scanners`,
    body: () => ({ name: "Door" }),
    token: admin,
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "revoking a malformed scanner id",
    method: "DELETE",
    path: () => "/v1/scanners/scanner-1",
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "check-in with the organiser's token",
    method: "POST",
    path: () => "/v1/checkins",
    body: () => ({ code: "v1.x.y.z" }),
    token: admin,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "check-in whose code is a number",
    method: "POST",
    path: () => "/v1/checkins",
    body: () => ({ code: 5 }),
    token: () => unknownScanner,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "check-in with broken JSON",
    method: "POST",
    path: () => "/v1/checkins",
    raw: '{"code":',
    token: () => unknownScanner,
    status: 400,
    code: "INVALID_JSON",
  },
  {
    name: "check-in with an unknown scanner token",
    method: "POST",
    path: () => "/v1/checkins",
    body: () => ({ code: "v1.x.y.z" }),
    token: () => unknownScanner,
    status: 400,
    code: "INVALID_TICKET_CODE",
  },
  {
    name: "batch with an unknown scanner token",
    method: "POST",
    path: () => "/v1/checkins/batch",
    body: () => ({ scans: [{ nonce: "1", code: "v1.x.y.z", scannedAt: "2027-01-01T20:00:00Z" }] }),
    token: () => unknownScanner,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "checkin-list with a limit of 1001",
    method: "GET",
    path: () => `/v1/events/${eventId}/checkin-list?limit=1001`,
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "stats of an unknown event",
    method: "GET",
    path: () => `/v1/events/${unknownEvent}/stats`,
    token: admin,
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "refund of an unknown order",
    method: "POST",
    path: () => "/v1/orders/ord_0000000000000000000000/refunds",
    body: () => ({}),
    token: admin,
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "refund naming a malformed ticket id",
    method: "POST",
    path: () => "/v1/orders/ord_0000000000000000000000/refunds",
    body: () => ({ ticketIds: ["ticket-1"] }),
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
  {
    name: "orders list by an unknown status",
    method: "GET",
    path: () => `/v1/events/${eventId}/orders?status=shipped`,
    token: admin,
    status: 400,
    code: "INVALID_INPUT",
  },
];

describe("bad input gets its documented 4xx and changes nothing", () => {
  it.each(cases)("$name → $status $code", async (c) => {
    const before = {
      tiers: await availability(eventId),
      audit: (await auditActions(eventId)).length,
      event: (await api("GET", `/v1/events/${eventId}`)).body,
    };
    const res = await api(c.method, c.path(), {
      ...(c.body ? { body: c.body() } : {}),
      ...(c.raw !== undefined ? { raw: c.raw, headers: { "Content-Type": "application/json" } } : {}),
      token: c.token?.() ?? null,
    });
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.body).toMatchObject({ type: "about:blank", status: c.status, code: c.code });
    expect(res.status).toBe(c.status);
    if (c.code === "INVALID_INPUT") expect(res.body.errors.length).toBeGreaterThan(0);

    expect(await availability(eventId)).toEqual(before.tiers);
    expect((await auditActions(eventId)).length).toBe(before.audit);
    expect((await api("GET", `/v1/events/${eventId}`)).body).toEqual(before.event);
  });

  it("capacity may drop to exactly what is held, and then nothing more can be reserved", async () => {
    const res = await api("PATCH", `/v1/tiers/${gaTier}`, { token: ADMIN_TOKEN, body: { capacity: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.capacity).toBe(3);
    const refused = await reserve(eventId, [{ tierId: gaTier, quantity: 1 }]);
    expect(refused.body).toMatchObject({ code: "SOLD_OUT", available: 0 });
  });
});
