/**
 * A delivery's attempts, one per wake-up of its queue message (API.md, "Webhooks to the organiser's
 * systems"). An attempt is claimed first with a compare-and-set on the delivery's attempt count, which
 * also holds the delivery a lease ahead: a second queue message for the same delivery (Queues delivers
 * at least once; a retry through the API or the sweep may start another) can neither repeat that
 * attempt nor make one alongside it. Then the message is POSTed, and the outcome recorded in one
 * batch with what it does to the endpoint:
 * - 2xx: delivered; the endpoint is not failing any more.
 * - 410 Gone: failed, and the endpoint is disabled at once (audited).
 * - anything else: the next step of the schedule, or failed once it is spent; an endpoint whose
 *   attempts have all failed for 5 days (since `failingSince`) is disabled (audited).
 * A disabled or deleted endpoint gets nothing more: its delivery fails without an attempt.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
  webhookDeliveries,
  webhookEndpoints,
  webhookMessages,
} from "../../db/schema";
import { queueDelay } from "../../lib/task-queue";
import { disableStatements, endpointSecret } from "./endpoints";
import { ATTEMPT_LEASE_MS, DISABLE_AFTER_MS, EARLY_MS, retryDelayAfter } from "./schedule";
import { type AttemptResult, post } from "./send";

/**
 * Makes the delivery's attempt if it is due (and its queue message is of its current chain). Returns
 * the `delaySeconds` after which its queue message should come back, or null when it is done with.
 */
export async function runDelivery(env: Env, db: Db, deliveryId: string, chain: number): Promise<number | null> {
  const now = Date.now();
  const delivery = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).get();
  if (delivery?.status !== "pending" || delivery.chain !== chain) return null;
  const due = delivery.nextAttemptAt ?? now;
  // Early: a wait longer than one queue delay, taken in hops, or a second message held off by a lease.
  if (due > now + EARLY_MS) return queueDelay(due - now);
  const [endpoint, message] = await db.batch([
    db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, delivery.endpointId)),
    db.select().from(webhookMessages).where(eq(webhookMessages.id, delivery.messageId)),
  ]);
  const target = endpoint[0];
  if (!target || target.deletedAt !== null || target.disabledAt !== null) {
    const why = !target || target.deletedAt !== null ? "the endpoint was deleted" : "the endpoint is disabled";
    await db
      .update(webhookDeliveries)
      .set({ status: "failed", lastError: why, nextAttemptAt: null, updatedAt: now })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "pending")));
    return null;
  }
  const payload = message[0]?.payload;
  if (!payload) throw new Error(`delivery ${deliveryId}: its message has no payload`);
  // Read before the attempt is claimed: a secret that cannot be read ends the delivery, not a loop of claims.
  const secret = await endpointSecret(env, target).catch(() => null);
  if (secret === null) {
    await db
      .update(webhookDeliveries)
      .set({
        status: "failed",
        lastError: "the endpoint's secret cannot be read (was APP_SECRET changed?)",
        nextAttemptAt: null,
        updatedAt: now,
      })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "pending")));
    return null;
  }

  const [claimed] = await db
    .update(webhookDeliveries)
    .set({ attempts: delivery.attempts + 1, nextAttemptAt: now + ATTEMPT_LEASE_MS, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.status, "pending"),
        eq(webhookDeliveries.attempts, delivery.attempts),
        eq(webhookDeliveries.chain, chain),
      ),
    )
    .returning();
  // Another queue message took this attempt: that one carries the delivery on.
  if (!claimed) return null;
  const result = await post(target.url, secret, delivery.messageId, payload, now);
  return record(db, claimed, target, result, Date.now());
}

/** Records the outcome of the claimed attempt (only if nothing moved the delivery on meanwhile). */
async function record(
  db: Db,
  claimed: WebhookDeliveryRow,
  endpoint: WebhookEndpointRow,
  result: AttemptResult,
  now: number,
): Promise<number | null> {
  const ours = and(
    eq(webhookDeliveries.id, claimed.id),
    eq(webhookDeliveries.status, "pending"),
    eq(webhookDeliveries.attempts, claimed.attempts),
    eq(webhookDeliveries.chain, claimed.chain),
  );
  const outcome = { lastStatus: result.status, lastError: result.error, updatedAt: now };
  const theEndpoint = eq(webhookEndpoints.id, endpoint.id);
  if (result.delivered) {
    await db.batch([
      db
        .update(webhookDeliveries)
        .set({ ...outcome, status: "delivered", nextAttemptAt: null, deliveredAt: now })
        .where(ours),
      db.update(webhookEndpoints).set({ failingSince: null }).where(theEndpoint),
    ]);
    return null;
  }
  if (result.status === 410) {
    await db.batch([
      db
        .update(webhookDeliveries)
        .set({ ...outcome, status: "failed", nextAttemptAt: null })
        .where(ours),
      ...disableStatements(db, endpoint, "gone", now),
    ]);
    return null;
  }
  const delay = retryDelayAfter(claimed.attempts);
  await db.batch([
    db
      .update(webhookDeliveries)
      .set(
        delay === null
          ? { ...outcome, status: "failed", nextAttemptAt: null }
          : { ...outcome, nextAttemptAt: now + delay * 1000 },
      )
      .where(ours),
    db
      .update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now})` })
      .where(theEndpoint),
    ...disableStatements(
      db,
      endpoint,
      "failing",
      now,
      sql`${webhookEndpoints.failingSince} <= ${now - DISABLE_AFTER_MS}`,
    ),
  ]);
  return delay === null ? null : queueDelay(delay * 1000);
}
