/**
 * An event's drop queue, seen from the Worker (API.md, "Drops"; the objects are QueueShard and
 * QueueClock, src/objects/queue-*.ts). A join goes to the shard its entry id names; a poll is checked
 * by its token's MAC (which also says where the entry lives) before any object is addressed.
 */
import type { Db } from "../../db/client";
import type { StoredQueue } from "../../db/schema";
import { entryToken, readEntryToken, shardOf } from "../../lib/admission";
import { ApiError, notFound } from "../../lib/errors";
import { idFrom, newId } from "../../lib/ids";
import { hmac } from "../../lib/secret-box";
import { type EntryState, MAX_ENTRIES_PER_CLIENT, type QueueAddress, type ShardStats } from "../../objects/queue-rpc";
import type { QueueJoinInput } from "../../schemas/queue";
import { eventRules } from "../catalog/event-rules";
import { requireHuman } from "./bot-check";

const shardName = (a: QueueAddress) => `${a.eventId}:${a.generation}:${a.shard}`;

function addressOf(eventId: string, queue: Pick<StoredQueue, "generation" | "shards">, entryId: string): QueueAddress {
  return { eventId, generation: queue.generation, shards: queue.shards, shard: shardOf(entryId, queue.shards) };
}

/**
 * An entry id for a join: from the `sessionId` (keyed, so joining again finds the same entry, from any
 * address), or random and on the client's own shard (the first of a run of random ids that falls
 * there: one in `shards` does), so that most joins are one call to one object.
 */
async function entryIdFor(
  secret: string,
  queue: StoredQueue & { eventId: string },
  clientShard: number,
  sessionId?: string,
): Promise<string> {
  if (sessionId !== undefined) {
    return idFrom("qen", await hmac(secret, `queue-session\n${queue.eventId}\n${queue.generation}\n${sessionId}`));
  }
  for (;;) {
    const id = newId("qen");
    if (shardOf(id, queue.shards) === clientShard) return id;
  }
}

export interface Joined {
  created: boolean;
  entry: EntryState;
  token: string;
}

export async function joinQueue(
  env: Env,
  db: Db,
  eventId: string,
  input: QueueJoinInput,
  who: { client: string; remoteIp: string | null },
): Promise<Joined> {
  const rules = await eventRules(env, db, eventId);
  if (!rules) throw notFound("event", eventId);
  const queue = rules.queue;
  if (!queue) throw new ApiError("NOT_FOUND", `Event '${eventId}' does not sell through a queue`);
  await requireHuman(env, input.turnstileToken, who.remoteIp, null);
  // A client's entries are counted on its own shard (capped at MAX_ENTRIES_PER_CLIENT).
  const shardAt = (shard: number) => ({ eventId, generation: queue.generation, shards: queue.shards, shard });
  const clientShard = shardAt(shardOf(who.client, queue.shards));
  const entryId = await entryIdFor(env.APP_SECRET, { ...queue, eventId }, clientShard.shard, input.sessionId);
  const address = addressOf(eventId, queue, entryId);
  const stub = env.QUEUE_SHARD.getByName(shardName(address));
  const here = address.shard === clientShard.shard;
  // A session's entry on another shard: answered as it is if it exists, else counted first where the client's are.
  if (!here && !(await stub.has(entryId))) {
    const counted = await env.QUEUE_SHARD.getByName(shardName(clientShard)).claimEntry(who.client, entryId);
    if (!counted) throw tooManyEntries();
  }
  const { opensAt, admitPerMinute, passSeconds, passReservations } = queue;
  const [joined, token] = await Promise.all([
    stub.join({
      address,
      entryId,
      client: here ? who.client : null,
      terms: { opensAt, admitPerMinute, passSeconds, passReservations },
    }),
    entryToken(env.APP_SECRET, entryId, address),
  ]);
  if (!joined.ok) throw tooManyEntries();
  return { created: joined.created, entry: joined.entry, token };
}

const tooManyEntries = () =>
  new ApiError(
    "RATE_LIMITED",
    `This client has ${MAX_ENTRIES_PER_CLIENT} entries in this queue already: each is one chance, so no client gets more`,
    { reason: "requests", retryAfter: 60 },
    { "Retry-After": "60" },
  );

/**
 * Tells the queue's clock that its settings changed, so a sleeping clock picks them up (a new rate, or
 * terms for passes). Best effort: the change is in D1 already, and the next join wakes the clock too.
 */
export async function queueChanged(env: Env, eventId: string, queue: StoredQueue | null): Promise<void> {
  if (!queue) return;
  try {
    await env.QUEUE_CLOCK.getByName(`${eventId}:${queue.generation}`).wake({
      eventId,
      generation: queue.generation,
      shards: queue.shards,
    });
  } catch (error) {
    console.error(JSON.stringify({ msg: "queue clock not told of a change", eventId, error: String(error) }));
  }
}

/** The entry, if `token` is its own; checked before any object is addressed. */
export async function pollEntry(env: Env, entryId: string, token: string | null): Promise<EntryState> {
  if (token === null || !token.startsWith("qentok_")) {
    throw new ApiError("UNAUTHORIZED", "This call needs the queue entry's token as a bearer token");
  }
  const route = await readEntryToken(env.APP_SECRET, entryId, token);
  if (!route) throw new ApiError("UNAUTHORIZED", "The token is not valid for this queue entry");
  const entry = await env.QUEUE_SHARD.getByName(shardName(addressOf(route.eventId, route, entryId))).poll(entryId);
  if (!entry) throw notFound("queue entry", entryId);
  return entry;
}

export interface QueueStats {
  waiting: number;
  admitted: number;
  passesUsed: number;
  admitPerMinute: number;
  oldestWaitSeconds: number;
}

/** The queue's figures, summed over its shards (an organiser's read, not on the buyer's path). */
export async function queueStats(
  env: Env,
  eventId: string,
  queue: StoredQueue,
  passesUsed: number,
): Promise<QueueStats> {
  const shards: ShardStats[] = await Promise.all(
    Array.from({ length: queue.shards }, (_, shard) =>
      env.QUEUE_SHARD.getByName(
        shardName({ eventId, generation: queue.generation, shards: queue.shards, shard }),
      ).stats(),
    ),
  );
  const oldest = shards.map((s) => s.oldestWaitingSince).filter((t): t is number => t !== null);
  return {
    waiting: shards.reduce((n, s) => n + s.waiting, 0),
    admitted: shards.reduce((n, s) => n + s.admitted, 0),
    passesUsed,
    admitPerMinute: queue.admitPerMinute,
    oldestWaitSeconds: oldest.length === 0 ? 0 : Math.max(0, Math.floor((Date.now() - Math.min(...oldest)) / 1000)),
  };
}
