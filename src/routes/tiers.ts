import { Hono } from "hono";
import { updateTier } from "../domain/catalog/tiers";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idOf } from "../schemas/common";
import { TierPatch } from "../schemas/events";
import { tierView } from "./views";

export const tierRoutes = new Hono<{ Bindings: Env }>().patch("/v1/tiers/:tierId", organiserOnly(), async (c) => {
  const tierId = readParam(c, "tierId", idOf("tier"));
  const patch = await readBody(c, TierPatch);
  return c.json(tierView(await updateTier(c.env, tierId, patch, auditContext(c))));
});
