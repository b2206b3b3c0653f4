import { describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, reserve } from "./helpers";

describe("events and tiers", () => {
  it("creates an event with a general-admission and a seated tier and reads it back", async () => {
    const res = await api("POST", "/v1/events", {
      token: ADMIN_TOKEN,
      body: {
        name: "Opening night",
        startsAt: "2027-03-01T20:00:00+01:00",
        timezone: "Europe/Paris",
        currency: "eur",
        tiers: [
          { name: "Floor", price: 3000, capacity: 200 },
          { name: "Balcony", price: 5000, seats: ["B1", "B2"], maxPerOrder: 2, holdSeconds: 300 },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "Opening night",
      startsAt: "2027-03-01T19:00:00.000Z",
      endsAt: null,
      timezone: "Europe/Paris",
      currency: "eur",
      maxTicketsPerOrder: 10,
    });
    expect(res.body.id).toMatch(/^evt_[0-9A-Za-z]{22}$/);
    expect(res.body.tiers[0]).toMatchObject({
      name: "Floor",
      kind: "general_admission",
      capacity: 200,
      maxPerOrder: 10,
      holdSeconds: 600,
      maxExtensions: 3,
      extensionSeconds: 300,
      salesStartAt: null,
    });
    expect(res.body.tiers[0].seats).toBeUndefined();
    expect(res.body.tiers[1]).toMatchObject({ kind: "seated", capacity: 2, seats: ["B1", "B2"], maxPerOrder: 2 });
    const read = await api("GET", `/v1/events/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
    expect((await auditActions(res.body.id)).map((a) => a.action).sort()).toEqual([
      "event.created",
      "tier.created",
      "tier.created",
    ]);
  });

  it("adds a tier to an event, and seats to a seated tier", async () => {
    const event = await createEvent([{ seats: ["A1"] }]);
    const added = await api("POST", `/v1/events/${event.id}/tiers`, {
      token: ADMIN_TOKEN,
      body: { name: "VIP", price: 9900, capacity: 5 },
    });
    expect(added.status).toBe(201);
    const seated = event.tiers[0]?.id as string;
    expect((await reserve(event.id, [{ tierId: seated, seats: ["A1"] }])).status).toBe(201);
    const patched = await api("PATCH", `/v1/tiers/${seated}`, {
      token: ADMIN_TOKEN,
      body: { addSeats: ["A2", "A3"], name: "Stalls" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "Stalls", capacity: 3, seats: ["A1", "A2", "A3"] });
    const tiers = await availability(event.id);
    expect(tiers.map((t) => [t.available, t.status])).toEqual([
      [2, "on_sale"],
      [5, "on_sale"],
    ]);
    expect(tiers[0]?.seats?.map((s) => s.status)).toEqual(["held", "available", "available"]);
    expect((await api("GET", `/v1/events/${event.id}`)).body.tiers.map((t: { name: string }) => t.name)).toEqual([
      "Stalls",
      "VIP",
    ]);
    const updates = await auditActions(event.id, "tier.updated");
    expect(updates).toHaveLength(1);
  });

  it("enforces the sales window", async () => {
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const event = await createEvent([
      { capacity: 5, salesStartAt: soon },
      { capacity: 5, salesStartAt: "2020-01-01T00:00:00Z", salesEndAt: "2020-02-01T00:00:00Z" },
    ]);
    const [future, past] = event.tiers.map((t) => t.id) as [string, string];
    expect((await availability(event.id)).map((t) => t.status)).toEqual(["not_started", "ended"]);
    const early = await reserve(event.id, [{ tierId: future, quantity: 1 }]);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: "SALES_CLOSED", tierId: future });
    expect((await reserve(event.id, [{ tierId: past, quantity: 1 }])).body.code).toBe("SALES_CLOSED");

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(soon) + 1);
    try {
      expect((await reserve(event.id, [{ tierId: future, quantity: 1 }])).status).toBe(201);
    } finally {
      vi.useRealTimers();
    }
    const reopened = await api("PATCH", `/v1/tiers/${past}`, { token: ADMIN_TOKEN, body: { salesEndAt: null } });
    expect(reopened.body.salesEndAt).toBeNull();
    expect((await reserve(event.id, [{ tierId: past, quantity: 1 }])).status).toBe(201);
  });
});

describe("the audit log", () => {
  it("records actor, ip, user agent and request id, and pages newest first", async () => {
    const event = await createEvent([{ capacity: 100 }]);
    const tierId = event.tiers[0]?.id as string;
    for (let i = 0; i < 5; i++) {
      await reserve(
        event.id,
        [{ tierId, quantity: 1 }],
        {},
        {
          "CF-Connecting-IP": "203.0.113.7",
          "User-Agent": "test-agent/1.0",
          "X-Request-Id": `req-${i}`,
        },
      );
    }
    const page1 = await api("GET", `/v1/events/${event.id}/audit?limit=2&action=reservation.created`, {
      token: ADMIN_TOKEN,
    });
    expect(page1.status).toBe(200);
    expect(page1.body.entries).toHaveLength(2);
    expect(page1.body.entries[0]).toMatchObject({
      action: "reservation.created",
      actor: { type: "buyer" },
      subject: { type: "reservation" },
      ip: "203.0.113.7",
      userAgent: "test-agent/1.0",
      requestId: "req-4",
    });
    const page2 = await api(
      "GET",
      `/v1/events/${event.id}/audit?limit=2&action=reservation.created&cursor=${page1.body.nextCursor}`,
      {
        token: ADMIN_TOKEN,
      },
    );
    const page3 = await api(
      "GET",
      `/v1/events/${event.id}/audit?limit=2&action=reservation.created&cursor=${page2.body.nextCursor}`,
      {
        token: ADMIN_TOKEN,
      },
    );
    expect(page3.body.entries).toHaveLength(1);
    expect(page3.body.nextCursor).toBeNull();
    const ids = [...page1.body.entries, ...page2.body.entries, ...page3.body.entries].map((e) => e.requestId);
    expect(ids).toEqual(["req-4", "req-3", "req-2", "req-1", "req-0"]);

    const created = await api("GET", `/v1/events/${event.id}/audit?action=event.created`, { token: ADMIN_TOKEN });
    expect(created.body.entries[0]).toMatchObject({
      actor: { type: "organiser" },
      subject: { type: "event", id: event.id },
    });
  });
});
