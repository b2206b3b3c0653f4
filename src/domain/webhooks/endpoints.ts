/**
 * The organiser's webhook endpoints (API.md, "Webhooks to the organiser's systems"): created with a
 * signing secret shown once and kept sealed with APP_SECRET, listed without it, deleted (the row stays
 * for its deliveries, but the API forgets it and it gets nothing more), and disabled by the delivery
 * rules (src/domain/webhooks/attempt.ts). Each change is audited on the organiser's account: these
 * entries belong to no event (`NO_EVENT`, docs/api.md "Outgoing webhooks").
 */
import { and, asc, eq, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { auditRow, insertAuditWhere, NO_EVENT, type RequestContext, SYSTEM } from "../../db/audit";
import type { Db } from "../../db/client";
import { auditLog, type WebhookEndpointRow, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { toBase64 } from "../../lib/encoding";
import { invalidInput, notFound } from "../../lib/errors";
import { derivedBytes, idFrom } from "../../lib/ids";
import { seal, unseal } from "../../lib/secret-box";
import { webhookUrlProblem } from "../../lib/webhook-url";
import type { EndpointInput } from "../../schemas/webhooks";

const SECRET_PREFIX = "whsec_";
const sealContext = (endpointId: string) => `webhook-endpoint-secret\n${endpointId}`;
const subject = (id: string) => ({ type: "webhook_endpoint", id });

/**
 * Creates an endpoint; its secret is `whsec_` + base64 of 32 random bytes. With an `Idempotency-Key`
 * the id and secret derive from the key's seed, so a retry whose first answer was lost makes the same
 * endpoint (and shows the same secret) rather than a second one.
 */
export async function createEndpoint(
  env: Env,
  db: Db,
  input: EndpointInput,
  seed: Uint8Array | null,
  ctx: RequestContext,
): Promise<{ endpoint: WebhookEndpointRow; secret: string }> {
  const problem = webhookUrlProblem(input.url, env.WEBHOOK_ALLOW_LOCAL === "true");
  if (problem) throw invalidInput([{ path: "url", message: problem }], "The request body is not valid");
  const random = (label: string) =>
    seed ? derivedBytes(seed, label) : Promise.resolve(crypto.getRandomValues(new Uint8Array(32)));
  const id = idFrom("whe", await random("webhook-endpoint-id"));
  const secret = SECRET_PREFIX + toBase64((await random("webhook-endpoint-secret")).subarray(0, 32));
  const now = Date.now();
  const row: WebhookEndpointRow = {
    id,
    url: input.url,
    events: input.events,
    description: input.description ?? null,
    secretSealed: await seal(env.APP_SECRET, sealContext(id), secret),
    createdAt: now,
    disabledAt: null,
    deletedAt: null,
    failingSince: null,
  };
  await db.batch([
    db.insert(webhookEndpoints).values(row).onConflictDoNothing(),
    db
      .insert(auditLog)
      .values(
        auditRow(ctx, {
          id: `aud_${id}_created`,
          eventId: NO_EVENT,
          at: now,
          action: "webhook_endpoint.created",
          subject: subject(id),
          data: { url: row.url, events: row.events, description: row.description },
        }),
      )
      .onConflictDoNothing(),
  ]);
  // A key used again after its 24 h names the same endpoint: answer it as stored.
  const stored = (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get()) ?? row;
  return { endpoint: stored, secret };
}

/** The endpoints not deleted, oldest first (a disabled one is listed, with `disabledAt`). */
export function listEndpoints(db: Db): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(isNull(webhookEndpoints.deletedAt))
    .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
}

/** The endpoint, unless unknown or deleted: 404. */
export async function findEndpoint(db: Db, endpointId: string): Promise<WebhookEndpointRow> {
  const row = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)).get();
  if (!row || row.deletedAt !== null) throw notFound("webhook endpoint", endpointId);
  return row;
}

/** The endpoint's signing secret, unsealed to sign with. */
export function endpointSecret(env: Env, endpoint: WebhookEndpointRow): Promise<string> {
  return unseal(env.APP_SECRET, sealContext(endpoint.id), endpoint.secretSealed);
}

/** The endpoint's pending deliveries fail with `reason`, once `condition` (on the endpoint) holds. */
function failPending(db: Db, endpointId: string, reason: string, now: number, condition: SQL) {
  return db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: reason, nextAttemptAt: null, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.status, "pending"),
        sql`EXISTS (SELECT 1 FROM ${webhookEndpoints} WHERE ${webhookEndpoints.id} = ${endpointId} AND ${condition})`,
      ),
    );
}

/**
 * Deletes the endpoint: from now on it gets nothing (its pending deliveries fail) and the API answers
 * 404 for it. Deleting it again changes nothing (`204` again, so a retried DELETE reads as done).
 */
export async function deleteEndpoint(db: Db, endpointId: string, ctx: RequestContext): Promise<void> {
  const row = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)).get();
  if (!row) throw notFound("webhook endpoint", endpointId);
  if (row.deletedAt !== null) return;
  const now = Date.now();
  await db.batch([
    db
      .update(webhookEndpoints)
      .set({ deletedAt: now })
      .where(and(eq(webhookEndpoints.id, endpointId), isNull(webhookEndpoints.deletedAt))),
    db
      .insert(auditLog)
      .values(
        auditRow(ctx, {
          id: `aud_${endpointId}_deleted`,
          eventId: NO_EVENT,
          at: now,
          action: "webhook_endpoint.deleted",
          subject: subject(endpointId),
          data: { url: row.url },
        }),
      )
      .onConflictDoNothing(),
    failPending(db, endpointId, "the endpoint was deleted", now, isNotNull(webhookEndpoints.deletedAt)),
  ]);
}

export type DisableReason = "gone" | "failing";

/**
 * The statements (for the batch that records the attempt) that disable the endpoint if it is still
 * enabled and `condition` holds, audit it (`webhook_endpoint.disabled`, once), and fail its pending
 * deliveries: a disabled endpoint gets nothing more.
 */
export function disableStatements(
  db: Db,
  endpoint: WebhookEndpointRow,
  reason: DisableReason,
  now: number,
  condition?: SQL,
) {
  const { id } = endpoint;
  const entry = auditRow(SYSTEM, {
    id: `aud_${id}_disabled`,
    eventId: NO_EVENT,
    at: now,
    action: "webhook_endpoint.disabled",
    subject: subject(id),
    data: { url: endpoint.url, reason },
  });
  const why = reason === "gone" ? "the endpoint answered 410 Gone and is disabled" : "the endpoint is disabled";
  return [
    db
      .update(webhookEndpoints)
      .set({ disabledAt: now })
      .where(
        and(
          eq(webhookEndpoints.id, id),
          isNull(webhookEndpoints.disabledAt),
          isNull(webhookEndpoints.deletedAt),
          condition,
        ),
      ),
    insertAuditWhere(
      db,
      entry,
      sql`EXISTS (SELECT 1 FROM ${webhookEndpoints} WHERE ${webhookEndpoints.id} = ${id} AND ${webhookEndpoints.disabledAt} = ${now})`,
    ),
    failPending(db, id, why, now, isNotNull(webhookEndpoints.disabledAt)),
  ] as const;
}
