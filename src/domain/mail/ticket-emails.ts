/**
 * The ticket e-mail (docs/api.md, "E-mail"), sent from the same durable mechanism as the webhooks: a row in
 * D1 (`ticket_emails`) under a deterministic id, and a pointer to it on the mail queue that carries it from
 * attempt to attempt.
 *
 * - **Once per paid order.** The `order.paid` message's consumer (src/domain/webhooks/consumer.ts) writes
 *   `eml_<orderId>_paid`, inserted once however often the payment is reported or the message processed, and
 *   queues it. `POST /v1/orders/:orderId/resend` writes one more (its id from the Idempotency-Key when given).
 * - **Attempts** are claimed with a compare-and-set on the attempt count that also holds the e-mail a lease
 *   ahead, so a second queue message for it (Queues delivers at least once; the sweep) neither repeats an
 *   attempt nor makes one alongside it. Each outcome is recorded with its audit entry in one batch:
 *   `email.sent`, or `email.failed` per failed attempt, retried on `RETRY_DELAYS_S`, then failed.
 * - **The message** is composed at each attempt from the order as D1 has it, and never stored (but by the
 *   simulator). Its link carries the order token, recomputed from APP_SECRET and the order id
 *   (`orderTokenFor`) and checked against the order's stored hash: a link that would not open is never sent.
 */
