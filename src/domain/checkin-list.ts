/**
 * A scanner's offline cache: every ticket of the event with its door status, oldest change first.
 * A scanner pages with `cursor` until `nextCursor` is null, then later asks `since` the newest
 * `updatedAt` it holds (inclusive, so a change in that same millisecond is not missed; it may see a
 * ticket twice and keeps the newer).
 */
import { and, asc, eq, gt, gte, or, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { tickets } from "../db/schema";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { toIso } from "../lib/time";
import type { CheckinListQuery } from "../schemas/checkins";

export async function checkinList(db: Db, eventId: string, query: CheckinListQuery) {
  const conditions: SQL[] = [eq(tickets.eventId, eventId)];
  if (query.since !== undefined) conditions.push(gte(tickets.updatedAt, query.since));
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    const later = or(gt(tickets.updatedAt, after.at), and(eq(tickets.updatedAt, after.at), gt(tickets.id, after.id)));
    if (later) conditions.push(later);
  }
  const rows = await db
    .select({
      id: tickets.id,
      tierId: tickets.tierId,
      seat: tickets.seat,
      status: tickets.status,
      updatedAt: tickets.updatedAt,
    })
    .from(tickets)
    .where(and(...conditions))
    .orderBy(asc(tickets.updatedAt), asc(tickets.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    tickets: page.map((t) => ({
      id: t.id,
      tierId: t.tierId,
      ...(t.seat ? { seat: t.seat } : {}),
      status: t.status,
      updatedAt: toIso(t.updatedAt),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.updatedAt, id: last.id }) : null,
  };
}
