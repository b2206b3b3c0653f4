import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clientKey } from "../src/middleware/rate-limit";
import { ADMIN_TOKEN, api, availability, createEvent, newClient, reserve } from "./helpers";

afterEach(() => vi.useRealTimers());

const from = (client: string) => ({ "CF-Connecting-IP": client });

async function oneTier(fields: Record<string, unknown> = {}, tier: Record<string, unknown> = {}) {
  const event = await createEvent([{ capacity: 200, maxPerOrder: 50, price: 0, ...tier }], {
    maxTicketsPerOrder: 50,
    ...fields,
  });
  return { event, tierId: event.tiers[0]?.id as string };
}

describe("the tickets one client may hold", () => {
  it("are at most the event's maxHeldPerClient (default 20); beyond it 429 holds with Retry-After, nothing held", async () => {
    const { event, tierId } = await oneTier();
    expect(event).toMatchObject({ maxHeldPerClient: 20, queue: null });
    const client = newClient();
    expect((await reserve(event.id, [{ tierId, quantity: 12 }], {}, from(client))).status).toBe(201);
    expect((await reserve(event.id, [{ tierId, quantity: 8 }], {}, from(client))).status).toBe(201);

    const refused = await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "holds" });
    // The earliest hold lapses in 600 s (the tier's default hold).
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(refused.body.retryAfter).toBe(retryAfter);
    expect((await availability(event.id))[0]?.available).toBe(180);

    // Another client is not limited by this one.
    expect((await reserve(event.id, [{ tierId, quantity: 20 }], {}, from(newClient()))).status).toBe(201);
    expect((await availability(event.id))[0]?.available).toBe(160);
  });

  it("come back when a hold is released, expires, or is paid for", async () => {
    const { event, tierId } = await oneTier({ maxHeldPerClient: 4 });
    const client = newClient();
    const a = await reserve(event.id, [{ tierId, quantity: 2 }], {}, from(client));
    const b = await reserve(event.id, [{ tierId, quantity: 2 }], {}, from(client));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client))).status).toBe(429);

    // Released: its 2 tickets count no more.
    const released = await api("DELETE", `/v1/reservations/${a.body.id}`, { token: a.body.token });
    expect(released.status).toBe(200);
    expect((await reserve(event.id, [{ tierId, quantity: 2 }], {}, from(client))).status).toBe(201);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client))).status).toBe(429);

    // Paid (a free order is paid at checkout): no longer held.
    const paid = await api("POST", `/v1/reservations/${b.body.id}/checkout`, {
      token: b.body.token,
      body: { email: "buyer@example.com" },
    });
    expect(paid.body.status).toBe("paid");
    expect((await reserve(event.id, [{ tierId, quantity: 2 }], {}, from(client))).status).toBe(201);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client))).status).toBe(429);

    // Expired: past the hold (no alarm needed; a lapsed hold is lapsed at once).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 601_000);
    expect((await reserve(event.id, [{ tierId, quantity: 4 }], {}, from(client))).status).toBe(201);
  });

  it("count across the event's tiers, and racing requests of one client cannot pass the limit together", async () => {
    const event = await createEvent([{ capacity: 100 }, { capacity: 100 }]);
    const [t1, t2] = event.tiers.map((t) => t.id) as [string, string];
    const client = newClient();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        reserve(
          event.id,
          [
            { tierId: t1, quantity: 1 },
            { tierId: t2, quantity: 1 + (i % 2) },
          ],
          {},
          from(client),
        ),
      ),
    );
    const held = answers
      .filter((r) => r.status === 201)
      .reduce((n, r) => n + r.body.items.reduce((m: number, i: { quantity: number }) => m + i.quantity, 0), 0);
    expect(held).toBeLessThanOrEqual(20);
    expect(held).toBeGreaterThanOrEqual(18); // the limit is not refused early either: at most 2 short of it
    for (const r of answers.filter((r) => r.status !== 201))
      expect(r.body).toMatchObject({ code: "RATE_LIMITED", reason: "holds" });
    const [a, b] = await availability(event.id);
    expect(200 - (a?.available ?? 0) - (b?.available ?? 0)).toBe(held);
  });

  it("count a request still in flight (no reservation row yet) for 30 s, then let it lapse", async () => {
    const { event, tierId } = await oneTier({ maxHeldPerClient: 5 });
    const client = newClient();
    // What a request that crashed after claiming, before holding, leaves behind.
    await env.DB.prepare(
      "INSERT INTO client_holds (reservation_id, event_id, client, quantity, claimed_at) VALUES (?, ?, ?, ?, ?)",
    )
      .bind("rsv_CrashedInFlight000000000", event.id, clientKey(client), 4, Date.now())
      .run();
    const refused = await reserve(event.id, [{ tierId, quantity: 2 }], {}, from(client));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeLessThanOrEqual(30);
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client))).status).toBe(201);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    expect((await reserve(event.id, [{ tierId, quantity: 4 }], {}, from(client))).status).toBe(201);
  });

  it("a refused hold (sold out) takes nothing of the allowance; a changed maxHeldPerClient applies at once", async () => {
    const { event, tierId } = await oneTier({ maxHeldPerClient: 3 }, { capacity: 3 });
    const client = newClient();
    expect((await reserve(event.id, [{ tierId, quantity: 3 }], {}, from(newClient()))).status).toBe(201);
    const soldOut = await reserve(event.id, [{ tierId, quantity: 3 }], {}, from(client));
    expect(soldOut.body.code).toBe("SOLD_OUT");
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM client_holds WHERE client = ?")
      .bind(clientKey(client))
      .first();
    expect(rows?.n).toBe(0);

    const patched = await api("PATCH", `/v1/events/${event.id}`, { token: ADMIN_TOKEN, body: { maxHeldPerClient: 1 } });
    expect(patched.status).toBe(200);
    expect(patched.body.maxHeldPerClient).toBe(1);
    const other = await oneTier({ maxHeldPerClient: 1 });
    expect(
      (await reserve(other.event.id, [{ tierId: other.tierId, quantity: 2 }], {}, from(client))).body,
    ).toMatchObject({
      code: "RATE_LIMITED",
      reason: "holds",
    });
  });
});