import { and, asc, count, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import { auditRow, insertAuditWhere, SYSTEM } from "../../db/audit";
import { createDb, type Db } from "../../db/client";
import { isMailTask, sendMailTasks } from "../../db/mail-queue";
import { events, type OrderRow, orders, type TicketEmailRow, ticketEmails } from "../../db/schema";
import type { OrderMessageData } from "../../db/webhook-messages";
import { ApiError, notFound } from "../../lib/errors";
import { idFrom, sha256Hex } from "../../lib/ids";
import { consumeEach, queueDelay } from "../../lib/task-queue";
import { toIso } from "../../lib/time";
import { eventTiers } from "../catalog/events";
import { orderTokenFor, ticketsOfOrder } from "../sales/orders";
import { composeTicketEmail, type TicketEmailInput } from "./compose";
import { deliverMail, type OutgoingMail, type SentMail, sendError } from "./transport";

/** After failed attempt n (1-based), the wait before attempt n + 1: 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h. */
export const RETRY_DELAYS_S: readonly number[] = [30, 120, 600, 1_800, 3_600, 10_800, 21_600];
/** The first attempt and one per step: an e-mail whose last attempt fails is failed (about 11 h on). */
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;
/** How long one attempt may take; past it, the attempt is failed (and the e-mail may have left all the same). */
export const SEND_TIMEOUT_MS = 30_000;
/** How long a claimed attempt holds its e-mail: past its timeout, so a second queue message waits for it. */
export const ATTEMPT_LEASE_MS = 2 * 60_000;
/** A queue message may wake this much before its e-mail's time and still attempt it. */
const EARLY_MS = 1_000;
/** A pending e-mail this far past its next attempt has lost its queue message: the sweep queues it again. */
export const OVERDUE_AFTER_MS = 5 * 60_000;
const MAX_PER_SWEEP = 500;
/** Resends a buyer may ask for one order within an hour (the organiser is not limited). */
export const BUYER_RESENDS_PER_HOUR = 5;
const HOUR_MS = 60 * 60_000;

/** Why this attempt cannot send (the configuration, the token): its outcome, audited like a refused send. */
class CannotSend extends Error {}
/** A problem no retry can fix: the e-mail is failed at once. */
class PermanentFailure extends CannotSend {}

export const paidEmailId = (orderId: string) => `eml_${orderId}_paid`;

/** A resend's id: from the request's Idempotency-Key seed (a retried request is the same e-mail), or random. */
export function resendEmailId(orderId: string, seed: Uint8Array | null): string {
  const bytes = seed ?? crypto.getRandomValues(new Uint8Array(17));
  return `eml_${orderId}_resend-${idFrom("eml", bytes).slice("eml_".length)}`;
}

/**
 * Writes the e-mail (once, by its id) and puts it on the mail queue while it has not been attempted yet
 * (a second call after a queue refusal queues it again; one already under way is left to its message).
 */
async function enqueue(env: Env, db: Db, row: TicketEmailRow): Promise<TicketEmailRow> {
  // One round trip: the select, after the insert in the same batch, reads the row as it now stands.
  const [, [stored]] = await db.batch([
    db.insert(ticketEmails).values(row).onConflictDoNothing(),
    db.select().from(ticketEmails).where(eq(ticketEmails.id, row.id)),
  ]);
  if (!stored) throw new Error(`ticket e-mail ${row.id} was not written`);
  if (stored.status === "pending" && stored.attempts === 0) await sendMailTasks(env.MAIL_QUEUE, [stored.id]);
  return stored;
}

function newRow(
  id: string,
  order: { id: string; eventId: string; email: string },
  reason: TicketEmailRow["reason"],
  requestedBy: TicketEmailRow["requestedBy"],
  now: number,
): TicketEmailRow {
  return {
    id,
    orderId: order.id,
    eventId: order.eventId,
    reason,
    recipient: order.email,
    requestedBy,
    status: "pending",
    attempts: 0,
    lastError: null,
    nextAttemptAt: now,
    messageId: null,
    createdAt: now,
    updatedAt: now,
    sentAt: null,
  };
}

/** The `order.paid` message's e-mail: called each time the message is processed, it writes one. */
export async function orderPaidEmail(env: Env, db: Db, data: OrderMessageData): Promise<void> {
  const { order } = data;
  await enqueue(env, db, newRow(paidEmailId(order.id), order, "paid", "system", Date.now()));
}

/**
 * `POST /v1/orders/:orderId/resend`: one more e-mail of the order's tickets, to the order's address. An
 * order never paid has none to send (`409 ORDER_NOT_PAID`); a buyer gets `BUYER_RESENDS_PER_HOUR` an hour.
 */
export async function resendTicketEmail(
  env: Env,
  db: Db,
  order: OrderRow,
  seed: Uint8Array | null,
  requestedBy: "organiser" | "buyer",
): Promise<TicketEmailRow> {
  if (order.paidAt === null) {
    throw new ApiError("ORDER_NOT_PAID", `Order '${order.id}' is ${order.status}: it has no tickets to send`, {
      orderStatus: order.status,
    });
  }
  const id = resendEmailId(order.id, seed);
  const now = Date.now();
  if (requestedBy === "buyer") {
    const [recent] = await db
      .select({ n: count(), oldest: sql<number>`min(${ticketEmails.createdAt})` })
      .from(ticketEmails)
      .where(
        and(
          eq(ticketEmails.orderId, order.id),
          eq(ticketEmails.reason, "resend"),
          // The buyer's own: the organiser's resends take nothing of the buyer's allowance.
          eq(ticketEmails.requestedBy, "buyer"),
          gt(ticketEmails.createdAt, now - HOUR_MS),
          sql`${ticketEmails.id} <> ${id}`,
        ),
      );
    if (recent && recent.n >= BUYER_RESENDS_PER_HOUR) {
      const wait = Math.max(1, Math.ceil((recent.oldest + HOUR_MS - now) / 1000));
      throw new ApiError(
        "RATE_LIMITED",
        `This order's tickets were sent ${recent.n} times in the last hour; try again in ${wait} seconds`,
        { reason: "resends" },
        { "Retry-After": String(wait) },
      );
    }
  }
  return enqueue(env, db, newRow(id, order, "resend", requestedBy, now));
}

/**
 * One round trip: the order, its event and tiers and the order's tickets (by id) as D1 has them now, read in
 * the same batch (one transaction) as the claim of the attempt: the compare-and-set on the attempt count that
 * holds the e-mail a lease ahead. The claim is made only if the order and its event are there to read, so an
 * e-mail whose order is not in D1 yet uses up no attempt (and a fault reading D1 fails the whole batch).
 */
async function readAndClaim(db: Db, email: TicketEmailRow, now: number) {
  const [orderRows, eventRows, tierRows, ticketRows, claimedRows] = await db.batch([
    db.select().from(orders).where(eq(orders.id, email.orderId)),
    db.select().from(events).where(eq(events.id, email.eventId)),
    eventTiers(db, email.eventId),
    ticketsOfOrder(db, email.orderId),
    db
      .update(ticketEmails)
      .set({ attempts: email.attempts + 1, nextAttemptAt: now + ATTEMPT_LEASE_MS, updatedAt: now })
      .where(
        and(
          eq(ticketEmails.id, email.id),
          eq(ticketEmails.status, "pending"),
          eq(ticketEmails.attempts, email.attempts),
          sql`EXISTS (SELECT 1 FROM ${orders} WHERE ${orders.id} = ${email.orderId})`,
          sql`EXISTS (SELECT 1 FROM ${events} WHERE ${events.id} = ${email.eventId})`,
        ),
      )
      .returning(),
  ]);
  const order = orderRows[0];
  if (!order) throw new Error(`order ${email.orderId} of ticket e-mail ${email.id} is not in D1`);
  const event = eventRows[0];
  if (!event) throw notFound("event", email.eventId);
  return { order, event, tiers: tierRows, tickets: ticketRows, claimed: claimedRows[0] ?? null };
}

/** The e-mail as it leaves: composed from the order as D1 has it now, with the buyer's link. */
async function compose(
  env: Env,
  email: TicketEmailRow,
  token: string,
  tokenHash: string,
  input: Omit<TicketEmailInput, "link">,
): Promise<OutgoingMail> {
  const { order } = input;
  if (tokenHash !== order.tokenHash) {
    throw new PermanentFailure("the order token cannot be recomputed (APP_SECRET changed since checkout): no link");
  }
  if (!env.MAIL_FROM) throw new CannotSend("MAIL_FROM is not set: the e-mail has no sender");
  let origin: string;
  try {
    origin = new URL(env.PUBLIC_ORIGIN).origin;
  } catch {
    throw new CannotSend("PUBLIC_ORIGIN is not set to this Worker's origin: the e-mail has no link to give");
  }
  const link = `${origin}/tickets/${order.id}?t=${encodeURIComponent(token)}`;
  const content = composeTicketEmail({ ...input, link });
  return { id: email.id, from: env.MAIL_FROM, to: email.recipient, ...content };
}

/** The order token of the e-mail's link, and its hash (to check against the order's). */
async function linkToken(env: Env, orderId: string) {
  const token = await orderTokenFor(env.APP_SECRET, orderId);
  return { token, hash: await sha256Hex(token) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the sender within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Makes the e-mail's attempt if it is due. Returns the `delaySeconds` after which its queue message
 * should come back, or null when it is done with.
 */
export async function runTicketEmail(env: Env, db: Db, emailId: string): Promise<number | null> {
  const now = Date.now();
  const email = await db.select().from(ticketEmails).where(eq(ticketEmails.id, emailId)).get();
  if (email?.status !== "pending") return null;
  const due = email.nextAttemptAt ?? now;
  // Early: a second queue message held off by a lease, or a wake-up before its step of the schedule.
  if (due > now + EARLY_MS) return queueDelay(due - now);

  // The link's token first: it cannot fail once an attempt is claimed. Then a fault reading D1, or an
  // order not in D1 yet, is the queue's to retry (no attempt is claimed).
  const token = await linkToken(env, email.orderId);
  const { claimed, ...input } = await readAndClaim(db, email, now);
  // Another queue message took this attempt: that one carries the e-mail on.
  if (!claimed) return null;

  let outgoing: OutgoingMail | null = null;
  let problem: unknown = null;
  try {
    outgoing = await compose(env, email, token.token, token.hash, input);
  } catch (error) {
    // A configuration or token problem is this attempt's outcome; anything else is the queue's to retry,
    // and gives the claimed attempt back, as if it had never been claimed.
    if (!(error instanceof CannotSend)) {
      await releaseClaim(db, email, claimed).catch((releaseError) =>
        // The lease then holds the e-mail for ATTEMPT_LEASE_MS and this attempt counts; nothing is lost.
        console.error(
          JSON.stringify({ msg: "ticket e-mail claim not given back", emailId, error: String(releaseError) }),
        ),
      );
      throw error;
    }
    problem = error;
  }

  let sent: SentMail | null = null;
  if (outgoing) {
    try {
      sent = await withTimeout(deliverMail(env, db, outgoing, Date.now()), SEND_TIMEOUT_MS);
    } catch (error) {
      problem = error;
    }
  }
  // Sent but not recorded (D1 fails here): the queue retries, and the attempt after the lease sends it again.
  if (sent) {
    await recordSent(env, db, claimed, sent.messageId, Date.now());
    return null;
  }
  return recordFailed(db, claimed, problem, Date.now());
}

/** Undoes a claim (only while the e-mail is still at the claimed attempt): attempt count, time, as they were. */
async function releaseClaim(db: Db, email: TicketEmailRow, claimed: TicketEmailRow) {
  await db
    .update(ticketEmails)
    .set({ attempts: email.attempts, nextAttemptAt: email.nextAttemptAt, updatedAt: email.updatedAt })
    .where(stillAt(claimed));
}

/** Only if the e-mail is still at the claimed attempt: the same statement batch decides and audits. */
const stillAt = (claimed: TicketEmailRow) =>
  and(
    eq(ticketEmails.id, claimed.id),
    eq(ticketEmails.status, "pending"),
    eq(ticketEmails.attempts, claimed.attempts),
  ) as SQL;

const isNow = (claimed: TicketEmailRow, status: TicketEmailRow["status"]) =>
  sql`EXISTS (SELECT 1 FROM ${ticketEmails} WHERE ${ticketEmails.id} = ${claimed.id}
        AND ${ticketEmails.status} = ${status} AND ${ticketEmails.attempts} = ${claimed.attempts})`;

/** The audit entry of an attempt's outcome (`sent`, `failed-<attempt>`), about the e-mail's order. */
function attemptAudit(claimed: TicketEmailRow, outcome: string, now: number, data: Record<string, unknown>) {
  return auditRow(SYSTEM, {
    id: `aud_${claimed.id}_${outcome}`,
    eventId: claimed.eventId,
    at: now,
    action: outcome === "sent" ? "email.sent" : "email.failed",
    subject: { type: "order", id: claimed.orderId },
    data: { emailId: claimed.id, orderId: claimed.orderId, to: claimed.recipient, reason: claimed.reason, ...data },
  });
}

async function recordSent(env: Env, db: Db, claimed: TicketEmailRow, messageId: string, now: number) {
  const entry = attemptAudit(claimed, "sent", now, {
    requestedBy: claimed.requestedBy,
    attempts: claimed.attempts,
    messageId,
    simulated: env.MAIL_MODE === "simulator",
  });
  await db.batch([
    db
      .update(ticketEmails)
      .set({ status: "sent", sentAt: now, messageId, lastError: null, nextAttemptAt: null, updatedAt: now })
      .where(stillAt(claimed)),
    insertAuditWhere(db, entry, isNow(claimed, "sent")),
  ]);
}

async function recordFailed(db: Db, claimed: TicketEmailRow, problem: unknown, now: number): Promise<number | null> {
  const error = sendError(problem);
  const delay = problem instanceof PermanentFailure ? null : retryDelayAfter(claimed.attempts);
  const nextAttemptAt = delay === null ? null : now + delay * 1000;
  const entry = attemptAudit(claimed, `failed-${claimed.attempts}`, now, {
    attempt: claimed.attempts,
    error,
    // null: no more attempts, the e-mail is failed.
    nextAttemptAt: nextAttemptAt === null ? null : toIso(nextAttemptAt),
  });
  const status = delay === null ? "failed" : "pending";
  await db.batch([
    db.update(ticketEmails).set({ status, lastError: error, nextAttemptAt, updatedAt: now }).where(stillAt(claimed)),
    insertAuditWhere(db, entry, isNow(claimed, status)),
  ]);
  console.error(
    JSON.stringify({ msg: "ticket e-mail not sent", emailId: claimed.id, attempt: claimed.attempts, error }),
  );
  return delay;
}

/** Seconds from failed attempt `attempts` to the next one; null once the schedule is spent. */
export function retryDelayAfter(attempts: number): number | null {
  return attempts >= MAX_ATTEMPTS ? null : (RETRY_DELAYS_S[attempts - 1] ?? null);
}

/** The mail queue's consumer (src/index.ts dispatches its batches here by queue name). */
export function consumeMail(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  return consumeEach(batch, "mail", isMailTask, (task) => runTicketEmail(env, db, task.id));
}

/** The per-minute sweep's part: pending e-mails long past their next attempt lost their queue message. */
export async function sweepMail(env: Env, db: Db, now: number): Promise<number> {
  const overdue = await db
    .select({ id: ticketEmails.id })
    .from(ticketEmails)
    .where(and(eq(ticketEmails.status, "pending"), lt(ticketEmails.nextAttemptAt, now - OVERDUE_AFTER_MS)))
    .orderBy(asc(ticketEmails.nextAttemptAt))
    .limit(MAX_PER_SWEEP);
  await sendMailTasks(
    env.MAIL_QUEUE,
    overdue.map((e) => e.id),
  );
  return overdue.length;
}
