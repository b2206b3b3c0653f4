/**
 * Cloudflare Queues as the webhook and mail consumers use them: each queue message is one task (a small
 * pointer to a row in D1), acknowledged when done and otherwise retried with a delay. Nothing Queues
 * counts matters: attempts, outcomes and schedules live in D1.
 */

/** The longest `delaySeconds` Queues takes for one message. */
export const MAX_QUEUE_DELAY_S = 43_200;

/** The `delaySeconds` of a queue message that should wake in `ms`: at most one queue delay (then a hop). */
export const queueDelay = (ms: number) => Math.min(MAX_QUEUE_DELAY_S, Math.max(0, Math.ceil(ms / 1000)));

/** How long a queue message waits after a fault (D1 down, a message not landed yet): 5 s doubling, at most 5 min. */
export const faultDelay = (queueAttempts: number) => Math.min(300, 5 * 2 ** Math.max(0, queueAttempts - 1));

/** Queues takes at most 100 messages a `sendBatch`. */
const SEND_BATCH = 100;

export async function sendAll(queue: Queue, bodies: unknown[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += SEND_BATCH) {
    await queue.sendBatch(bodies.slice(i, i + SEND_BATCH).map((body) => ({ body, contentType: "json" as const })));
  }
}

/**
 * Runs each message's task at once. `run` answers the `delaySeconds` after which the message should come
 * back, or null when it is done with; a task that throws comes back after `faultDelay`. A body that is
 * not a task of this queue is logged and dropped.
 */
export async function consumeEach<T>(
  batch: MessageBatch<unknown>,
  what: string,
  isTask: (body: unknown) => body is T,
  run: (task: T) => Promise<number | null>,
): Promise<void> {
  await Promise.all(
    batch.messages.map(async (m) => {
      if (!isTask(m.body)) {
        console.error(JSON.stringify({ msg: `not a ${what} task; dropped`, body: m.body }));
        m.ack();
        return;
      }
      try {
        const delay = await run(m.body);
        if (delay === null) m.ack();
        else m.retry({ delaySeconds: delay });
      } catch (error) {
        console.error(JSON.stringify({ msg: `${what} task failed; retrying`, task: m.body, error: String(error) }));
        m.retry({ delaySeconds: faultDelay(m.attempts) });
      }
    }),
  );
}
