/**
 * What goes on the webhook queue (Cloudflare Queues, `WEBHOOK_QUEUE`; wrangler.toml): small pointers to
 * rows in D1, never the rows themselves, so every consumer reads the state as it stands and a pointer
 * sent twice does no harm. A landed message is fanned out to its endpoints (`message`); each delivery
 * then has one queue message carrying it from attempt to attempt (`delivery`, retried with
 * `message.retry({ delaySeconds })` on the contract's schedule).
 */

import { sendAll } from "../lib/task-queue";

/** The queue's name in wrangler.toml: the Worker's `queue` handler dispatches batches by it. */
export const WEBHOOK_QUEUE_NAME = "boxoffice-webhooks";

export type WebhookTask =
  | { kind: "message"; id: string }
  /** `chain`: the delivery's chain when this was sent (a retry through the API starts a new one). */
  | { kind: "delivery"; id: string; chain: number };

export const isWebhookTask = (body: unknown): body is WebhookTask =>
  typeof body === "object" &&
  body !== null &&
  typeof (body as WebhookTask).id === "string" &&
  ((body as WebhookTask).kind === "message" || (body as WebhookTask).kind === "delivery");

export const sendTasks = (queue: Queue, tasks: WebhookTask[]) => sendAll(queue, tasks);

/** Puts landed messages on the queue to be fanned out. */
export const announceMessages = (queue: Queue, ids: string[]) =>
  sendTasks(
    queue,
    ids.map((id) => ({ kind: "message", id })),
  );

/**
 * `announceMessages`, best effort, after the messages are in D1: one that does not get on the queue now
 * is found by the Worker's per-minute sweep (src/domain/webhooks/sweep.ts), so a failure is only logged.
 */
export async function announceBestEffort(queue: Queue, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    await announceMessages(queue, ids);
  } catch (error) {
    console.error(JSON.stringify({ msg: "webhook messages not queued; the sweep will", ids, error: String(error) }));
  }
}
