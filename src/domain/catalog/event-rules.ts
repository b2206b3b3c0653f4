/**
 * The event's rules a reservation or a queue join needs before anything else (its queue, its order
 * limit), remembered per isolate for `EVENT_RULES_MAX_AGE_MS` so a drop's requests do not each read
 * the event from D1. The isolate that changes an event forgets its copy at once; others see a change
 * within that age. (The per-client hold limit is read in the statement that claims it, never from here.)
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { events, type StoredQueue } from "../../db/schema";
import { Recent } from "../../lib/recent";

export interface EventRules {
  maxTicketsPerOrder: number;
  queue: StoredQueue | null;
}

const kept = new Recent<EventRules | null>();

/** The event's rules, or null when there is no such event. */
export function eventRules(env: Env, db: Db, eventId: string): Promise<EventRules | null> {
  return kept.get(eventId, Number(env.EVENT_RULES_MAX_AGE_MS), Date.now(), async () => {
    const row = await db
      .select({ maxTicketsPerOrder: events.maxTicketsPerOrder, queue: events.queue })
      .from(events)
      .where(eq(events.id, eventId))
      .get();
    return row ?? null;
  });
}

export function forgetEventRules(eventId: string): void {
  kept.forget(eventId);
}
