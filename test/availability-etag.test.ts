import { describe, expect, it } from "vitest";
import { api, createEvent, reserve } from "./helpers";

describe("polling availability", () => {
  it("revalidates with the ETag: 304 with no body while nothing changed, a new answer once something did", async () => {
    const event = await createEvent([{ capacity: 5 }, { seats: ["A1", "A2", "A3"] }]);
    const path = `/v1/events/${event.id}/availability`;
    const first = await api("GET", path);
    expect(first.status).toBe(200);
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const same = await api("GET", path, { headers: { "If-None-Match": etag as string } });
    expect(same.status).toBe(304);
    expect(same.body).toBeNull();
    expect(same.headers.get("ETag")).toBe(etag);
    // Another client's tag, or a list holding ours, as HTTP allows.
    expect((await api("GET", path, { headers: { "If-None-Match": '"other"' } })).status).toBe(200);
    expect((await api("GET", path, { headers: { "If-None-Match": `"other", ${etag}` } })).status).toBe(304);
    // The weak comparison: a proxy that compressed the answer sends the tag back weakened.
    expect((await api("GET", path, { headers: { "If-None-Match": `W/${etag}` } })).status).toBe(304);
    expect((await api("GET", path, { headers: { "If-None-Match": "*" } })).status).toBe(304);

    const seated = event.tiers[1]?.id as string;
    expect((await reserve(event.id, [{ tierId: seated, seats: ["A2"] }])).status).toBe(201);
    const changed = await api("GET", path, { headers: { "If-None-Match": etag as string } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
    expect(changed.body.tiers[1].seats).toEqual([
      { label: "A1", status: "available" },
      { label: "A2", status: "held" },
      { label: "A3", status: "available" },
    ]);
  });

  it("a tier whose object has nothing new still moves on with the time: its sale starts on the hour set", async () => {
    const startsIn = 1_500;
    const salesStartAt = new Date(Date.now() + startsIn).toISOString();
    const event = await createEvent([
      { capacity: 5, salesStartAt },
      { seats: ["A1", "A2"], salesStartAt },
    ]);
    const path = `/v1/events/${event.id}/availability`;
    const before = await api("GET", path);
    expect(before.body.tiers.map((t: { status: string }) => t.status)).toEqual(["not_started", "not_started"]);
    await new Promise((resolve) => setTimeout(resolve, startsIn + 100));
    // No decision in between: both objects answer "unchanged", and the answer is made again all the same.
    const after = await api("GET", path, { headers: { "If-None-Match": before.headers.get("ETag") as string } });
    expect(after.status).toBe(200);
    expect(after.body.tiers.map((t: { status: string }) => t.status)).toEqual(["on_sale", "on_sale"]);
    expect(after.body.tiers[1].seats).toEqual([
      { label: "A1", status: "available" },
      { label: "A2", status: "available" },
    ]);
  });
});
