/**
 * The delivery rules' numbers (API.md, "Webhooks to the organiser's systems"), and how a wait is
 * taken on Cloudflare Queues, which delays one message by at most 12 hours (`delaySeconds` ≤ 43,200;
 * docs/api.md, "Outgoing webhooks"). Every step of the contract's schedule fits in one delay today; a
 * longer one would be taken in hops, each queue message that wakes early going back for the rest.
 */

/** After a failed attempt n (1-based), the wait before attempt n + 1: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_DELAYS_S: readonly number[] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/** The first attempt and one per step of the schedule; a delivery whose last one fails is failed. */
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;

/** An attempt is delivered if the endpoint answers 2xx within this. */
export const ATTEMPT_TIMEOUT_MS = 15_000;

/**
 * How long a claimed attempt holds its delivery: past its timeout, so that a second queue message for
 * the same delivery (Queues delivers at least once) waits rather than sending alongside it.
 */
export const ATTEMPT_LEASE_MS = 60_000;

/** An endpoint whose attempts have all failed for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;

/** A queue message may wake this much before its delivery's time and still attempt it. */
export const EARLY_MS = 1_000;

/** Seconds from failed attempt `attempts` to the next one; null once the schedule is spent (failed). */
export function retryDelayAfter(attempts: number): number | null {
  return attempts >= MAX_ATTEMPTS ? null : (RETRY_DELAYS_S[attempts - 1] ?? null);
}