describe("who counts as one client", () => {
  it("an IPv6 /64 is one client (a host rotating its addresses makes no new one); IPv4 addresses each", async () => {
    const { event, tierId } = await oneTier({ maxHeldPerClient: 3 });
    expect((await reserve(event.id, [{ tierId, quantity: 2 }], {}, from("2001:db8:77:1::a"))).status).toBe(201);
    const sameBlock = await reserve(event.id, [{ tierId, quantity: 2 }], {}, from("2001:0db8:0077:0001:ffff::b"));
    expect(sameBlock.body).toMatchObject({ code: "RATE_LIMITED", reason: "holds" });
    expect((await reserve(event.id, [{ tierId, quantity: 2 }], {}, from("2001:db8:77:2::a"))).status).toBe(201);
    expect((await reserve(event.id, [{ tierId, quantity: 3 }], {}, from("198.51.100.7"))).status).toBe(201);
    expect((await reserve(event.id, [{ tierId, quantity: 3 }], {}, from("198.51.100.8"))).status).toBe(201);
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  });

  it("a refused reservation is not kept under its Idempotency-Key: the same request passes once the client may", async () => {
    const { event, tierId } = await oneTier({ maxHeldPerClient: 2 });
    const client = newClient();
    const first = await reserve(event.id, [{ tierId, quantity: 2 }], {}, from(client));
    const keyed = { ...from(client), "Idempotency-Key": "after-the-limit" };
    const refused = await reserve(event.id, [{ tierId, quantity: 1 }], {}, keyed);
    expect(refused.status).toBe(429);
    await api("DELETE", `/v1/reservations/${first.body.id}`, { token: first.body.token });
    const retried = await reserve(event.id, [{ tierId, quantity: 1 }], {}, keyed);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
  });
});

describe("request rates per client", () => {
  it("limit the buyer routes: past 50 requests in 10 s, 429 requests with Retry-After, before anything is read", async () => {
    const { event, tierId } = await oneTier();
    const client = newClient();
    const statuses: number[] = [];
    while (statuses.length < 200 && statuses.at(-1) !== 429) {
      statuses.push((await api("GET", `/v1/events/${event.id}`, { headers: from(client) })).status);
    }
    // The limiter counts in fixed 10-second windows: never refused before the 51st request.
    expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(50);
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    // Straight after (the same window): a reservation is refused too, and holds nothing.
    const refused = await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "requests" });
    expect(refused.headers.get("Retry-After")).toBe("10");
    expect((await availability(event.id))[0]?.available).toBe(200);
  });

  it("count polled reads (availability) apart: a buyer's open tabs polling do not use up what reserving needs", async () => {
    const { event, tierId } = await oneTier();
    const client = newClient();
    for (let i = 0; i < 60; i++) {
      expect((await api("GET", `/v1/events/${event.id}/availability`, { headers: from(client) })).status).toBe(200);
    }
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], {}, from(client))).status).toBe(201);
  });

  it("do not apply to the organiser, on organiser routes or on the routes it shares with buyers", async () => {
    const { event, tierId } = await oneTier();
    const reservation = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const order = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "buyer@example.com" },
    });
    const client = newClient();
    for (let i = 0; i < 60; i++) {
      const stats = await api("GET", `/v1/events/${event.id}/stats`, { token: ADMIN_TOKEN, headers: from(client) });
      expect(stats.status).toBe(200);
      const read = await api("GET", `/v1/orders/${order.body.orderId}`, { token: ADMIN_TOKEN, headers: from(client) });
      expect(read.status).toBe(200);
    }
  });
});
