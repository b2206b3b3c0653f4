/**
 * The per-minute sweep (the Worker's cron): what should be on the webhook queue and may not be. A tier
 * object puts its messages on the queue right after they land in D1, best effort; a message still not
 * fanned out a minute after its change (the object was evicted, the queue refused) is put there
 * here. So is a pending delivery whose next attempt is long overdue (its queue message was lost:
 * retention, retries spent), which the lease and chain checks make safe to send twice.
 */
import { and, asc, eq, isNull, lt } from "drizzle-orm";
import type { Db } from "../../db/client";
import { webhookDeliveries, webhookMessages } from "../../db/schema";
import { sendTasks, type WebhookTask } from "../../db/webhook-queue";

/** The per-minute cron of wrangler.toml that runs the sweep (the other one is the hourly housekeeping). */
export const SWEEP_CRON = "* * * * *";

/** A message not fanned out this long after its change is put on the queue again. */
export const UNSENT_AFTER_MS = 60_000;
/** A pending delivery this far past its next attempt has lost its queue message. */
export const OVERDUE_AFTER_MS = 5 * 60_000;
const MAX_PER_SWEEP = 500;

export async function sweepWebhooks(env: Env, db: Db, now: number): Promise<number> {
  const [unsent, overdue] = await db.batch([
    db
      .select({ id: webhookMessages.id })
      .from(webhookMessages)
      .where(and(isNull(webhookMessages.fannedOutAt), lt(webhookMessages.createdAt, now - UNSENT_AFTER_MS)))
      .orderBy(asc(webhookMessages.createdAt))
      .limit(MAX_PER_SWEEP),
    db
      .select({ id: webhookDeliveries.id, chain: webhookDeliveries.chain })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, "pending"), lt(webhookDeliveries.nextAttemptAt, now - OVERDUE_AFTER_MS)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(MAX_PER_SWEEP),
  ]);
  const tasks: WebhookTask[] = [
    ...unsent.map((m) => ({ kind: "message" as const, id: m.id })),
    ...overdue.map((d) => ({ kind: "delivery" as const, id: d.id, chain: d.chain })),
  ];
  await sendTasks(env.WEBHOOK_QUEUE, tasks);
  return tasks.length;
}
