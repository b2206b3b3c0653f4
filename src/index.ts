import { app } from "./app";
import { IN_FLIGHT_MS } from "./db/claims";
import { createDb } from "./db/client";
import { MAIL_QUEUE_NAME } from "./db/mail-queue";
import { purgeExpired } from "./db/purge";
import { WEBHOOK_QUEUE_NAME } from "./db/webhook-queue";
import { consumeMail, sweepMail } from "./domain/mail/ticket-emails";
import { resumeStaleRefunds } from "./domain/sales/refunds";
import { consumeWebhooks } from "./domain/webhooks/consumer";
import { SWEEP_CRON, sweepWebhooks } from "./domain/webhooks/sweep";
import { KEY_LIFETIME_MS } from "./middleware/idempotency";
import { orderView } from "./routes/views";

export { QueueClock } from "./objects/queue-clock";
export { QueueShard } from "./objects/queue-shard";
export { TierInventory } from "./objects/tier-inventory";

/**
 * The queues this Worker consumes, by name (wrangler.toml `[[queues.consumers]]`): each batch goes to
 * its queue's handler. A new queue is one more entry here. (Not exported: workerd takes every named
 * export of the entry module for an entrypoint.)
 */
const QUEUE_HANDLERS: Readonly<Record<string, (batch: MessageBatch<unknown>, env: Env) => Promise<void>>> = {
  // The webhooks' bodies are the API's own: the Order as GET /v1/orders/:orderId answers it.
  [WEBHOOK_QUEUE_NAME]: (batch, env) => consumeWebhooks(batch, env, { order: orderView }),
  // The ticket e-mails: one pointer per e-mail, from the order.paid consumer and the resend route.
  [MAIL_QUEUE_NAME]: (batch, env) => consumeMail(batch, env),
};

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const db = createDb(env.DB);
    if (controller.cron === SWEEP_CRON) {
      // Each sweep on its own: one failing must not keep the other from running.
      const swept = await Promise.allSettled([
        sweepWebhooks(env, db, controller.scheduledTime),
        sweepMail(env, db, controller.scheduledTime),
      ]);
      const failed = swept.filter((s) => s.status === "rejected").map((s) => String(s.reason));
      if (failed.length > 0) throw new Error(`sweep failed: ${failed.join("; ")}`);
      return;
    }
    await purgeExpired(db, controller.scheduledTime, {
      idempotencyKeyMs: KEY_LIFETIME_MS,
      claimInFlightMs: IN_FLIGHT_MS,
    });
    await resumeStaleRefunds(env, db, controller.scheduledTime);
  },
  async queue(batch, env) {
    const handler = QUEUE_HANDLERS[batch.queue];
    // Unknown queue: its messages are retried (Queues' own delay) rather than lost, and it is logged.
    if (!handler) throw new Error(`no handler for queue '${batch.queue}'`);
    await handler(batch, env);
  },
} satisfies ExportedHandler<Env>;
