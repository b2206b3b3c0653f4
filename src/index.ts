import { app } from "./app";
import { createDb } from "./db/client";
import { purgeExpired } from "./db/purge";
import { resumeStaleRefunds } from "./domain/sales/refunds";
import { IN_FLIGHT_MS } from "./domain/sales/session-claims";
import { KEY_LIFETIME_MS } from "./middleware/idempotency";

export { TierInventory } from "./objects/tier-inventory";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const db = createDb(env.DB);
    await purgeExpired(db, controller.scheduledTime, {
      idempotencyKeyMs: KEY_LIFETIME_MS,
      claimInFlightMs: IN_FLIGHT_MS,
    });
    await resumeStaleRefunds(env, db, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
