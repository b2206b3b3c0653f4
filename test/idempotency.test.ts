import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, reserve } from "./helpers";

describe("Idempotency-Key", () => {
  it("a replayed reservation returns the same body, flagged, and holds nothing more", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const headers = { "Idempotency-Key": "order-attempt-1" };
    const first = await reserve(event.id, [{ tierId, quantity: 2 }], { sessionId: "s1" }, headers);
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const replay = await reserve(event.id, [{ tierId, quantity: 2 }], { sessionId: "s1" }, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);
    expect((await availability(event.id))[0]?.available).toBe(8);
    expect(await auditActions(event.id, "reservation.created")).toHaveLength(1);
  });

  it("the same key with another body is 422 IDEMPOTENCY_KEY_REUSED", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const headers = { "Idempotency-Key": "k-2" };
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "s" }, headers)).status).toBe(201);
    const reused = await reserve(event.id, [{ tierId, quantity: 3 }], { sessionId: "s" }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await availability(event.id))[0]?.available).toBe(9);
  });

  it("concurrent requests with one key run once: the others are told it is in use or get the replay", async () => {
    const event = await createEvent([{ capacity: 100 }]);
    const tierId = event.tiers[0]?.id as string;
    const headers = { "Idempotency-Key": "burst" };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => reserve(event.id, [{ tierId, quantity: 1 }], {}, headers)),
    );
    const created = results.filter((r) => r.status === 201);
    const inUse = results.filter((r) => r.status === 409);
    expect(created.length + inUse.length).toBe(10);
    for (const r of inUse) expect(r.body.code).toBe("IDEMPOTENCY_KEY_IN_USE");
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect((await availability(event.id))[0]?.available).toBe(99);
  });

  it("keys are scoped by credential: the organiser's key does not collide with a buyer's", async () => {
    const headers = { "Idempotency-Key": "shared-key" };
    const body = { name: "Scoped", startsAt: "2027-01-01T20:00:00Z", currency: "eur", tiers: [] };
    const first = await api("POST", "/v1/events", { token: ADMIN_TOKEN, body, headers });
    const replay = await api("POST", "/v1/events", { token: ADMIN_TOKEN, body, headers });
    expect(first.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    const event = await createEvent([{ capacity: 5 }]);
    const buyer = await reserve(event.id, [{ tierId: event.tiers[0]?.id as string, quantity: 1 }], {}, headers);
    expect(buyer.status).toBe(201);
  });

  it("errors a client caused are replayed too; a malformed key is rejected", async () => {
    const event = await createEvent([{ capacity: 1 }]);
    const tierId = event.tiers[0]?.id as string;
    const headers = { "Idempotency-Key": "too-many" };
    const first = await reserve(event.id, [{ tierId, quantity: 2 }], {}, headers);
    expect(first.body.code).toBe("SOLD_OUT");
    const replay = await reserve(event.id, [{ tierId, quantity: 2 }], {}, headers);
    expect(replay.status).toBe(409);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.headers.get("Content-Type")).toBe("application/problem+json");

    const bad = await reserve(event.id, [{ tierId, quantity: 1 }], {}, { "Idempotency-Key": "x".repeat(256) });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("INVALID_INPUT");
  });
});

describe("Idempotency-Key after a failure", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("a request whose answer could not be stored still answers; a retry converges on the same reservation", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const headers = { "Idempotency-Key": "order-42" };
    // D1 refuses the middleware's last write, after the handler succeeded.
    await env.DB.exec(
      "CREATE TRIGGER refuse_done BEFORE UPDATE ON idempotency_keys WHEN NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'hiccup'); END",
    );
    let first: Awaited<ReturnType<typeof reserve>>;
    try {
      first = await reserve(event.id, [{ tierId, quantity: 3 }], {}, headers);
    } finally {
      await env.DB.exec("DROP TRIGGER refuse_done");
    }
    expect(first.status).toBe(201);
    expect((await availability(event.id))[0]?.available).toBe(7);

    // While the first claim is fresh the key is in use; once it lapses a retry re-runs the request,
    // which lands on the same reservation, token and hold.
    expect((await reserve(event.id, [{ tierId, quantity: 3 }], {}, headers)).body.code).toBe("IDEMPOTENCY_KEY_IN_USE");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    const retry = await reserve(event.id, [{ tierId, quantity: 3 }], {}, headers);
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ id: first.body.id, token: first.body.token });
    expect((await availability(event.id))[0]?.available).toBe(7);
    expect(await auditActions(event.id, "reservation.created")).toHaveLength(1);
  });

  it("the stored answer does not hold the reservation token in the clear", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const first = await reserve(event.id, [{ tierId, quantity: 1 }], {}, { "Idempotency-Key": "buy-1" });
    expect(first.status).toBe(201);
    const rows = await env.DB.prepare("SELECT response_body FROM idempotency_keys").all<{ response_body: string }>();
    expect(rows.results.length).toBeGreaterThan(0);
    for (const row of rows.results) {
      expect(row.response_body).not.toContain(first.body.token);
      expect(row.response_body).not.toContain(first.body.id);
    }
    const replay = await reserve(event.id, [{ tierId, quantity: 1 }], {}, { "Idempotency-Key": "buy-1" });
    expect(replay.body.token).toBe(first.body.token);
  });
});
