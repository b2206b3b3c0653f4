import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../src/lib/ids";
import { createEvent, reserve } from "./helpers";

describe("reservations naming tiers that do not exist", () => {
  it("are refused before any tier object is addressed: a burst leaves no object storage behind", async () => {
    const event = await createEvent([{ capacity: 5 }]);
    const real = event.tiers[0]?.id as string;
    const before = (await listDurableObjectIds(env.TIER_INVENTORY)).map((id) => id.toString()).sort();

    const made = Array.from({ length: 20 }, () => newId("tier"));
    const answers = await Promise.all(
      made.map((tierId, i) =>
        reserve(
          event.id,
          // Some name only unknown tiers, some an unknown one beside a real one.
          i % 2 === 0
            ? [{ tierId, quantity: 1 }]
            : [
                { tierId: real, quantity: 1 },
                { tierId, quantity: 1 },
              ],
        ),
      ),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND", detail: `No tier '${made[i]}' in this event` });
    }
    // Another event's tier is no tier of this event either.
    const other = await createEvent([{ capacity: 5 }]);
    const foreign = other.tiers[0]?.id as string;
    expect((await reserve(event.id, [{ tierId: foreign, quantity: 1 }])).status).toBe(404);

    const after = (await listDurableObjectIds(env.TIER_INVENTORY)).map((id) => id.toString()).sort();
    expect(after).toEqual(before);
    // Nothing was held on the real tier by the refused requests.
    expect((await reserve(event.id, [{ tierId: real, quantity: 5 }])).status).toBe(201);
  });

  it("a tier object asked about a tier D1 does not know writes nothing to its storage", async () => {
    const tierId = newId("tier");
    const stub = env.TIER_INVENTORY.getByName(tierId);
    expect(await stub.counters(tierId)).toMatchObject({ ok: false, code: "NOT_FOUND" });
    await runInDurableObject(stub, (_instance, state) => {
      const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray();
      expect(tables).toEqual([]);
    });
  });
});
