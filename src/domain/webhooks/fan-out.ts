/**
 * A landed message becomes one delivery per endpoint that wants it (API.md, "Webhooks to the
 * organiser's systems"): every endpoint neither deleted nor disabled, created no later than the change
 * it reports, whose `events` name its type or `*`. Its body is fixed first (`payload`), so that every
 * delivery and every attempt sends the same bytes under the same `webhook-id`. Fanning out again (a
 * duplicate queue message, the sweep) writes nothing twice: delivery ids derive from the endpoint and
 * the message.
 *
 * Every D1 call is a round trip (a hop to the database), so the work is two batches: one reads all a
 * message needs (`landedMessage`), one writes its body and deliveries and reads back those to queue. A
 * message no endpoint wants needs only the first: no delivery, so no body to fix.
 */
import { and, asc, eq, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../../db/client";
import {
  type OrderRow,
  orders,
  type TicketRow,
  tickets,
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

/** A message as D1 has it, with what fanning it out needs, read in one round trip. */
export interface LandedMessage {
  message: WebhookMessageRow;
  /** The endpoints that want it. */
  endpoints: WebhookEndpointRow[];
  /** Of an `order.*` message whose body is still to fix: its order's version in D1 (undefined: none yet). */
  orderVersion: number | undefined;
  /** … and the order's tickets as D1 has them now, in id order. */
  tickets: TicketRow[];
  /** Its deliveries not attempted yet (all of them, unless an earlier run got this far and stopped). */
  waiting: { id: string; chain: number }[];
}

const waitingOf = (db: Db, messageId: string) =>
  db
    .select({ id: webhookDeliveries.id, chain: webhookDeliveries.chain })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.messageId, messageId),
        eq(webhookDeliveries.status, "pending"),
        eq(webhookDeliveries.attempts, 0),
      ),
    );

const needsBody = (message: WebhookMessageRow) => message.fannedOutAt === null && message.payload === null;

/**
 * Reads the message, the endpoints that want it, its deliveries waiting, and for an `order.*` message
 * whose body is still to fix its order's version and tickets: one batch, one round trip. The statements
 * find the message by id themselves (subqueries), as what they read depends on it. Null when there is no
 * such message.
 */
export async function landedMessage(db: Db, messageId: string): Promise<LandedMessage | null> {
  const m = sql`(SELECT * FROM ${webhookMessages} WHERE ${webhookMessages.id} = ${messageId})`;
  // The order of an `order.*` message whose body is still to fix (as `needsBody`), else none.
  const orderId: SQL = sql`(SELECT json_extract(m.data, '$.orderId') FROM ${m} AS m
    WHERE m.type LIKE 'order.%' AND m.payload IS NULL AND m.fanned_out_at IS NULL)`;
  const [message, endpoints, order, orderTickets, waiting] = await db.batch([
    db.select().from(webhookMessages).where(eq(webhookMessages.id, messageId)),
    db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          isNull(webhookEndpoints.deletedAt),
          isNull(webhookEndpoints.disabledAt),
          lte(webhookEndpoints.createdAt, sql`(SELECT m.created_at FROM ${m} AS m)`),
        ),
      ),
    db.select({ version: orders.version }).from(orders).where(eq(orders.id, orderId)),
    db.select().from(tickets).where(eq(tickets.orderId, orderId)).orderBy(asc(tickets.id)),
    waitingOf(db, messageId),
  ]);
  const row = message[0];
  if (!row) return null;
  return {
    message: row,
    endpoints: endpoints.filter((e) => subscribes(e, row.type)),
    orderVersion: order[0]?.version,
    tickets: orderTickets,
    waiting,
  };
}

/**
 * An `order.*` message whose body is still to fix waits until D1 has its order's version: the tickets of
 * that change land with the order row of its version (or before it), and so does what else the message
 * sets off (the ticket e-mail of `order.paid` is composed from the order as D1 has it).
 */
function checkOrderLanded(landed: LandedMessage): void {
  const { message, orderVersion } = landed;
  if (!needsBody(message) || !message.type.startsWith("order.")) return;
  const { orderId, version } = message.data as unknown as OrderMessageData;
  if (orderVersion === undefined || orderVersion < version) {
    throw new NotLandedYet(`order ${orderId} v${version} is not in D1 yet`);
  }
}

/**
 * The message's body, as it is first fixed. `data` of an `order.*` message is the Order body of the order
 * as the change left it, with its tickets as D1 has them now.
 */
function bodyOf(landed: LandedMessage, render: Renderers): string {
  const { message } = landed;
  const data = message.type.startsWith("order.")
    ? render.order(
        { ...(message.data as unknown as OrderMessageData).order, sessionParams: null, tokenHash: "" },
        landed.tickets,
      )
    : message.data;
  return JSON.stringify({ type: message.type, timestamp: toIso(message.createdAt), data });
}

/** D1 binds at most 100 parameters a statement: 13 columns a delivery. */
const DELIVERIES_PER_INSERT = 7;

/** Creates the message's deliveries and puts each on the queue; once per message. */
export async function fanOut(env: Env, db: Db, landed: LandedMessage, render: Renderers): Promise<void> {
  const { message, endpoints } = landed;
  if (message.fannedOutAt !== null) return; // done before: each delivery has its own queue message
  checkOrderLanded(landed);
  let waiting = landed.waiting;
  if (endpoints.length > 0) {
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
    // One batch: the body fixed (whoever fixes it first wins), the deliveries, then those to queue.
    const writes: BatchItem<"sqlite">[] = [];
    if (message.payload === null) {
      writes.push(
        db
          .update(webhookMessages)
          .set({ payload: bodyOf(landed, render) })
          .where(and(eq(webhookMessages.id, message.id), isNull(webhookMessages.payload))),
      );
    }
    for (let i = 0; i < rows.length; i += DELIVERIES_PER_INSERT) {
      writes.push(
        db
          .insert(webhookDeliveries)
          .values(rows.slice(i, i + DELIVERIES_PER_INSERT))
          .onConflictDoNothing(),
      );
    }
    const select = waitingOf(db, message.id);
    const results = await db.batch([...writes, select] as unknown as [typeof select]);
    waiting = results[results.length - 1] as Awaited<typeof select>;
  }
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
