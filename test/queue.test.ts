import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { QueueShard } from "../src/objects/queue-shard";
import { ADMIN_TOKEN, api, auditActions, availability, createEvent, newClient, reserve } from "./helpers";

afterEach(() => vi.useRealTimers());

const SECOND = 1000;
let now = 0;
/** The clock every part of the service reads (the objects share the test's isolate). */
function at(ms: number) {
  now = ms;
  vi.setSystemTime(ms);
}

function startClock() {
  vi.useFakeTimers({ toFake: ["Date"] });
  at(Math.ceil(Date.now() / 1000) * 1000);
  return now;
}

interface Entry {
  id: string;
  status: string;
  position: number;
  estimatedWaitSeconds: number;
  pollAfterSeconds: number;
  pass?: string;
  passExpiresAt?: string;
  token: string;
}

async function queuedEvent(queue: Record<string, unknown>, tier: Record<string, unknown> = {}) {
  const event = await createEvent([{ capacity: 100, price: 0, ...tier }], { queue });
  return { event, tierId: event.tiers[0]?.id as string };
}

async function generationOf(eventId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT queue FROM events WHERE id = ?").bind(eventId).first<{ queue: string }>();
  return (JSON.parse(row?.queue ?? "null") as { generation: number }).generation;
}

/** One tick of the event's queue clock, run now (alarms are driven by the test, never waited for). */
async function tick(eventId: string) {
  const clock = env.QUEUE_CLOCK.getByName(`${eventId}:${await generationOf(eventId)}`);
  expect(await runDurableObjectAlarm(clock)).toBe(true);
}

async function join(eventId: string, body: Record<string, unknown> = {}, client = newClient()) {
  return api("POST", `/v1/events/${eventId}/queue`, { body, headers: { "CF-Connecting-IP": client } });
}

async function joinMany(eventId: string, n: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const res = await join(eventId);
    expect(res.status).toBe(201);
    entries.push(res.body);
  }
  return entries;
}

async function poll(entry: Pick<Entry, "id" | "token">): Promise<Entry> {
  const res = await api("GET", `/v1/queue/${entry.id}`, { token: entry.token });
  expect(res.status).toBe(200);
  return { ...res.body, token: entry.token };
}

const withPass = (pass: string) => ({ "Boxoffice-Admission": pass });

