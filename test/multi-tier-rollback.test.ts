import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SYSTEM } from "../src/db/audit";
import { newId } from "../src/lib/ids";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, reserve } from "./helpers";
import { lapse } from "./payments";

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

describe("a free order across tiers whose lead refuses after a follower sold", () => {
  it("is undone as a paid one is: the follower's capacity comes back and its tickets are void", async () => {
    const event = await createEvent([
      { capacity: 1, price: 0, holdSeconds: 60 },
      { capacity: 5, price: 0, holdSeconds: 60 },
    ]);
    const [lead, follower] = event.tiers.map((t) => t.id) as [string, string];
    const reservation = (
      await reserve(event.id, [
        { tierId: lead, quantity: 1 },
        { tierId: follower, quantity: 1 },
      ])
    ).body;
    // The checkout opened the order at the lead, then the Worker died before the tickets were issued.
    const opened = await env.TIER_INVENTORY.getByName(lead).startCheckout({
      tierId: lead,
      reservationId: reservation.id,
      order: {
        id: newId("ord"),
        email: "ada@example.com",
        name: null,
        amount: 0,
        currency: "eur",
        items: [
          { tierId: lead, quantity: 1, unitPrice: 0 },
          { tierId: follower, quantity: 1, unitPrice: 0 },
        ],
        tokenHash: "unused",
        sessionParams: null,
      },
      ctx: SYSTEM,
    });
    expect(opened.ok).toBe(true);
    // The hold lapses and another buyer takes the lead tier's only ticket.
    await lapse([lead, follower]);
    expect((await reserve(event.id, [{ tierId: lead, quantity: 1 }])).status).toBe(201);

    const retried = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "ada@example.com" },
    });
    expect(retried.status).toBe(409);
    expect(retried.body).toMatchObject({ code: "SOLD_OUT", tierId: lead });

    expect((await availability(event.id)).map((t) => t.available)).toEqual([0, 5]);
    const issued = await env.DB.prepare("SELECT status FROM tickets WHERE event_id = ?").bind(event.id).all();
    expect(issued.results.map((t) => t.status)).toEqual(["void"]);
    const orders = await env.DB.prepare("SELECT status FROM orders WHERE reservation_id = ?")
      .bind(reservation.id)
      .all();
    expect(orders.results.map((o) => o.status)).toEqual(["canceled"]);
    expect(await env.TIER_INVENTORY.getByName(follower).selfCheck(follower)).toMatchObject({ ok: true, sold: 0 });
    const verify = await api("GET", `/v1/events/${event.id}/verify`, { token: ADMIN_TOKEN });
    expect(verify.body.ok).toBe(true);

    // Asked again, the order stays closed: no second sale of the follower, no 500 from a fulfilment lease.
    const later = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "ada@example.com" },
    });
    expect(later.status).toBe(409);
    expect(later.body).toMatchObject({ code: "RESERVATION_NOT_ACTIVE", orderStatus: "canceled" });
    expect((await availability(event.id)).map((t) => t.available)).toEqual([0, 5]);
  });
});
