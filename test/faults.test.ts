import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, api, availability, createEvent, reserve } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a server fault", () => {
  it("is a 500 INTERNAL with nothing but the code, logged with the request id, and leaves no half-written event", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    // The audit table vanishing makes the event's D1 batch fail half-way through.
    await env.DB.exec("ALTER TABLE audit_log RENAME TO audit_log_away");
    try {
      const res = await api("POST", "/v1/events", {
        token: ADMIN_TOKEN,
        headers: { "X-Request-Id": "fault-1" },
        body: {
          name: "Doomed",
          startsAt: "2027-01-01T20:00:00Z",
          currency: "eur",
          tiers: [{ name: "t", price: 2500, capacity: 1 }],
        },
      });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ type: "about:blank", title: "Internal Server Error", status: 500, code: "INTERNAL" });
      expect(res.headers.get("X-Request-Id")).toBe("fault-1");
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('"requestId":"fault-1"'));
    } finally {
      await env.DB.exec("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    const events = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE name = 'Doomed'").first<{
      n: number;
    }>();
    const tiers = await env.DB.prepare("SELECT COUNT(*) AS n FROM tiers").first<{ n: number }>();
    expect(events?.n).toBe(0);
    expect(tiers?.n).toBe(0);
  });
});

describe("a reservation is answered only once it can be read back", () => {
  it("while D1 refuses writes: 500; the hold stands; a retry with the same key after D1 recovers converges", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const headers = { "Idempotency-Key": "during-outage" };
    await env.DB.exec("ALTER TABLE audit_log RENAME TO audit_log_away");
    let first: Awaited<ReturnType<typeof reserve>>;
    try {
      first = await reserve(event.id, [{ tierId, quantity: 2 }], { sessionId: "s" }, headers);
    } finally {
      await env.DB.exec("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    expect(first.status).toBe(500);
    expect(first.body.code).toBe("INTERNAL");
    expect((await availability(event.id))[0]?.available).toBe(8);
    // The session stays with the reservation that may exist: no second hold for it meanwhile.
    expect((await reserve(event.id, [{ tierId, quantity: 2 }], { sessionId: "s" })).body.code).toBe(
      "DUPLICATE_RESERVATION",
    );

    const retry = await reserve(event.id, [{ tierId, quantity: 2 }], { sessionId: "s" }, headers);
    expect(retry.status).toBe(201);
    const read = await api("GET", `/v1/reservations/${retry.body.id}`, { token: retry.body.token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe("active");
    expect((await availability(event.id))[0]?.available).toBe(8);
  });
});
