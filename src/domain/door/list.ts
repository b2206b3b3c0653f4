/**
 * A scanner's offline cache: every ticket of the event with its door status, oldest change first.
 * A scanner pages with `cursor` until `nextCursor` is null, then later asks `since` the newest
 * `updatedAt` it holds (inclusive, so a change in that same millisecond is not missed; it may see a
 * ticket twice and keeps the newer).
 */
import { and, eq, gte, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { Keyset } from "../../db/keyset";
import { tickets } from "../../db/schema";
import { toIso } from "../../lib/time";
import type { CheckinListQuery } from "../../schemas/checkins";

const OLDEST_CHANGE_FIRST = new Keyset(tickets.updatedAt, tickets.id, "asc");

export async function checkinList(db: Db, eventId: string, query: CheckinListQuery) {
  const conditions: SQL[] = [eq(tickets.eventId, eventId), ...OLDEST_CHANGE_FIRST.after(query.cursor)];
  if (query.since !== undefined) conditions.push(gte(tickets.updatedAt, query.since));
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
    .orderBy(...OLDEST_CHANGE_FIRST.orderBy())
    .limit(query.limit + 1);
  const { page, nextCursor } = OLDEST_CHANGE_FIRST.page(rows, query.limit, (t) => ({ at: t.updatedAt, id: t.id }));
  return {
    tickets: page.map((t) => ({
      id: t.id,
      tierId: t.tierId,
      ...(t.seat ? { seat: t.seat } : {}),
      status: t.status,
      updatedAt: toIso(t.updatedAt),
    })),
    nextCursor,
  };
}
