import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { events } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { tierObject, unwrap } from "../../objects/tier-client";
import type { TierSnapshot } from "../../objects/tier-rpc";
import { eventTiers } from "./events";

export type TierStatus = "on_sale" | "sold_out" | "not_started" | "ended";

/** What a tier's status is worked out from: its sale window and what is left. */
interface Timing {
  salesStartAt: number | null;
  salesEndAt: number | null;
  available: number;
}

export function tierStatus(t: Timing, now: number): TierStatus {
  if (t.salesStartAt !== null && now < t.salesStartAt) return "not_started";
  if (t.salesEndAt !== null && now >= t.salesEndAt) return "ended";
  return t.available > 0 ? "on_sale" : "sold_out";
}

/**
 * A tier's part of the availability answer as JSON text, split around its status (which the time alone
 * can change), with what the status is worked out from. The seats are kept only as text.
 */
interface TierPart {
  version: string;
  timing: Timing;
  status: TierStatus;
  head: string;
  tail: string;
}

/**
 * The last part made of each tier, per isolate. A tier whose object says nothing changed since keeps its
 * part: a 20,000-seat tier's seats are neither sent by its object nor turned into JSON again while no seat
 * changes. Bounded by the text kept (the oldest goes first): a 20,000-seat part is about a megabyte.
 */
const parts = new Map<string, TierPart>();
const MAX_CHARS = 16_000_000;
let keptChars = 0;

function partOf(s: TierSnapshot): TierPart {
  const timing = { salesStartAt: s.tier.salesStartAt, salesEndAt: s.tier.salesEndAt, available: s.available };
  const status = tierStatus(timing, s.now);
  const head = JSON.stringify({
    tierId: s.tier.id,
    name: s.tier.name,
    price: s.tier.price,
    currency: s.currency,
    capacity: s.tier.capacity,
    available: s.available,
  }).slice(0, -1);
  const tail = s.seats ? `,"seats":${JSON.stringify(s.seats)}}` : "}";
  return { version: s.version, timing, status, head, tail };
}

const jsonOf = (part: TierPart, status: TierStatus) => `${part.head},"status":${JSON.stringify(status)}${part.tail}`;

function keep(tierId: string, part: TierPart): void {
  const before = parts.get(tierId);
  if (before) keptChars -= before.head.length + before.tail.length;
  parts.delete(tierId);
  parts.set(tierId, part);
  keptChars += part.head.length + part.tail.length;
  for (const [oldest, kept] of parts) {
    if (keptChars <= MAX_CHARS || oldest === tierId) break;
    parts.delete(oldest);
    keptChars -= kept.head.length + kept.tail.length;
  }
}

async function tierJson(env: Env, tierId: string): Promise<string> {
  const kept = parts.get(tierId);
  const answer = unwrap(await tierObject(env, tierId).snapshot(tierId, kept?.version));
  if ("unchanged" in answer) {
    if (!kept) throw new Error(`tier ${tierId} answered unchanged to a version this isolate does not keep`);
    // Unchanged, but the time moves on: a sale can start or end with no change of the tier.
    return jsonOf(kept, tierStatus(kept.timing, answer.now));
  }
  const part = partOf(answer);
  keep(tierId, part);
  return jsonOf(part, part.status);
}

/**
 * Live availability of every tier, as each tier's object sees it now, as the JSON text of
 * `{ tiers: [{ tierId, name, price, currency, capacity, available, status, seats? }] }`.
 */
export async function eventAvailabilityJson(env: Env, db: Db, eventId: string): Promise<string> {
  // One round trip: the event (to answer 404 for none) and its tiers.
  const [[event], tiers] = await db.batch([
    db.select({ id: events.id }).from(events).where(eq(events.id, eventId)),
    eventTiers(db, eventId),
  ]);
  if (!event) throw notFound("event", eventId);
  const made = await Promise.all(tiers.map((t) => tierJson(env, t.id)));
  return `{"tiers":[${made.join(",")}]}`;
}
