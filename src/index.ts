import { app } from "./app";

export { TierInventory } from "./objects/tier-inventory";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
