import { type SQL, sql } from "drizzle-orm";
import { newId } from "../lib/ids";
import type { Db } from "./client";
import { type AuditRow, auditLog } from "./schema";

export type ActorType = "organiser" | "buyer" | "scanner" | "stripe" | "system";

export interface Actor {
  type: ActorType;
  id?: string;
}

/** Who asked for a change, and through which request: carried into every audit entry. */
export interface RequestContext {
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * The event id of audit entries about the organiser's account rather than one event (its webhook
 * endpoints): none. No event's audit log lists them; they are read in D1 (docs/api.md, "Outgoing webhooks").
 */
export const NO_EVENT = "";

export const SYSTEM: RequestContext = { actor: { type: "system" }, ip: null, userAgent: null, requestId: null };

export interface AuditInput {
  /** Deterministic for entries sent through an outbox (so a re-sent entry is written once). */
  id?: string;
  eventId: string;
  at: number;
  action: string;
  subject: { type: string; id: string };
  data: Record<string, unknown>;
}

export function auditRow(ctx: RequestContext, input: AuditInput): AuditRow {
  return {
    id: input.id ?? newId("aud"),
    eventId: input.eventId,
    at: input.at,
    action: input.action,
    actorType: ctx.actor.type,
    actorId: ctx.actor.id ?? null,
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    data: input.data,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
  };
}

/**
 * The insert of an audit entry (once, by its id) as a statement of a D1 batch, written only if
 * `condition` holds when the statement runs: an entry for a change that an earlier statement of the
 * batch may or may not have made (a compare-and-set).
 */
export function insertAuditWhere(db: Db, row: AuditRow, condition: SQL) {
  // Every column, in the table's order (Drizzle inserts a select into all of them).
  return db
    .insert(auditLog)
    .select(
      sql`SELECT ${row.id}, ${row.eventId}, ${row.at}, ${row.action}, ${row.actorType}, ${row.actorId ?? null},
            ${row.subjectType}, ${row.subjectId}, ${JSON.stringify(row.data)}, ${row.ip ?? null},
            ${row.userAgent ?? null}, ${row.requestId ?? null}
          WHERE ${condition}`,
    )
    .onConflictDoNothing();
}
