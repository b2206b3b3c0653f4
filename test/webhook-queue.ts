/**
 * The webhook and mail queues, driven by the test: what the service sends to `WEBHOOK_QUEUE` (the tier
 * objects, the Worker, the consumer itself) and to `MAIL_QUEUE` (the ticket e-mails) is recorded here
 * instead of reaching Queues, and `drain()` hands every task that is due to the Worker's own `queue`
 * handler in batches as Queues would (one queue a batch, `createMessageBatch`, `getQueueResult`),
 * putting retried ones back with their delay. Time is the (fake) clock's: a test moves it with
 * `advance(ms)`, so a 10-hour step costs nothing.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, vi } from "vitest";
import { MAIL_QUEUE_NAME, type MailTask } from "../src/db/mail-queue";
import { WEBHOOK_QUEUE_NAME, type WebhookTask } from "../src/db/webhook-queue";
import worker from "../src/index";

export interface QueuedTask {
  id: string;
  /** Which queue it is on (its batch's `queue`). */
  queue: string;
  body: WebhookTask | MailTask;
  /** When Queues would deliver it (the fake clock's ms). */
  dueAt: number;
  /** Deliveries so far, plus this one (Queues' `message.attempts`). */
  attempts: number;
  timestamp: number;
}

/** Queues hands a consumer at most this many messages a batch (wrangler.toml max_batch_size). */
const BATCH_SIZE = 10;
let counter = 0;

export function useWebhookQueue() {
  let queued: QueuedTask[] = [];
  /** Every task ever sent to the webhook queue, in order (a test reads what was put on it, and when). */
  const sent: { body: WebhookTask; delaySeconds: number; at: number }[] = [];
  /** Every task ever sent to the mail queue, in order. */
  const mailSent: { body: MailTask; delaySeconds: number; at: number }[] = [];
  /** While set, a send fails (the queues are down): nothing is recorded. */
  let refusing = false;

  const push = (queue: string, body: WebhookTask | MailTask, delaySeconds = 0) => {
    if (refusing) throw new Error("queue unavailable");
    const now = Date.now();
    if (queue === MAIL_QUEUE_NAME) mailSent.push({ body: body as MailTask, delaySeconds, at: now });
    else sent.push({ body: body as WebhookTask, delaySeconds, at: now });
    queued.push({ id: `qm_${++counter}`, queue, body, dueAt: now + delaySeconds * 1000, attempts: 1, timestamp: now });
  };

  beforeEach(() => {
    queued = [];
    sent.length = 0;
    mailSent.length = 0;
    refusing = false;
    const metadata = () => ({ metadata: { metrics: { backlogCount: queued.length, backlogBytes: 0 } } });
    for (const [producer, name] of [
      [env.WEBHOOK_QUEUE, WEBHOOK_QUEUE_NAME],
      [env.MAIL_QUEUE, MAIL_QUEUE_NAME],
    ] as const) {
      vi.spyOn(producer, "send").mockImplementation(async (body, options) => {
        push(name, body as WebhookTask | MailTask, options?.delaySeconds);
        return metadata();
      });
      vi.spyOn(producer, "sendBatch").mockImplementation(async (messages, options) => {
        if (refusing) throw new Error("queue unavailable");
        for (const m of messages) push(name, m.body as WebhookTask | MailTask, m.delaySeconds ?? options?.delaySeconds);
        return metadata();
      });
    }
  });

  /** Runs one batch of due tasks (of one queue) through the Worker's `queue` handler; false when nothing was due. */
  async function runOnce(): Promise<boolean> {
    const now = Date.now();
    const ready = queued.filter((q) => q.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    const queue = ready[0]?.queue;
    if (queue === undefined) return false;
    const due = ready.filter((q) => q.queue === queue).slice(0, BATCH_SIZE);
    queued = queued.filter((q) => !due.includes(q));
    const batch = createMessageBatch<WebhookTask | MailTask>(
      queue,
      due.map((q) => ({ id: q.id, timestamp: q.timestamp, attempts: q.attempts, body: q.body })),
    );
    // getQueueResult reports which messages were retried, not their delays: note each one's here.
    const delays = new Map<string, number>();
    for (const m of batch.messages) {
      const retry = m.retry.bind(m);
      Object.defineProperty(m, "retry", {
        value: (options?: QueueRetryOptions) => {
          delays.set(m.id, options?.delaySeconds ?? 0);
          retry(options);
        },
      });
    }
    const ctx = createExecutionContext();
    let threw = false;
    try {
      await worker.queue(batch, env);
    } catch {
      threw = true;
    }
    const result = await getQueueResult(batch, ctx);
    const retried = new Map(result.retryMessages.map((r) => [r.msgId, r.delaySeconds ?? delays.get(r.msgId) ?? 0]));
    for (const q of due) {
      const acked = result.ackAll || result.explicitAcks.includes(q.id);
      const delay =
        retried.get(q.id) ?? (threw || result.retryBatch.retry ? (result.retryBatch.delaySeconds ?? 0) : null);
      if (acked || delay === null) continue;
      queued.push({ ...q, dueAt: Date.now() + delay * 1000, attempts: q.attempts + 1 });
    }
    return true;
  }

  /** Runs the consumer until nothing is due now (what it sends with no delay runs too). */
  async function drain(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      if (!(await runOnce())) return;
    }
    throw new Error(`the queues did not settle: ${JSON.stringify(queued.slice(0, 5))}`);
  }

  return {
    sent,
    mailSent,
    /** Tasks waiting, with when each is due. */
    get waiting(): readonly QueuedTask[] {
      return queued;
    },
    /** The next time a waiting task is due, or null. */
    nextDue(): number | null {
      return queued.length === 0 ? null : Math.min(...queued.map((q) => q.dueAt));
    },
    refuseSends(on: boolean) {
      refusing = on;
    },
    /** Every waiting task is lost (a queue message gone: retention, retries spent). */
    loseAll() {
      queued = [];
    },
    drain,
    /** Moves the fake clock on by `ms` (vi.useFakeTimers({ toFake: ["Date"] }) first), then drains. */
    async advance(ms: number): Promise<void> {
      vi.setSystemTime(Date.now() + ms);
      await drain();
    },
    /** Moves the clock to the next waiting task and drains; false when nothing waits. */
    async next(): Promise<boolean> {
      const at = this.nextDue();
      if (at === null) return false;
      if (at > Date.now()) vi.setSystemTime(at);
      await drain();
      return true;
    },
  };
}

export type WebhookQueue = ReturnType<typeof useWebhookQueue>;
