// The tests that run in Node rather than workerd: the pages in a real Chromium (test-browser/: vitest serves
// the Worker with Miniflare and drives the browser) and checks over the source tree (test-node/).
// `npm run test:browser`; the workerd suite is vitest.config.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test-browser/**/*.test.ts", "test-node/**/*.test.ts"],
    // Building the bundle and starting workerd and Chromium take seconds, more on a loaded CI machine.
    hookTimeout: 180_000,
    testTimeout: 60_000,
  },
});
