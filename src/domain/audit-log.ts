/** Reading the audit log: newest first, paged by an opaque cursor, optionally one action. */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import type { AuditQuery } from "../schemas/pagination";
import { findEvent } from "./events";
import { auditView } from "./views";

export async function listAudit(db: Db, eventId: string, query: AuditQuery) {
  await findEvent(db, eventId);
  const conditions: SQL[] = [eq(auditLog.eventId, eventId)];
  if (query.action) conditions.push(eq(auditLog.action, query.action));
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    const older = or(lt(auditLog.at, after.at), and(eq(auditLog.at, after.at), lt(auditLog.id, after.id)));
    if (older) conditions.push(older);
  }
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    entries: page.map(auditView),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}
