/** An endpoint's deliveries: newest first, paged by an opaque cursor; and a retry asked by the organiser. */
import { and, eq, ne, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { Keyset } from "../../db/keyset";
import { type WebhookDeliveryRow, webhookDeliveries } from "../../db/schema";
import { sendTasks } from "../../db/webhook-queue";
import { ApiError, notFound } from "../../lib/errors";
import type { DeliveryQuery } from "../../schemas/webhooks";
import { findEndpoint } from "./endpoints";
import { ATTEMPT_LEASE_MS } from "./schedule";

const NEWEST_FIRST = new Keyset(webhookDeliveries.createdAt, webhookDeliveries.id, "desc");

export async function listDeliveries(db: Db, endpointId: string, query: DeliveryQuery) {
  await findEndpoint(db, endpointId);
  const conditions: SQL[] = [eq(webhookDeliveries.endpointId, endpointId), ...NEWEST_FIRST.after(query.cursor)];
  if (query.status) conditions.push(eq(webhookDeliveries.status, query.status));
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(...NEWEST_FIRST.orderBy())
    .limit(query.limit + 1);
  const { page, nextCursor } = NEWEST_FIRST.page(rows, query.limit, (d) => ({ at: d.createdAt, id: d.id }));
  return { deliveries: page, nextCursor };
}

/**
 * Queues the delivery again, for an attempt now (docs/api.md, "Outgoing webhooks"): a failed one is
 * pending again and gets one more attempt (failed again if that fails: the schedule is not restarted);
 * a pending one is moved up to now. It starts a new chain, so the queue message of its earlier one stops.
 * A delivered one is `409 ALREADY_DELIVERED`; one of a disabled endpoint `409 ENDPOINT_DISABLED`.
 */
export async function retryDelivery(
  env: Env,
  db: Db,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDeliveryRow> {
  const endpoint = await findEndpoint(db, endpointId);
  const delivery = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
    .get();
  if (!delivery) throw notFound("delivery", deliveryId);
  const delivered = () => new ApiError("ALREADY_DELIVERED", `Delivery '${deliveryId}' was delivered`);
  if (delivery.status === "delivered") throw delivered();
  if (endpoint.disabledAt !== null) {
    throw new ApiError("ENDPOINT_DISABLED", `Webhook endpoint '${endpointId}' is disabled: it gets nothing more`);
  }
  const now = Date.now();
  // An attempt in flight (claimed, its lease running) carries the delivery on: a second alongside it
  // would be a duplicate, and its outcome would be dropped.
  const inFlight =
    delivery.status === "pending" &&
    delivery.nextAttemptAt !== null &&
    delivery.nextAttemptAt > now &&
    delivery.nextAttemptAt - delivery.updatedAt === ATTEMPT_LEASE_MS;
  if (inFlight) return delivery;
  const [queued] = await db
    .update(webhookDeliveries)
    .set({ status: "pending", nextAttemptAt: now, chain: delivery.chain + 1, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.chain, delivery.chain),
        ne(webhookDeliveries.status, "delivered"),
      ),
    )
    .returning();
  if (!queued) {
    // Delivered meanwhile, or queued again by a retry at the same moment (that one's chain carries it).
    const now_ = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).get();
    if (!now_ || now_.status === "delivered") throw delivered();
    return now_;
  }
  await sendTasks(env.WEBHOOK_QUEUE, [{ kind: "delivery", id: queued.id, chain: queued.chain }]);
  return queued;
}
