// The browser tests: Node runs vitest, serves the Worker with Miniflare and drives a real Chromium
// (test-browser/). `npm run test:browser`; the workerd suite is vitest.config.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test-browser/**/*.test.ts"],
    // Building the bundle and starting workerd and Chromium take seconds, more on a loaded CI machine.
    hookTimeout: 180_000,
    testTimeout: 60_000,
  },
});
