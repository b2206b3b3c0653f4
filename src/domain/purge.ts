/** Housekeeping run by the cron trigger: forget what can no longer matter. */
import { lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { idempotencyKeys, sessionClaims } from "../db/schema";
import { KEY_LIFETIME_MS } from "../middleware/idempotency";
import { IN_FLIGHT_MS } from "./session-claims";

export async function purgeExpired(db: Db, now: number): Promise<void> {
  await db.batch([
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, now - KEY_LIFETIME_MS)),
    // A claim matters while its reservation holds tickets, or while the request making it may still run.
    db.delete(sessionClaims).where(sql`${sessionClaims.claimedAt} < ${now - IN_FLIGHT_MS} AND NOT EXISTS (
      SELECT 1 FROM reservations r WHERE r.id = ${sessionClaims.reservationId}
        AND (r.status = 'checkout' OR (r.status = 'active' AND r.expires_at > ${now})))`),
  ]);
}
