import { app } from "./app";
import { createDb } from "./db/client";
import { purgeExpired } from "./domain/purge";

export { TierInventory } from "./objects/tier-inventory";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await purgeExpired(createDb(env.DB), controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
