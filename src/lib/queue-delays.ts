/** Cloudflare Queues' delays, shared by the consumers that carry a task from attempt to attempt. */

/** The longest `delaySeconds` Queues takes for one message. */
export const MAX_QUEUE_DELAY_S = 43_200;

/** The `delaySeconds` of a queue message that should wake in `ms`: at most one queue delay (then a hop). */
export const queueDelay = (ms: number) => Math.min(MAX_QUEUE_DELAY_S, Math.max(0, Math.ceil(ms / 1000)));

/** How long a queue message waits after a fault (D1 down, a message not landed yet): 5 s doubling, at most 5 min. */
export const faultDelay = (queueAttempts: number) => Math.min(300, 5 * 2 ** Math.max(0, queueAttempts - 1));
