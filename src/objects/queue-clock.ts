/**
 * QueueClock: one object per queue (event and generation), off the buyer's path: joins and polls go
 * to the shards, which it talks to about once a second. It
 *
 * - draws the order at `opensAt`: each shard says how many entries joined before it; the clock deals
 *   slots 1..M over the shards in a uniformly random interleaving (Fisher-Yates over M shard labels,
 *   `crypto.getRandomValues`), and each shard gives its slots to its early entries in their random
 *   rank order. A uniformly random interleaving of uniformly random orders is a uniformly random order
 *   of all M entries, whatever the shards' sizes: fairness holds across shards.
 * - numbers later joiners in arrival order: each tick it collects every shard's unnumbered entries
 *   that joined over a second ago (by then no shard can still add an earlier one), sorts them by join
 *   time and gives them the next slots, never slots the schedule has already passed (unused admission
 *   is not banked, so a burst after a quiet spell is still paced).
 * - keeps the schedule (`queue-rpc.ts`): `admitPerMinute` slots a minute from the draw, across all
 *   shards together; a change of rate rebases it from the slot reached.
 *
 * Its state is in its storage and every step can be repeated, so a restart or a lost answer delays
 * a tick and changes nothing. It reads the queue's settings from D1 each tick, and sleeps when the
 * queue is gone or quiet; a shard wakes it on the next join.
 */
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { auditRow, SYSTEM } from "../db/audit";
import { createDb } from "../db/client";
import { auditLog, events, type StoredQueue } from "../db/schema";
import type { EntryRoute } from "../lib/admission";
import { toIso } from "../lib/time";
import {
  admittedAt,
  type QueueAddress,
  type QueueTerms,
  type Schedule,
  type Unnumbered,
  type UnnumberedBatch,
} from "./queue-rpc";

const TICK_MS = 1_000;
/** Before `opensAt` the clock only watches for the settings to change. */
const WAITING_TICK_MS = 5_000;
/** A later joiner is numbered once every shard has answered for the moment it joined. */
const SETTLE_MS = 1_000;
/** Ticks with nobody to number before the clock sleeps. */
const IDLE_TICKS = 60;

interface ClockState {
  route: EntryRoute;
  schedule: Schedule | null;
  nextSlot: number;
  /** The draw is dealt (its slots stored under `draw:<shard>`) but not yet acknowledged by every shard. */
  pendingDraw: boolean;
  /** Entries the draw placed (for `queue.opened`). */
  drawn: number;
  idleTicks: number;
}

const termsOf = (q: StoredQueue): QueueTerms => ({
  opensAt: q.opensAt,
  admitPerMinute: q.admitPerMinute,
  passSeconds: q.passSeconds,
  passReservations: q.passReservations,
});

/** Deals slots 1..M over shards with `counts[i]` entries each, in a uniformly random interleaving. */
export function dealSlots(counts: number[]): number[][] {
  const labels: number[] = [];
  counts.forEach((n, shard) => {
    for (let i = 0; i < n; i++) labels.push(shard);
  });
  const random = new Uint32Array(labels.length);
  for (let off = 0; off < random.length; off += 16_384) crypto.getRandomValues(random.subarray(off, off + 16_384));
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(((random[i] as number) / 4_294_967_296) * (i + 1));
    [labels[i], labels[j]] = [labels[j] as number, labels[i] as number];
  }
  const slots: number[][] = counts.map(() => []);
  labels.forEach((shard, i) => {
    slots[shard]?.push(i + 1);
  });
  return slots;
}

