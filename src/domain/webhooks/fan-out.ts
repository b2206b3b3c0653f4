/**
 * A landed message becomes one delivery per endpoint that wants it (API.md, "Webhooks to the
 * organiser's systems"): every endpoint neither deleted nor disabled, created no later than the change
 * it reports, whose `events` name its type or `*`. Its body is fixed first (`payload`), so that every
 * delivery and every attempt sends the same bytes under the same `webhook-id`. Fanning out again (a
 * duplicate queue message, the sweep) writes nothing twice: delivery ids derive from the endpoint and
 * the message.
 */
import { and, eq, isNull, lte } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type OrderRow,
  orders,
  type TicketRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
  type WebhookMessageRow,
  webhookDeliveries,
  webhookEndpoints,
  webhookMessages,
} from "../../db/schema";
import type { OrderMessageData } from "../../db/webhook-messages";
import { sendTasks } from "../../db/webhook-queue";
import { utf8 } from "../../lib/encoding";
import { idFrom } from "../../lib/ids";
import { toIso } from "../../lib/time";
import { ticketsOfOrder } from "../sales/orders";

/** How the API renders what a message carries (src/routes/views.ts; handed in by the Worker's entry). */
export interface Renderers {
  /** The Order as `GET /v1/orders/:orderId` answers it, tickets included. */
  order(order: OrderRow, tickets: TicketRow[]): unknown;
}

/** A message whose order row is not in D1 yet (its outbox batch is still on its way): try again shortly. */
export class NotLandedYet extends Error {}

export const subscribes = (endpoint: WebhookEndpointRow, type: string) =>
  endpoint.events.includes("*") || endpoint.events.includes(type);

async function deliveryId(endpointId: string, messageId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8(`webhook-delivery\n${endpointId}\n${messageId}`));
  return idFrom("whd", new Uint8Array(digest));
}

/**
 * `data` of an `order.*` message: the Order body of the order as the change left it, with its tickets as
 * D1 has them now. The tickets of that change land with the order row of its version (or before it), so
 * until D1 has that version the message waits.
 */
async function orderData(db: Db, data: Record<string, unknown>, render: Renderers): Promise<unknown> {
  const { orderId, version, order } = data as unknown as OrderMessageData;
  const stored = await db.select({ version: orders.version }).from(orders).where(eq(orders.id, orderId)).get();
  if (!stored || stored.version < version) throw new NotLandedYet(`order ${orderId} v${version} is not in D1 yet`);
  return render.order({ ...order, sessionParams: null, tokenHash: "" }, await ticketsOfOrder(db, orderId));
}

/** The message's body, fixed the first time it is built (whoever fixes it first wins). */
async function payloadOf(db: Db, message: WebhookMessageRow, render: Renderers): Promise<string> {
  if (message.payload !== null) return message.payload;
  const data = message.type.startsWith("order.") ? await orderData(db, message.data, render) : message.data;
  const body = JSON.stringify({ type: message.type, timestamp: toIso(message.createdAt), data });
  const [, stored] = await db.batch([
    db
      .update(webhookMessages)
      .set({ payload: body })
      .where(and(eq(webhookMessages.id, message.id), isNull(webhookMessages.payload))),
    db.select({ payload: webhookMessages.payload }).from(webhookMessages).where(eq(webhookMessages.id, message.id)),
  ]);
  return stored[0]?.payload ?? body;
}

/** D1 binds at most 100 parameters a statement: 13 columns a delivery. */
const DELIVERIES_PER_INSERT = 7;

/** Creates the message's deliveries and puts each on the queue; once per message. */
export async function fanOut(env: Env, db: Db, message: WebhookMessageRow, render: Renderers): Promise<void> {
  if (message.fannedOutAt !== null) return; // done before: each delivery has its own queue message
  await payloadOf(db, message, render);
  const endpoints = (
    await db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          isNull(webhookEndpoints.deletedAt),
          isNull(webhookEndpoints.disabledAt),
          lte(webhookEndpoints.createdAt, message.createdAt),
        ),
      )
  ).filter((e) => subscribes(e, message.type));
  const now = Date.now();
  const rows: WebhookDeliveryRow[] = await Promise.all(
    endpoints.map(async (e) => ({
      id: await deliveryId(e.id, message.id),
      endpointId: e.id,
      messageId: message.id,
      type: message.type,
      status: "pending" as const,
      attempts: 0,
      lastStatus: null,
      lastError: null,
      nextAttemptAt: now,
      chain: 0,
      createdAt: now,
      updatedAt: now,
      deliveredAt: null,
    })),
  );
  for (let i = 0; i < rows.length; i += DELIVERIES_PER_INSERT) {
    await db
      .insert(webhookDeliveries)
      .values(rows.slice(i, i + DELIVERIES_PER_INSERT))
      .onConflictDoNothing();
  }
  // Those not attempted yet (all of them, unless an earlier run got this far and stopped).
  const waiting = await db
    .select({ id: webhookDeliveries.id, chain: webhookDeliveries.chain })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.messageId, message.id),
        eq(webhookDeliveries.status, "pending"),
        eq(webhookDeliveries.attempts, 0),
      ),
    );
  await sendTasks(
    env.WEBHOOK_QUEUE,
    waiting.map((d) => ({ kind: "delivery", id: d.id, chain: d.chain })),
  );
}

/**
 * Marks the message done with, once everything it sets off is written (its deliveries queued, and for
 * `order.paid` the ticket e-mail): until then the sweep sends it through again.
 */
export async function markFannedOut(db: Db, message: WebhookMessageRow, now: number): Promise<void> {
  await db
    .update(webhookMessages)
    .set({ fannedOutAt: now })
    .where(and(eq(webhookMessages.id, message.id), isNull(webhookMessages.fannedOutAt)));
}
