/**
 * Which tier ids belong to an event, remembered per isolate. A tier is never deleted and never moves to
 * another event, so a tier once seen in D1 stays known: the hot path of a reservation reads D1 only for
 * an id it has not seen (a tier added since, or a made-up id, which must never reach a tier object).
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { tiers } from "../../db/schema";

/** Events remembered at most; past it the oldest is forgotten (and read again when asked). */
const MAX_EVENTS = 1_000;
const known = new Map<string, Set<string>>();

/** The ids of `tierIds` that are not tiers of the event (none, for a reservation that may go ahead). */
export async function unknownTiers(db: Db, eventId: string, tierIds: string[]): Promise<string[]> {
  const cached = known.get(eventId);
  if (cached && tierIds.every((id) => cached.has(id))) return [];
  const rows = await db.select({ id: tiers.id }).from(tiers).where(eq(tiers.eventId, eventId));
  const ids = new Set(rows.map((r) => r.id));
  known.delete(eventId);
  if (ids.size > 0) known.set(eventId, ids);
  if (known.size > MAX_EVENTS) known.delete(known.keys().next().value as string);
  return tierIds.filter((id) => !ids.has(id));
}