export class QueueClock extends DurableObject<Env> {
  /** Starts the ticks if they have stopped. */
  async wake(route: EntryRoute): Promise<void> {
    const state = await this.ctx.storage.get<ClockState>("state");
    if (!state) {
      await this.ctx.storage.put<ClockState>("state", {
        route,
        schedule: null,
        nextSlot: 1,
        pendingDraw: false,
        drawn: 0,
        idleTicks: 0,
      });
    } else if (state.idleTicks > 0) {
      await this.ctx.storage.put<ClockState>("state", { ...state, idleTicks: 0 });
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const state = await this.ctx.storage.get<ClockState>("state");
    if (!state) return;
    let again: number | null = Date.now() + TICK_MS;
    try {
      again = await this.tickOrWait(state);
    } catch (error) {
      // A shard or D1 that did not answer: the next tick repeats what this one did not finish.
      console.error(JSON.stringify({ msg: "queue clock tick failed", route: state.route, error: String(error) }));
    }
    if (again !== null) await this.ctx.storage.setAlarm(again);
  }

  /** One tick, or the wait before `opensAt`; answers when to tick again (null: sleep until woken). */
  private async tickOrWait(state: ClockState): Promise<number | null> {
    const { route } = state;
    const row = await createDb(this.env.DB)
      .select({ queue: events.queue })
      .from(events)
      .where(eq(events.id, route.eventId))
      .get();
    const queue = row?.queue ?? null;
    if (!queue || queue.generation !== route.generation) return null; // removed (or replaced): nothing more to do
    const now = Date.now();
    if (now < queue.opensAt && state.schedule === null) return Math.min(queue.opensAt, now + WAITING_TICK_MS);
    const next = await this.tick(state, queue, now);
    await this.ctx.storage.put("state", next);
    return next.idleTicks < IDLE_TICKS || next.pendingDraw ? Date.now() + TICK_MS : null;
  }

  private shard(route: EntryRoute, k: number) {
    return this.env.QUEUE_SHARD.getByName(`${route.eventId}:${route.generation}:${k}`);
  }

  private shards(route: EntryRoute): QueueAddress[] {
    return Array.from({ length: route.shards }, (_, shard) => ({ ...route, shard }));
  }

  private async tick(state: ClockState, queue: StoredQueue, now: number): Promise<ClockState> {
    const { route } = state;
    const terms = termsOf(queue);
    let s = state;
    if (s.schedule === null) {
      const counts = await Promise.all(this.shards(route).map((a) => this.shard(route, a.shard).earlyCount(a, terms)));
      if (counts.some((n) => n === null)) return s; // a shard's clock is not there yet: next tick
      const early = counts as number[];
      const total = early.reduce((a, b) => a + b, 0);
      const dealt = dealSlots(early);
      s = {
        ...s,
        schedule: { t0: now, f0: 0, rate: queue.admitPerMinute },
        nextSlot: total + 1,
        pendingDraw: true,
        drawn: total,
      };
      // Stored before any shard hears of it (a key per shard, each a shard's share), so a restart deals
      // the same slots again.
      await this.ctx.storage.put(Object.fromEntries(dealt.map((slots, k) => [`draw:${k}`, slots])));
      await this.ctx.storage.put("state", s);
    }
    const schedule = s.schedule as Schedule;
    if (s.pendingDraw) {
      await this.opened(route, s.drawn, queue, now);
      await Promise.all(
        this.shards(route).map(async (a) => {
          const slots = (await this.ctx.storage.get<number[]>(`draw:${a.shard}`)) ?? [];
          await this.shard(route, a.shard).draw(a, terms, slots, schedule);
        }),
      );
      await this.ctx.storage.delete(this.shards(route).map((a) => `draw:${a.shard}`));
      s = { ...s, pendingDraw: false };
      await this.ctx.storage.put("state", s);
    }
    if (queue.admitPerMinute !== schedule.rate) {
      s = { ...s, schedule: { t0: now, f0: admittedAt(schedule, now), rate: queue.admitPerMinute } };
    }
    const batches = await Promise.all(
      this.shards(route).map((a) => this.shard(route, a.shard).unnumbered(a, terms, now - SETTLE_MS)),
    );
    const joiners = inArrivalOrder(batches);
    const slots: [string, number][][] = this.shards(route).map(() => []);
    const first = Math.max(s.nextSlot, admittedAt(s.schedule as Schedule, now) + 1);
    joiners.forEach((j, i) => {
      slots[j.shard]?.push([j.id, first + i]);
    });
    // Quiet only when no shard has anyone waiting for a slot (those inside the settle time too).
    const waiting = batches.reduce((n, b) => n + b.waiting, 0);
    s = {
      ...s,
      nextSlot: joiners.length > 0 ? first + joiners.length : s.nextSlot,
      idleTicks: waiting > 0 ? 0 : s.idleTicks + 1,
    };
    // Saved before the shards hear it: a slot is never given twice (a lost answer leaves a gap).
    await this.ctx.storage.put("state", s);
    const told = s;
    await Promise.all(
      this.shards(route).map((a) =>
        this.shard(route, a.shard).number({
          address: a,
          slots: slots[a.shard] ?? [],
          schedule: told.schedule as Schedule,
          nextSlot: told.nextSlot,
          terms,
        }),
      ),
    );
    return s;
  }

  /** `queue.opened` in the audit log, once (its id is the queue's; written again until the draw is out). */
  private async opened(route: EntryRoute, entries: number, queue: StoredQueue, now: number): Promise<void> {
    await createDb(this.env.DB)
      .insert(auditLog)
      .values(
        auditRow(SYSTEM, {
          id: `aud_queue_${route.eventId}_${route.generation}`,
          eventId: route.eventId,
          at: now,
          action: "queue.opened",
          subject: { type: "event", id: route.eventId },
          data: { entries, admitPerMinute: queue.admitPerMinute, opensAt: toIso(queue.opensAt) },
        }),
      )
      .onConflictDoNothing();
  }
}

/**
 * The shards' ready joiners in arrival order. When a shard's batch was cut short, only joiners up to
 * its last one are taken (the rest of its backlog may be older than other shards' newer joiners).
 */
function inArrivalOrder(batches: UnnumberedBatch[]): (Unnumbered & { shard: number })[] {
  const all = batches.flatMap((b, shard) => b.ready.map((u) => ({ ...u, shard })));
  all.sort((a, b) => a.joinedAt - b.joinedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const cuts = batches.filter((b) => b.truncated).map((b) => b.ready.at(-1)?.joinedAt ?? 0);
  if (cuts.length === 0) return all;
  const limit = Math.min(...cuts);
  return all.filter((j) => j.joinedAt <= limit);
}
