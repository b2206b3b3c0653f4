import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SYSTEM } from "../src/db/audit";
import type { TierInventory } from "../src/objects/tier-inventory";
import { api, auditActions, availability, createEvent, reserve } from "./helpers";

const tierObject = (tierId: string) => env.TIER_INVENTORY.getByName(tierId);

/** Moves the clock that the Worker and the tier objects read (they share the test's isolate). */
function advanceClock(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

afterEach(() => {
  vi.useRealTimers();
});

async function oneTierReservation(tier: Record<string, unknown> = {}, quantity = 2) {
  const event = await createEvent([{ capacity: 10, ...tier }]);
  const tierId = event.tiers[0]?.id as string;
  const res = await reserve(event.id, [{ tierId, quantity }]);
  expect(res.status).toBe(201);
  return { event, tierId, reservation: res.body as { id: string; token: string; expiresAt: string } };
}

describe("holds expire on their own", () => {
  it("the alarm returns the capacity, the reservation reads expired, and a second run changes nothing", async () => {
    const { event, tierId, reservation } = await oneTierReservation({ holdSeconds: 60 });
    expect((await availability(event.id))[0]?.available).toBe(8);

    advanceClock(61_000);
    expect(await runDurableObjectAlarm(tierObject(tierId))).toBe(true);

    expect((await availability(event.id))[0]?.available).toBe(10);
    const read = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe("expired");
    expect(await auditActions(event.id, "reservation.expired")).toHaveLength(1);

    // Alarms are at-least-once: a duplicate run (called directly, since none is scheduled now)
    // must not return the capacity twice.
    await runInDurableObject(tierObject(tierId), (object: TierInventory) => object.alarm());
    expect((await availability(event.id))[0]?.available).toBe(10);
    const check = await tierObject(tierId).selfCheck(tierId);
    expect(check).toMatchObject({ ok: true, held: 0, heldByHolds: 0, sold: 0 });
    expect(await auditActions(event.id, "reservation.expired")).toHaveLength(1);
  });

  it("the alarm does not expire a hold before its time", async () => {
    const { event, tierId } = await oneTierReservation({ holdSeconds: 60 });
    advanceClock(59_000);
    await runDurableObjectAlarm(tierObject(tierId));
    expect((await availability(event.id))[0]?.available).toBe(8);
  });

  it("a lapsed hold reads expired and cannot be extended even before the alarm has run", async () => {
    const { reservation } = await oneTierReservation({ holdSeconds: 30 });
    advanceClock(31_000);
    const read = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(read.body.status).toBe("expired");
    const extend = await api("POST", `/v1/reservations/${reservation.id}/extend`, { token: reservation.token });
    expect(extend.status).toBe(410);
    expect(extend.body.code).toBe("RESERVATION_EXPIRED");
  });

  it("a multi-tier reservation expires in every tier", async () => {
    const event = await createEvent([
      { capacity: 5, holdSeconds: 120 },
      { seats: ["A1", "A2"], holdSeconds: 60 },
    ]);
    const [ga, seated] = event.tiers.map((t) => t.id) as [string, string];
    const res = await reserve(event.id, [
      { tierId: ga, quantity: 2 },
      { tierId: seated, seats: ["A2"] },
    ]);
    expect(res.status).toBe(201);
    // The reservation takes the strictest hold of its tiers (60 s).
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);

    advanceClock(61_000);
    await runDurableObjectAlarm(tierObject(ga));
    await runDurableObjectAlarm(tierObject(seated));
    const tiers = await availability(event.id);
    expect(tiers.map((t) => t.available)).toEqual([5, 2]);
    expect(await auditActions(event.id, "reservation.expired")).toHaveLength(1);
  });
});

