import { app } from "./app";
import { IN_FLIGHT_MS } from "./db/claims";
import { createDb } from "./db/client";
import { purgeExpired } from "./db/purge";
import { resumeStaleRefunds } from "./domain/sales/refunds";
import { KEY_LIFETIME_MS } from "./middleware/idempotency";

export { QueueClock } from "./objects/queue-clock";
export { QueueShard } from "./objects/queue-shard";
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
