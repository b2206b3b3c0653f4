import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { api, createEvent, reserve } from "./helpers";

const count = async (table: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0;

describe("hourly housekeeping", () => {
  it("forgets idempotency keys after 24 h and session claims whose reservation ended", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const ended = await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "a" }, { "Idempotency-Key": "k1" });
    await reserve(event.id, [{ tierId, quantity: 1 }], { sessionId: "b" });
    await api("DELETE", `/v1/reservations/${ended.body.id}`, { token: ended.body.token });
    expect(await count("session_claims")).toBe(2);
    expect(await count("idempotency_keys")).toBeGreaterThanOrEqual(1);

    const run = (at: number) => worker.scheduled(createScheduledController({ scheduledTime: at }), env);
    await run(Date.now() + 60_000);
    expect(await count("session_claims")).toBe(1); // "b" still holds its tickets
    expect(await count("idempotency_keys")).toBeGreaterThanOrEqual(1);

    await run(Date.now() + 25 * 3_600_000);
    expect(await count("session_claims")).toBe(0); // "b" has lapsed by then
    expect(await count("idempotency_keys")).toBe(0);
  });
});