describe("extending and releasing", () => {
  it("extends by the tier's extension time until the limit, then refuses", async () => {
    const { reservation } = await oneTierReservation({ maxExtensions: 2, extensionSeconds: 120 });
    const path = `/v1/reservations/${reservation.id}/extend`;
    const first = await api("POST", path, { token: reservation.token });
    expect(first.status).toBe(200);
    expect(Date.parse(first.body.expiresAt) - Date.parse(reservation.expiresAt)).toBe(120_000);
    expect(first.body.extensionsRemaining).toBe(1);
    const second = await api("POST", path, { token: reservation.token });
    expect(second.body.extensionsRemaining).toBe(0);
    const third = await api("POST", path, { token: reservation.token });
    expect(third.status).toBe(409);
    expect(third.body.code).toBe("EXTENSION_LIMIT");
    expect(await auditActions(first.body.eventId, "reservation.extended")).toHaveLength(2);
  });

  it("an extended hold outlives its first expiry", async () => {
    const { event, tierId, reservation } = await oneTierReservation({ holdSeconds: 60, extensionSeconds: 60 });
    await api("POST", `/v1/reservations/${reservation.id}/extend`, { token: reservation.token });
    advanceClock(90_000);
    await runDurableObjectAlarm(tierObject(tierId));
    expect((await availability(event.id))[0]?.available).toBe(8);
    advanceClock(31_000);
    await runDurableObjectAlarm(tierObject(tierId));
    expect((await availability(event.id))[0]?.available).toBe(10);
  });

  it("release returns the capacity at once, is idempotent, and forbids extending afterwards", async () => {
    const { event, reservation } = await oneTierReservation();
    const path = `/v1/reservations/${reservation.id}`;
    const released = await api("DELETE", path, { token: reservation.token });
    expect(released.status).toBe(200);
    expect(released.body.status).toBe("released");
    expect((await availability(event.id))[0]?.available).toBe(10);
    const again = await api("DELETE", path, { token: reservation.token });
    expect(again.status).toBe(200);
    expect((await availability(event.id))[0]?.available).toBe(10);
    const extend = await api("POST", `${path}/extend`, { token: reservation.token });
    expect(extend.status).toBe(409);
    // RFC 9457: `status` is the HTTP status; the reservation's own status has a member of its own.
    expect(extend.body).toMatchObject({ status: 409, code: "RESERVATION_NOT_ACTIVE", reservationStatus: "released" });
    const checkout = await api("POST", `${path}/checkout`, {
      token: reservation.token,
      body: { email: "ada@example.com" },
    });
    expect(checkout.status).toBe(409);
    expect(checkout.body).toMatchObject({ status: 409, code: "RESERVATION_NOT_ACTIVE", reservationStatus: "released" });
    expect(await auditActions(event.id, "reservation.released")).toHaveLength(1);
  });

  it("releasing a multi-tier reservation frees every tier", async () => {
    const event = await createEvent([{ capacity: 5 }, { seats: ["A1", "A2"] }]);
    const [ga, seated] = event.tiers.map((t) => t.id) as [string, string];
    const res = await reserve(event.id, [
      { tierId: ga, quantity: 3 },
      { tierId: seated, quantity: 1 },
    ]);
    expect(res.body.items).toEqual([
      { tierId: ga, quantity: 3 },
      { tierId: seated, quantity: 1, seats: ["A1"] },
    ]);
    await api("DELETE", `/v1/reservations/${res.body.id}`, { token: res.body.token });
    expect((await availability(event.id)).map((t) => t.available)).toEqual([5, 2]);
  });
});

describe("only the reservation's own token opens it", () => {
  it("refuses a missing, unknown, organiser or other reservation's token", async () => {
    const { event, tierId, reservation } = await oneTierReservation();
    const other = (await reserve(event.id, [{ tierId, quantity: 1 }])).body as { token: string };
    const paths: [string, string][] = [
      ["GET", `/v1/reservations/${reservation.id}`],
      ["POST", `/v1/reservations/${reservation.id}/extend`],
      ["DELETE", `/v1/reservations/${reservation.id}`],
    ];
    for (const [method, path] of paths) {
      expect((await api(method, path)).body.code).toBe("UNAUTHORIZED");
      expect((await api(method, path, { token: "test-admin-token" })).status).toBe(401);
      expect((await api(method, path, { token: "rsvtok_forged" })).status).toBe(401);
      const foreign = await api(method, path, { token: other.token });
      expect(foreign.status).toBe(403);
      expect(foreign.body.code).toBe("FORBIDDEN");
    }
    // Nothing was released or extended by the refused calls.
    const read = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(read.body).toMatchObject({ status: "active", extensionsRemaining: 3, expiresAt: reservation.expiresAt });
    expect((await availability(event.id))[0]?.available).toBe(7);
  });
});

