/** Reading the audit log: newest first, paged by an opaque cursor, optionally one action. */
import { and, eq, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { Keyset } from "../../db/keyset";
import { auditLog } from "../../db/schema";
import type { AuditQuery } from "../../schemas/pagination";
import { findEvent } from "../catalog/events";

const NEWEST_FIRST = new Keyset(auditLog.at, auditLog.id, "desc");

export async function listAudit(db: Db, eventId: string, query: AuditQuery) {
  await findEvent(db, eventId);
  const conditions: SQL[] = [eq(auditLog.eventId, eventId), ...NEWEST_FIRST.after(query.cursor)];
  if (query.action) conditions.push(eq(auditLog.action, query.action));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(...NEWEST_FIRST.orderBy())
    .limit(query.limit + 1);
  const { page, nextCursor } = NEWEST_FIRST.page(rows, query.limit, (a) => a);
  return { entries: page, nextCursor };
}
