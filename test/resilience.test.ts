import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TierInventory } from "../src/objects/tier-inventory";
import { api, auditActions, availability, createEvent, reserve } from "./helpers";

const tierObject = (tierId: string) => env.TIER_INVENTORY.getByName(tierId);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function advanceClock(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

describe("a follower tier whose lead cannot be asked", () => {
  it("keeps its part and asks again, rather than expiring it on its own clock", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const event = await createEvent([
      { capacity: 5, holdSeconds: 60 },
      { capacity: 5, holdSeconds: 60 },
    ]);
    const [lead, follower] = event.tiers.map((t) => t.id) as [string, string];
    const res = await reserve(event.id, [
      { tierId: lead, quantity: 1 },
      { tierId: follower, quantity: 2 },
    ]);
    expect(res.status).toBe(201);
    // The Worker extended the reservation at the lead but never told the follower; then the lead
    // becomes unreachable.
    await tierObject(lead).extend(lead, res.body.id, {
      actor: { type: "buyer" },
      ip: null,
      userAgent: null,
      requestId: null,
    });
    await runInDurableObject(tierObject(lead), (object: TierInventory) => {
      object.leadDecision = () => Promise.reject(new Error("overloaded"));
    });
    advanceClock(61_000);
    await runDurableObjectAlarm(tierObject(follower));
    expect((await availability(event.id)).map((t) => t.available)).toEqual([4, 3]);

    // The lead answers again: the follower adopts the extended expiry.
    await evictDurableObject(tierObject(lead));
    advanceClock(3_000);
    await runDurableObjectAlarm(tierObject(follower));
    expect((await availability(event.id)).map((t) => t.available)).toEqual([4, 3]);
    const read = await api("GET", `/v1/reservations/${res.body.id}`, { token: res.body.token });
    expect(read.body.status).toBe("active");
  });
});

describe("the outbox", () => {
  it("sets aside a message D1 refuses, delivers the rest, and delivers it once D1 takes it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const first = await reserve(event.id, [{ tierId, quantity: 1 }]);
    await env.DB.exec(
      "CREATE TRIGGER refuse_extension BEFORE INSERT ON audit_log WHEN NEW.action = 'reservation.extended' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    try {
      const extended = await api("POST", `/v1/reservations/${first.body.id}/extend`, { token: first.body.token });
      expect(extended.status).toBe(200); // the object decided; D1 catches up later
      // Later reservations of the same tier are not held up by the refused message.
      for (let i = 0; i < 3; i++) expect((await reserve(event.id, [{ tierId, quantity: 1 }])).status).toBe(201);
      expect(await auditActions(event.id, "reservation.created")).toHaveLength(4);
      expect(await tierObject(tierId).selfCheck(tierId)).toMatchObject({ ok: true, outboxPoisoned: 1 });
    } finally {
      await env.DB.exec("DROP TRIGGER refuse_extension");
    }
    await runInDurableObject(tierObject(tierId), (object: TierInventory) => object.alarm());
    expect(await tierObject(tierId).selfCheck(tierId)).toMatchObject({ ok: true, outboxPoisoned: 0 });
    expect(await auditActions(event.id, "reservation.extended")).toHaveLength(1);
  });
});

describe("capacity changes racing holds", () => {
  it("never lets sold + held exceed capacity", async () => {
    const event = await createEvent([{ capacity: 40 }]);
    const tierId = event.tiers[0]?.id as string;
    const shrink = (capacity: number) =>
      api("PATCH", `/v1/tiers/${tierId}`, { token: "test-admin-token", body: { capacity } });
    const results = await Promise.all([
      ...Array.from({ length: 40 }, () => reserve(event.id, [{ tierId, quantity: 1 }])),
      shrink(20),
      shrink(30),
    ]);
    const held = results.slice(0, 40).filter((r) => r.status === 201).length;
    const check = await tierObject(tierId).selfCheck(tierId);
    if (!check.ok) throw new Error("tier missing");
    expect(check.held).toBe(held);
    expect(check.heldByHolds).toBe(held);
    expect(check.held).toBeLessThanOrEqual(check.capacity);
    const [tier] = await availability(event.id);
    expect(tier?.available).toBe(check.capacity - held);
    for (const patch of results.slice(40)) expect([200, 409]).toContain(patch.status);
  });
});