describe("one active reservation per session", () => {
  it("a second reservation for the same sessionId is refused until the first ends", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const first = await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "sess-1" });
    expect(first.status).toBe(201);
    const second = await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "sess-1" });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "DUPLICATE_RESERVATION", reservationId: first.body.id });
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "sess-2" })).status).toBe(201);

    await api("DELETE", `/v1/reservations/${first.body.id}`, { token: first.body.token });
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "sess-1" })).status).toBe(201);
  });

  it("of 20 racing reservations with one sessionId exactly one wins", async () => {
    const event = await createEvent([{ capacity: 100 }]);
    const tierId = event.tiers[0]?.id as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "racer" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.body.code === "DUPLICATE_RESERVATION")).toHaveLength(19);
    expect((await availability(event.id))[0]?.available).toBe(99);
  });

  it("an expired reservation frees its session", async () => {
    const event = await createEvent([{ capacity: 10, holdSeconds: 30 }]);
    const tierId = event.tiers[0]?.id as string;
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "s" })).status).toBe(201);
    advanceClock(31_000);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "s" })).status).toBe(201);
  });
});

describe("tiers of one reservation stay in step with its lead", () => {
  async function twoTierReservation() {
    const event = await createEvent([
      { capacity: 5, holdSeconds: 60, extensionSeconds: 120 },
      { capacity: 5, holdSeconds: 60, extensionSeconds: 120 },
    ]);
    const [lead, follower] = event.tiers.map((t) => t.id) as [string, string];
    const res = await reserve(event.id, [
      { tierId: lead, quantity: 1 },
      { tierId: follower, quantity: 2 },
    ]);
    expect(res.status).toBe(201);
    return { event, lead, follower, reservationId: res.body.id as string };
  }

  it("a follower that missed an extension keeps its part when its alarm asks the lead", async () => {
    const { event, lead, follower, reservationId } = await twoTierReservation();
    // The lead extends, but the Worker "dies" before telling the follower.
    const extended = await tierObject(lead).extend(lead, reservationId, SYSTEM);
    expect(extended.ok).toBe(true);

    advanceClock(61_000);
    await runDurableObjectAlarm(tierObject(follower));
    expect((await availability(event.id)).map((t) => t.available)).toEqual([4, 3]);

    advanceClock(120_000);
    await runDurableObjectAlarm(tierObject(lead));
    await runDurableObjectAlarm(tierObject(follower));
    expect((await availability(event.id)).map((t) => t.available)).toEqual([5, 5]);
  });

  it("a follower that missed a release lets its part go at its time", async () => {
    const { event, lead, follower, reservationId } = await twoTierReservation();
    expect((await tierObject(lead).release(lead, reservationId, SYSTEM)).ok).toBe(true);
    expect((await availability(event.id)).map((t) => t.available)).toEqual([5, 3]);
    advanceClock(61_000);
    await runDurableObjectAlarm(tierObject(follower));
    expect((await availability(event.id)).map((t) => t.available)).toEqual([5, 5]);
    expect(await auditActions(event.id, "reservation.expired")).toHaveLength(0);
  });
});

describe("durability", () => {
  it("evicting the tier object mid-life loses no hold", async () => {
    const { event, tierId, reservation } = await oneTierReservation({ holdSeconds: 60 }, 3);
    await evictDurableObject(tierObject(tierId));
    expect((await availability(event.id))[0]?.available).toBe(7);
    const extend = await api("POST", `/v1/reservations/${reservation.id}/extend`, { token: reservation.token });
    expect(extend.status).toBe(200);
    await evictDurableObject(tierObject(tierId));
    const seven = await reserve(event.id, [{ tierId, quantity: 8 }]);
    expect(seven.body).toMatchObject({ code: "SOLD_OUT", available: 7 });
    // After eviction the alarm still expires the hold at its (extended) time.
    advanceClock(60_000 + 300_000 + 1_000);
    await runDurableObjectAlarm(tierObject(tierId));
    expect((await availability(event.id))[0]?.available).toBe(10);
  });
});
