import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SYSTEM } from "../src/domain/audit";
import { auditActions, availability, createEvent } from "./helpers";

const tierObject = (tierId: string) => env.TIER_INVENTORY.getByName(tierId);
afterEach(() => vi.useRealTimers());

describe("rolling back a multi-tier reservation", () => {
  it("after the lead opened it (its answer lost) ends it everywhere, in D1 and the audit log, and counts nothing twice", async () => {
    const event = await createEvent([{ capacity: 5 }, { capacity: 5 }]);
    const [lead, follower] = event.tiers.map((t) => t.id) as [string, string];
    const rid = "rsv_RollbackPhantom0000000";
    const items = [
      { tierId: lead, quantity: 1 },
      { tierId: follower, quantity: 2 },
    ];
    const base = {
      eventId: event.id,
      reservationId: rid,
      leadTierId: lead,
      totalQuantity: 3,
      header: null,
      ctx: SYSTEM,
    };
    // holdAll, step 1: both tiers hold their part pending.
    expect((await tierObject(lead).reserve({ ...base, tierId: lead, quantity: 1 })).ok).toBe(true);
    expect((await tierObject(follower).reserve({ ...base, tierId: follower, quantity: 2 })).ok).toBe(true);
    // The follower's pending part lapses before activation reaches it (slow/failed RPC).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await runDurableObjectAlarm(tierObject(follower));
    // holdAll, step 2: activate all; the lead opens the header, the follower refuses.
    const expiresAt = Date.now() + 600_000;
    const header = {
      id: rid,
      eventId: event.id,
      leadTierId: lead,
      sessionId: null,
      tokenHash: "h",
      items,
      terms: { holdSeconds: 600, maxExtensions: 3, extensionSeconds: 300 },
    };
    const la = await tierObject(lead).activate({ tierId: lead, reservationId: rid, expiresAt, header, ctx: SYSTEM });
    const fa = await tierObject(follower).activate({
      tierId: follower,
      reservationId: rid,
      expiresAt,
      header: null,
      ctx: SYSTEM,
    });
    expect(la.ok).toBe(true);
    expect(fa.ok).toBe(false);
    // The Worker rolls back by telling every tier the reservation is released.
    const decision = { reservationId: rid, status: "released" as const, expiresAt: 0 };
    await tierObject(lead).follow(lead, decision);
    await tierObject(follower).follow(follower, decision);
    expect((await availability(event.id)).map((t) => t.available)).toEqual([5, 5]);

    // Nothing is held, but D1 and the audit log say a reservation was created and is active.
    const row = await env.DB.prepare("SELECT status FROM reservations WHERE id = ?")
      .bind(rid)
      .first<{ status: string }>();
    expect(row?.status).toBe("released");
    expect((await auditActions(event.id)).map((a) => a.action).filter((a) => a.startsWith("reservation."))).toEqual([
      "reservation.released",
      "reservation.created",
    ]);

    // Releasing or extending it again changes nothing and counts nothing twice.
    expect((await tierObject(lead).release(lead, rid, SYSTEM)).ok).toBe(true);
    expect((await tierObject(lead).extend(lead, rid, SYSTEM)).ok).toBe(false);
    expect(await tierObject(lead).selfCheck(lead)).toEqual({
      ok: true,
      held: 0,
      heldByHolds: 0,
      sold: 0,
      capacity: 5,
      outboxPending: 0,
      outboxPoisoned: 0,
      refusals: 0,
    });
    expect((await availability(event.id)).map((t) => t.available)).toEqual([5, 5]);
  });
});