describe("a drop queue, joined before it opens", () => {
  it("draws a random order at opensAt, admits at admitPerMinute, and a pass allows passReservations, one at a time", async () => {
    const t0 = startClock();
    const opensAt = new Date(t0 + 60 * SECOND).toISOString();
    const { event, tierId } = await queuedEvent({ opensAt, admitPerMinute: 60, passSeconds: 120, passReservations: 2 });
    expect(event).toMatchObject({ queue: { opensAt, admitPerMinute: 60, passSeconds: 120, passReservations: 2 } });

    const entries = await joinMany(event.id, 30);
    for (const e of entries) {
      expect(e).toMatchObject({ eventId: event.id, status: "waiting" });
      expect(e.token).toMatch(/^qentok_/);
      expect(e.position).toBeGreaterThanOrEqual(1);
      expect(e.estimatedWaitSeconds).toBeGreaterThanOrEqual(60);
    }
    // Without a pass, no reservation (and nothing is held).
    const refused = await reserve(event.id, [{ tierId, quantity: 1 }]);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "ADMISSION_REQUIRED", queueUrl: `/v1/events/${event.id}/queue` });

    at(t0 + 61 * SECOND);
    await tick(event.id); // the draw
    const drawn = await Promise.all(entries.map(poll));
    expect(drawn.map((e) => e.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(drawn.every((e) => e.status === "waiting")).toBe(true);
    expect((await auditActions(event.id, "queue.opened"))[0]?.data).toMatchObject({ entries: 30, admitPerMinute: 60 });

    // Five seconds at one a second: the first five of the drawn order are admitted, the rest move up.
    at(t0 + 66 * SECOND);
    const later = await Promise.all(drawn.map(poll));
    later.forEach((e, i) => {
      const before = drawn[i] as Entry;
      if (before.position <= 5) {
        expect(e).toMatchObject({ status: "admitted", position: 0, estimatedWaitSeconds: 0 });
        expect(e.pass).toMatch(/^adm_/);
        expect(e.passExpiresAt).toBe(new Date(t0 + 66 * SECOND + 120 * SECOND).toISOString());
      } else {
        expect(e).toMatchObject({ status: "waiting", position: before.position - 5 });
        expect(e.pass).toBeUndefined();
      }
    });
    const stats = await api("GET", `/v1/events/${event.id}/stats`, { token: ADMIN_TOKEN });
    expect(stats.body.queue).toEqual({
      waiting: 25,
      admitted: 5,
      passesUsed: 0,
      admitPerMinute: 60,
      oldestWaitSeconds: 66,
    });

    // The first admitted: one reservation at a time, two in all.
    const first = later.find((e) => e.status === "admitted") as Entry;
    const pass = first.pass as string;
    const one = await reserve(event.id, [{ tierId, quantity: 2 }], {}, withPass(pass));
    expect(one.status).toBe(201);
    const second = await reserve(event.id, [{ tierId, quantity: 1 }], {}, withPass(pass));
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "DUPLICATE_RESERVATION", reservationId: one.body.id });
    await api("DELETE", `/v1/reservations/${one.body.id}`, { token: one.body.token });
    const two = await reserve(event.id, [{ tierId, quantity: 1 }], {}, withPass(pass));
    expect(two.status).toBe(201);
    await api("DELETE", `/v1/reservations/${two.body.id}`, { token: two.body.token });
    const usedUp = await reserve(event.id, [{ tierId, quantity: 1 }], {}, withPass(pass));
    expect(usedUp.status).toBe(403);
    expect(usedUp.body.code).toBe("ADMISSION_INVALID");
    expect((await availability(event.id))[0]?.available).toBe(100);
    expect((await api("GET", `/v1/events/${event.id}/stats`, { token: ADMIN_TOKEN })).body.queue.passesUsed).toBe(1);
    // Only the two reservations made reached the tier's object: every refusal above came before it.
    const attempts = await api("GET", `/v1/tiers/${tierId}/attempts`, { token: ADMIN_TOKEN });
    expect(attempts.body.perSecond.reduce((n: number, p: { attempts: number }) => n + p.attempts, 0)).toBe(2);

    // A pass past passSeconds: the entry reads expired and the pass is refused.
    const another = later.filter((e) => e.status === "admitted")[1] as Entry;
    at(t0 + 66 * SECOND + 121 * SECOND);
    expect(await poll(another)).toMatchObject({ status: "expired", position: 0 });
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], {}, withPass(another.pass as string))).body.code).toBe(
      "ADMISSION_INVALID",
    );
  });

  it("places early joiners in an order uncorrelated with their join order", async () => {
    const t0 = startClock();
    const { event } = await queuedEvent({ opensAt: new Date(t0 + 60 * SECOND).toISOString(), admitPerMinute: 600 });
    const entries = await joinMany(event.id, 200);
    at(t0 + 61 * SECOND);
    await tick(event.id);
    const positions = (await Promise.all(entries.map(poll))).map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Spearman's rho of join order against drawn position (ranks are exact: no ties).
    const n = positions.length;
    const d2 = positions.reduce((sum, p, i) => sum + (p - (i + 1)) ** 2, 0);
    const rho = 1 - (6 * d2) / (n * (n * n - 1));
    expect(Math.abs(rho)).toBeLessThan(0.3); // |rho| has a standard deviation of 0.07 for n = 200
  });
});

describe("a drop queue, joined after it opened", () => {
  it("admits later joiners in arrival order, across shards, and banks no unused admissions", async () => {
    const t0 = startClock();
    const { event } = await queuedEvent({ opensAt: new Date(t0 - SECOND).toISOString(), admitPerMinute: 60 });
    const joined: Entry[] = [];
    for (let i = 0; i < 6; i++) {
      at(t0 + i * 10);
      joined.push((await join(event.id)).body);
    }
    at(t0 + 2 * SECOND);
    await tick(event.id);
    const numbered = await Promise.all(joined.map(poll));
    expect(numbered.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
    at(t0 + 4 * SECOND);
    expect((await Promise.all(joined.map(poll))).map((e) => e.status)).toEqual([
      "admitted",
      "admitted",
      "waiting",
      "waiting",
      "waiting",
      "waiting",
    ]);

    // Ten quiet minutes admit nobody in advance: a joiner after them waits its turn at the same pace.
    at(t0 + 10 * 60 * SECOND);
    await tick(event.id);
    const late = (await join(event.id)).body as Entry;
    at(t0 + 10 * 60 * SECOND + 2 * SECOND);
    await tick(event.id);
    expect(await poll(late)).toMatchObject({ status: "waiting", position: 1 });
    at(t0 + 10 * 60 * SECOND + 3 * SECOND);
    expect((await poll(late)).status).toBe("admitted");
  });

  it("answers the same entry to a joiner with the same sessionId, and keeps entries and admissions over a restart", async () => {
    const t0 = startClock();
    const { event } = await queuedEvent({ opensAt: new Date(t0 - SECOND).toISOString(), admitPerMinute: 60 });
    const first = await join(event.id, { sessionId: "buyer-session-1" });
    const again = await join(event.id, { sessionId: "buyer-session-1" });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.token).toBe(first.body.token);
    at(t0 + 2 * SECOND);
    await tick(event.id);
    at(t0 + 3 * SECOND);
    const admitted = await poll(first.body);
    expect(admitted.status).toBe("admitted");

    // A new instance of the shard over the same storage (what an eviction or a restart leaves).
    const shards = await listDurableObjectIds(env.QUEUE_SHARD);
    let found = 0;
    for (const id of shards) {
      const state = await runInDurableObject(env.QUEUE_SHARD.get(id), async (_instance, ctx) => {
        const fresh = new QueueShard(ctx, env);
        await ctx.blockConcurrencyWhile(async () => {}); // its constructor's reads
        return fresh.poll(first.body.id);
      });
      if (state) {
        found += 1;
        expect(state).toMatchObject({ status: "admitted", pass: admitted.pass });
        expect(new Date(state.passExpiresAt as number).toISOString()).toBe(admitted.passExpiresAt);
      }
    }
    expect(found).toBe(1);
  });
});

