import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateTicketSigningKey } from "./scripts/lib/ticket-key.ts";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            APP_SECRET: "test-app-secret-0123456789abcdef",
            ALLOWED_ORIGINS: "*",
            TICKET_SIGNING_KEY: generateTicketSigningKey("test"),
            // Stripe calls go to a fake Stripe API that the tests install (test/fake-stripe.ts).
            STRIPE_SECRET_KEY: "sk_test_fake",
            STRIPE_WEBHOOK_SECRET: "whsec_test_secret",
            STRIPE_API_BASE: "http://stripe.test",
            // Pinned so a developer's .dev.vars (which `npm start` writes) cannot change what tests see.
            STRIPE_MODE: "live",
            SIMULATOR_ORIGIN: "",
            TICKET_RETIRED_KEYS: "[]",
            // Tests read availability right after each change; the cache is tested on its own.
            AVAILABILITY_MAX_AGE_MS: "0",
            WEBHOOK_ALLOW_LOCAL: "false",
            // The ticket e-mails are kept for GET /dev/mail, never sent; their links open this Worker.
            MAIL_MODE: "simulator",
            MAIL_FROM: "tickets@boxoffice.test",
            PUBLIC_ORIGIN: "http://boxoffice.test",
          },
          // Nothing consumes the webhook and mail queues behind a test's back (on the real clock): the
          // tests record what is sent to them and run the consumers themselves (test/webhook-queue.ts).
          queueProducers: {
            WEBHOOK_QUEUE: { queueName: "boxoffice-webhooks-unconsumed" },
            MAIL_QUEUE: { queueName: "boxoffice-mail-unconsumed" },
          },
        },
      }),
    ],
    test: {
      // test-browser/ runs in Node with a real Chromium: vitest.browser.config.ts.
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup/apply-migrations.ts"],
      testTimeout: 30_000,
    },
  };
});
