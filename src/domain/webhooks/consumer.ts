/**
 * The webhook queue's consumer (src/index.ts dispatches its batches here by queue name). Each queue
 * message is one task (src/db/webhook-queue.ts), acknowledged when done and otherwise retried with a
 * delay: the next step of a delivery's schedule, or a short backoff after a fault. Nothing is counted
 * by Queues that matters: attempts, outcomes and the schedule live in D1.
 */

import { createDb, type Db } from "../../db/client";
import type { WebhookMessageRow } from "../../db/schema";
import type { OrderMessageData } from "../../db/webhook-messages";
import { isWebhookTask, type WebhookTask } from "../../db/webhook-queue";
import { consumeEach } from "../../lib/task-queue";
import { orderPaidEmail } from "../mail/ticket-emails";
import { runDelivery } from "./attempt";
import { fanOut, landedMessage, markFannedOut, type Renderers } from "./fan-out";

/**
 * What an `order.paid` message sets off besides its webhooks: the ticket e-mail. Called each time such a
 * message is processed (at least once per paid order), after its deliveries are queued: the e-mail's id
 * derives from the order, so it is written and sent once (src/domain/mail/ticket-emails.ts).
 */
export async function orderPaid(env: Env, db: Db, message: WebhookMessageRow): Promise<void> {
  await orderPaidEmail(env, db, message.data as unknown as OrderMessageData);
}

/** A landed message: its deliveries, and what its type sets off. */
export async function processMessage(env: Env, db: Db, messageId: string, render: Renderers): Promise<void> {
  const landed = await landedMessage(db, messageId);
  // Announced, but its change never took (a D1 batch whose condition failed): nothing to send.
  if (!landed) return;
  const { message } = landed;
  await fanOut(env, db, landed, render);
  if (message.type === "order.paid") await orderPaid(env, db, message);
  await markFannedOut(db, message, Date.now());
}

/** The `delaySeconds` to retry the task after, or null when it is done. */
function runTask(env: Env, db: Db, task: WebhookTask, render: Renderers): Promise<number | null> {
  switch (task.kind) {
    case "message":
      return processMessage(env, db, task.id, render).then(() => null);
    case "delivery":
      return runDelivery(env, db, task.id, task.chain);
  }
}

export function consumeWebhooks(batch: MessageBatch<unknown>, env: Env, render: Renderers): Promise<void> {
  const db = createDb(env.DB);
  return consumeEach(batch, "webhook", isWebhookTask, (task) => runTask(env, db, task, render));
}
