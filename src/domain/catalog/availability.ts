import type { Db } from "../../db/client";
import { tierObject, unwrap } from "../../objects/tier-client";
import type { TierSnapshot } from "../../objects/tier-rpc";
import { eventTiers, findEvent } from "./events";

export type TierStatus = "on_sale" | "sold_out" | "not_started" | "ended";

export function tierStatus(s: Pick<TierSnapshot, "tier" | "available" | "now">): TierStatus {
  if (s.tier.salesStartAt !== null && s.now < s.tier.salesStartAt) return "not_started";
  if (s.tier.salesEndAt !== null && s.now >= s.tier.salesEndAt) return "ended";
  return s.available > 0 ? "on_sale" : "sold_out";
}

/** A tier's part of the availability answer, as JSON text, and what it was made from. */
interface TierPart {
  snapshot: TierSnapshot;
  status: TierStatus;
  json: string;
}

/**
 * The last part made of each tier, per isolate (bounded: the oldest goes first). A tier whose object
 * says nothing changed since keeps its part: a 20,000-seat tier's seats are neither sent by its object
 * nor turned into JSON again while no seat changes.
 */
const parts = new Map<string, TierPart>();
const MAX_PARTS = 500;

function partOf(snapshot: TierSnapshot, now: number): TierPart {
  const s = { ...snapshot, now };
  const status = tierStatus(s);
  const json = JSON.stringify({
    tierId: s.tier.id,
    name: s.tier.name,
    price: s.tier.price,
    currency: s.currency,
    capacity: s.tier.capacity,
    available: s.available,
    status,
    ...(s.seats ? { seats: s.seats } : {}),
  });
  return { snapshot, status, json };
}

async function tierPart(env: Env, tierId: string): Promise<TierPart> {
  const kept = parts.get(tierId);
  const answer = unwrap(await tierObject(env, tierId).snapshot(tierId, kept?.snapshot.version));
  let part: TierPart;
  if ("unchanged" in answer && kept) {
    // Unchanged, but the time moves on: a sale can start or end with no change of the tier.
    part = tierStatus({ ...kept.snapshot, now: answer.now }) === kept.status ? kept : partOf(kept.snapshot, answer.now);
  } else if ("unchanged" in answer) {
    throw new Error(`tier ${tierId} answered unchanged to a version this isolate does not keep`);
  } else {
    part = partOf(answer, answer.now);
  }
  parts.delete(tierId);
  parts.set(tierId, part);
  if (parts.size > MAX_PARTS) parts.delete(parts.keys().next().value as string);
  return part;
}

/**
 * Live availability of every tier, as each tier's object sees it now, as the JSON text of
 * `{ tiers: [{ tierId, name, price, currency, capacity, available, status, seats? }] }`.
 */
export async function eventAvailabilityJson(env: Env, db: Db, eventId: string): Promise<string> {
  const [, tiers] = await Promise.all([findEvent(db, eventId), eventTiers(db, eventId)]);
  const made = await Promise.all(tiers.map((t) => tierPart(env, t.id)));
  return `{"tiers":[${made.map((p) => p.json).join(",")}]}`;
}
