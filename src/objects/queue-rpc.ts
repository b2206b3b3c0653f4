/**
 * What the Worker, the queue's shards and its clock say to each other. A queue (one event, one
 * generation) is `shards` QueueShard objects, which keep the entries and answer joins and polls, and
 * one QueueClock, which draws the order at `opensAt`, numbers later joiners in arrival order and sets
 * the admission schedule. Every entry ends up with a `slot`, its place in the whole queue; the
 * schedule says how many slots are admitted at any moment, the same on every shard.
 */
import type { EntryRoute } from "../lib/admission";

/** The settings a shard needs to answer for its entries (a copy of the event's, kept by the clock). */
export interface QueueTerms {
  opensAt: number;
  admitPerMinute: number;
  passSeconds: number;
  passReservations: number;
}

/**
 * Admission as a function of time: `admitted(t) = f0 + floor((t - t0) * rate / 60000)` slots. Set by
 * the clock at the draw (f0 = 0) and rebased whenever `admitPerMinute` changes.
 */
export interface Schedule {
  t0: number;
  f0: number;
  rate: number;
}

export function admittedAt(s: Schedule, t: number): number {
  return t < s.t0 ? s.f0 : s.f0 + Math.floor(((t - s.t0) * s.rate) / 60_000);
}

/** When `admittedAt` first reaches `slot`. */
export function timeOfSlot(s: Schedule, slot: number): number {
  return slot <= s.f0 ? s.t0 : s.t0 + Math.ceil(((slot - s.f0) * 60_000) / s.rate);
}

export interface QueueAddress extends EntryRoute {
  shard: number;
}

export interface JoinRequest {
  address: QueueAddress;
  entryId: string;
  /**
   * The joining client, when this is its shard (`shardOf` the client) and the entry is counted
   * against its cap here; null when the client's shard has counted it already.
   */
  client: string | null;
  terms: QueueTerms;
}

/**
 * Entries one client may have in one queue (API.md, "Drops": many connections buy no advantage; a
 * few, for a household or an office behind one address).
 */
export const MAX_ENTRIES_PER_CLIENT = 4;

export interface EntryState {
  id: string;
  eventId: string;
  status: "waiting" | "admitted" | "expired";
  position: number;
  estimatedWaitSeconds: number;
  pollAfterSeconds: number;
  pass?: string;
  passExpiresAt?: number;
}

export interface ShardStats {
  waiting: number;
  admitted: number;
  /** When the longest-waiting entry joined; null with nobody waiting. */
  oldestWaitingSince: number | null;
}

/** A later joiner waiting for its slot. */
export interface Unnumbered {
  id: string;
  joinedAt: number;
}

/** A shard's later joiners without a slot, for the clock's tick. */
export interface UnnumberedBatch {
  /** Those who joined before the tick's cutoff, in arrival order (at most a batch). */
  ready: Unnumbered[];
  /** The batch was cut short: this shard has more that joined before the cutoff. */
  truncated: boolean;
  /** Every later joiner still without a slot, those inside the cutoff too. */
  waiting: number;
}

/** What the clock tells a shard each tick: the slots it gave, and the schedule. */
export interface NumberRequest {
  address: QueueAddress;
  slots: [entryId: string, slot: number][];
  schedule: Schedule;
  /** The next slot the clock will give: a later joiner not numbered yet waits behind it. */
  nextSlot: number;
  terms: QueueTerms;
}
