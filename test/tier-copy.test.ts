import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, availability, createEvent, reserve } from "./helpers";

describe("what the tier object keeps of its tier in memory", () => {
  it("follows every sale, and the inventory check reads storage past it", async () => {
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const stub = env.TIER_INVENTORY.getByName(tierId);
    expect((await reserve(event.id, [{ tierId, quantity: 2 }])).status).toBe(201);
    expect((await availability(event.id))[0]?.available).toBe(3);
    expect(await stub.selfCheck(tierId)).toMatchObject({ ok: true, held: 2, heldByHolds: 2 });

    // Storage drifts behind the object's back: the check must see it, not the kept copy.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE tier SET held = held + 1");
    });
    expect(await stub.selfCheck(tierId)).toMatchObject({ held: 3, heldByHolds: 2 });
    const verify = await api("GET", `/v1/events/${event.id}/verify`, { token: ADMIN_TOKEN });
    expect(verify.body.ok).toBe(false);
  });
});
