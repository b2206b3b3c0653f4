import { describe, expect, it } from "vitest";
import { auditActions, availability, createEvent, reserve } from "./helpers";

describe("reservations under concurrency never oversell", () => {
  it("200 concurrent one-ticket reservations on a tier of 50: exactly 50 win", async () => {
    const event = await createEvent([{ capacity: 50 }]);
    const tierId = event.tiers[0]?.id as string;
    const results = await Promise.all(Array.from({ length: 200 }, () => reserve(event.id, [{ tierId, quantity: 1 }])));

    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 409)).toHaveLength(150);
    for (const refused of results.filter((r) => r.status === 409)) {
      expect(refused.body).toMatchObject({ code: "SOLD_OUT", tierId, available: 0 });
      expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    }
    expect(await availability(event.id)).toMatchObject([{ tierId, available: 0, status: "sold_out" }]);
    expect(await auditActions(event.id, "reservation.created")).toHaveLength(50);
  });

  it("100 concurrent reservations of the same seat: exactly one wins", async () => {
    const event = await createEvent([{ seats: ["A1", "A2", "A3"] }]);
    const tierId = event.tiers[0]?.id as string;
    const results = await Promise.all(
      Array.from({ length: 100 }, () => reserve(event.id, [{ tierId, seats: ["A2"] }])),
    );

    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(99);
    for (const r of refused) expect(r.body).toMatchObject({ code: "SEAT_UNAVAILABLE", seats: ["A2"] });
    const [tier] = await availability(event.id);
    expect(tier?.seats).toEqual([
      { label: "A1", status: "available" },
      { label: "A2", status: "held" },
      { label: "A3", status: "available" },
    ]);
    expect(tier?.available).toBe(2);
  });

  it("a two-tier reservation where one tier is short holds nothing in either tier", async () => {
    const event = await createEvent([{ capacity: 10 }, { capacity: 2 }]);
    const [big, small] = event.tiers.map((t) => t.id) as [string, string];
    const res = await reserve(event.id, [
      { tierId: big, quantity: 4 },
      { tierId: small, quantity: 3 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: "SOLD_OUT", tierId: small, available: 2 });
    expect((await availability(event.id)).map((t) => t.available)).toEqual([10, 2]);
    expect(await auditActions(event.id, "reservation.created")).toHaveLength(0);

    const ok = await reserve(event.id, [
      { tierId: big, quantity: 4 },
      { tierId: small, quantity: 2 },
    ]);
    expect(ok.status).toBe(201);
    expect(ok.body.items).toEqual([
      { tierId: big, quantity: 4 },
      { tierId: small, quantity: 2 },
    ]);
    expect((await availability(event.id)).map((t) => t.available)).toEqual([6, 0]);
  });
});