describe("queue entries per client", () => {
  it("are at most four: arriving with many connections buys no more chances; sessions rejoin their own", async () => {
    const t0 = startClock();
    const { event } = await queuedEvent({ opensAt: new Date(t0 + 60 * SECOND).toISOString(), admitPerMinute: 60 });
    const client = newClient();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await join(event.id, {}, client));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 429, 429]);
    expect(answers[4]?.body).toMatchObject({ code: "RATE_LIMITED", reason: "requests" });
    expect(answers[4]?.headers.get("Retry-After")).toBe("60");
    // Another client is not counted with this one; a session of a capped client still finds its entry.
    expect((await join(event.id)).status).toBe(201);
    const other = newClient();
    const mine = await join(event.id, { sessionId: "one-session" }, other);
    for (let i = 0; i < 3; i++) await join(event.id, {}, other);
    const again = await join(event.id, { sessionId: "one-session" }, other);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(mine.body.id);
    const stats = await api("GET", `/v1/events/${event.id}/stats`, { token: ADMIN_TOKEN });
    expect(stats.body.queue.waiting).toBe(9);
  });
});

describe("queue input and credentials", () => {
  it("refuses bad joins, bad settings and bad tokens with problem+json, changing nothing", async () => {
    const t0 = startClock();
    const { event, tierId } = await queuedEvent({
      opensAt: new Date(t0 + 60 * SECOND).toISOString(),
      admitPerMinute: 60,
    });
    const before = await listDurableObjectIds(env.QUEUE_SHARD);

    const unknownField = await join(event.id, { sesionId: "typo" });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.code).toBe("INVALID_INPUT");
    expect((await join("evt_0000000000000000000000")).status).toBe(404);
    const plain = await createEvent([{ capacity: 5 }]);
    const noQueue = await join(plain.id);
    expect(noQueue.status).toBe(404);
    expect(await listDurableObjectIds(env.QUEUE_SHARD)).toHaveLength(before.length);

    const badSettings = await api("PATCH", `/v1/events/${event.id}`, {
      token: ADMIN_TOKEN,
      body: { queue: { opensAt: new Date(t0).toISOString(), admitPerMinute: 0 } },
    });
    expect(badSettings.status).toBe(400);
    expect(badSettings.body.errors).toEqual([expect.objectContaining({ path: "queue.admitPerMinute" })]);
    expect((await api("GET", `/v1/events/${event.id}`)).body.queue.admitPerMinute).toBe(60);

    const entry = (await join(event.id)).body as Entry;
    const other = (await join(event.id)).body as Entry;
    expect((await api("GET", `/v1/queue/${entry.id}`, { token: other.token })).status).toBe(401);
    expect((await api("GET", `/v1/queue/${entry.id}`)).status).toBe(401);
    expect((await api("GET", "/v1/queue/not-an-id", { token: entry.token })).status).toBe(400);

    for (const pass of ["nonsense", `adm_${"A".repeat(40)}.${"B".repeat(43)}`]) {
      const res = await reserve(event.id, [{ tierId, quantity: 1 }], {}, withPass(pass));
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("ADMISSION_INVALID");
    }
  });

  it("refuses a pass of another event or a tampered one, and sells without passes once the queue is removed", async () => {
    const t0 = startClock();
    const a = await queuedEvent({ opensAt: new Date(t0 - SECOND).toISOString(), admitPerMinute: 60 });
    const b = await queuedEvent({ opensAt: new Date(t0 - SECOND).toISOString(), admitPerMinute: 60 });
    const entry = (await join(a.event.id)).body as Entry;
    at(t0 + 2 * SECOND);
    await tick(a.event.id);
    at(t0 + 3 * SECOND);
    const pass = (await poll(entry)).pass as string;
    expect(pass).toMatch(/^adm_/);
    const elsewhere = await reserve(b.event.id, [{ tierId: b.tierId, quantity: 1 }], {}, withPass(pass));
    expect(elsewhere.body.code).toBe("ADMISSION_INVALID");
    const tampered = `${pass.slice(0, -2)}${pass.endsWith("AA") ? "BB" : "AA"}`;
    expect((await reserve(a.event.id, [{ tierId: a.tierId, quantity: 1 }], {}, withPass(tampered))).body.code).toBe(
      "ADMISSION_INVALID",
    );
    expect((await availability(a.event.id))[0]?.available).toBe(100);

    const removed = await api("PATCH", `/v1/events/${a.event.id}`, { token: ADMIN_TOKEN, body: { queue: null } });
    expect(removed.status).toBe(200);
    expect(removed.body.queue).toBeNull();
    expect((await reserve(a.event.id, [{ tierId: a.tierId, quantity: 1 }])).status).toBe(201);
    const updated = await auditActions(a.event.id, "event.updated");
    expect(updated[0]?.data).toEqual({ queue: null });
  });
});

