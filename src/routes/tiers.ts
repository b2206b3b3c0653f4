import { tierAttempts, updateTier } from "../domain/catalog/tiers";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idOf } from "../schemas/common";
import { TierPatch } from "../schemas/events";
import { Tier, TierAttempts } from "./bodies";
import { operation, Routes } from "./operation";
import { tierAttemptsView, tierView } from "./views";

const change = operation({
  method: "patch",
  path: "/v1/tiers/:tierId",
  summary: "Change a tier (capacity never below what is sold and held)",
  auth: "organiser",
  params: { tierId: idOf("tier") },
  body: TierPatch,
  responses: { 200: { description: "The tier", body: Tier } },
  errors: ["CAPACITY_BELOW_COMMITTED"],
});

const attempts = operation({
  method: "get",
  path: "/v1/tiers/:tierId/attempts",
  summary: "Reservation attempts that reached the tier's object, a second, over the last ten minutes (ours)",
  auth: "organiser",
  params: { tierId: idOf("tier") },
  responses: { 200: { description: "Attempts a second, as the object counted them", body: TierAttempts } },
});

export const tierRoutes = new Routes()
  .on(change, organiserOnly(), async (c) => {
    const tierId = readParam(c, "tierId", change.params.tierId);
    const patch = await readBody(c, change.body);
    return c.json(tierView(await updateTier(c.env, tierId, patch, auditContext(c))));
  })
  .on(attempts, organiserOnly(), async (c) => {
    const tierId = readParam(c, "tierId", attempts.params.tierId);
    return c.json(tierAttemptsView(tierId, await tierAttempts(c.env, tierId)));
  });
