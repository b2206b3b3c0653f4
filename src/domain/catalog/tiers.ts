import type { RequestContext } from "../../db/audit";
import { tierObject, unwrap } from "../../objects/tier-client";
import type { TierPatch } from "../../schemas/events";

/** Organiser changes to a tier go through its object: capacity never drops below sold + held. */
export async function updateTier(env: Env, tierId: string, patch: TierPatch, ctx: RequestContext) {
  const { tier } = unwrap(await tierObject(env, tierId).updateTier({ tierId, patch, ctx }));
  return tier;
}

/** Reservation attempts that reached the tier's object, a second, as the object counted them. */
export async function tierAttempts(env: Env, tierId: string) {
  return unwrap(await tierObject(env, tierId).attemptRates(tierId));
}
