import { app } from "./app";
import { createDb } from "./db/client";
import { purgeExpired } from "./domain/purge";
import { resumeStaleRefunds } from "./domain/refunds";

export { TierInventory } from "./objects/tier-inventory";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const db = createDb(env.DB);
    await purgeExpired(db, controller.scheduledTime);
    await resumeStaleRefunds(env, db, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
