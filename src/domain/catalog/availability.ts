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

/** Live availability of every tier, as each tier's object sees it now. */
export async function eventAvailability(env: Env, db: Db, eventId: string) {
  const [, tiers] = await Promise.all([findEvent(db, eventId), eventTiers(db, eventId)]);
  const snapshots = await Promise.all(tiers.map(async (t) => unwrap(await tierObject(env, t.id).snapshot(t.id))));
  return {
    tiers: snapshots.map((s) => ({
      tierId: s.tier.id,
      name: s.tier.name,
      price: s.tier.price,
      currency: s.currency,
      capacity: s.tier.capacity,
      available: s.available,
      status: tierStatus(s),
      ...(s.seats ? { seats: s.seats } : {}),
    })),
  };
}
