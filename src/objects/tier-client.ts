import { ApiError } from "../lib/errors";
import type { Refusal } from "./tier-rpc";

/** The TierInventory object that owns `tierId`. */
export const tierObject = (env: Env, tierId: string) => env.TIER_INVENTORY.getByName(tierId);

/** Turns an object's refusal into the API error it stands for. */
export function refusalError(refusal: Refusal): ApiError {
  const { ok: _ok, code, detail, ...extra } = refusal;
  return new ApiError(code, detail, extra);
}

/** An object's answer, or the API error its refusal stands for. (RPC adds `Disposable` to results.) */
export function unwrap<R extends { ok: true } | Refusal>(result: R): Extract<R, { ok: true }> {
  if (result.ok === false) throw refusalError(result as Refusal);
  return result as Extract<R, { ok: true }>;
}