describe("a drop queue over time", () => {
  it("keeps its clock awake while anyone waits for a place, and wakes it when the settings change", async () => {
    const t0 = startClock();
    const { event } = await queuedEvent({ opensAt: new Date(t0 - SECOND).toISOString(), admitPerMinute: 1 });
    const first = (await join(event.id)).body as Entry;
    // Fifty-nine quiet ticks after the first joiner was numbered: one more and the clock sleeps.
    for (let i = 1; i <= 60; i++) {
      at(t0 + 2 * SECOND + i * SECOND);
      await tick(event.id);
    }
    // A joiner half a second after a tick (its shard heard from the clock: the join does not wake it).
    at(now + SECOND / 2);
    const late = (await join(event.id)).body as Entry;
    at(now + SECOND / 2);
    await tick(event.id); // inside the settle time: not numbered yet, but the clock must not sleep on it
    at(now + SECOND);
    await tick(event.id);
    expect(await poll(late)).toMatchObject({ status: "waiting", position: 1 });

    // admitPerMinute raised from 1 to 600: applied from the next tick, counted from the place reached.
    expect((await poll(first)).status).toBe("admitted");
    expect((await poll(late)).status).toBe("waiting");
    const patched = await api("PATCH", `/v1/events/${event.id}`, {
      token: ADMIN_TOKEN,
      body: { queue: { opensAt: new Date(t0 - SECOND).toISOString(), admitPerMinute: 600 } },
    });
    expect(patched.status).toBe(200);
    await tick(event.id);
    at(now + SECOND);
    expect((await poll(late)).status).toBe("admitted");
  });

  it("refuses to move opensAt once the queue has opened, and numbers a joiner a stale copy of it would have ranked", async () => {
    const t0 = startClock();
    const opensAt = new Date(t0 + 60 * SECOND).toISOString();
    const { event } = await queuedEvent({ opensAt, admitPerMinute: 60 });
    await joinMany(event.id, 3);
    at(t0 + 61 * SECOND);
    await tick(event.id);
    const moved = await api("PATCH", `/v1/events/${event.id}`, {
      token: ADMIN_TOKEN,
      body: { queue: { opensAt: new Date(t0 + 3600 * SECOND).toISOString(), admitPerMinute: 60 } },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.errors).toEqual([expect.objectContaining({ path: "queue.opensAt" })]);

    // An isolate whose copy still says opensAt is in the future sends a join to a shard that had no
    // entries at the draw: the shard treats it as a later joiner all the same.
    const gen = await generationOf(event.id);
    const entryId = "qen_StaleCopyJoiner000000000";
    const { shardOf } = await import("../src/lib/admission");
    const shard = shardOf(entryId, 16);
    const address = { eventId: event.id, generation: gen, shards: 16, shard };
    const terms = { opensAt: t0 + 3600 * SECOND, admitPerMinute: 60, passSeconds: 900, passReservations: 3 };
    await env.QUEUE_SHARD.getByName(`${event.id}:${gen}:${shard}`).join({ address, entryId, client: null, terms });
    at(t0 + 63 * SECOND);
    await tick(event.id);
    const state = await env.QUEUE_SHARD.getByName(`${event.id}:${gen}:${shard}`).poll(entryId);
    expect(state?.status).toBe("waiting");
    // Behind the three early entries, two of which the schedule has admitted by now.
    expect(state?.position).toBe(2);
  });
});
