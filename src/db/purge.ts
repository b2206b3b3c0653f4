/** Housekeeping run by the cron trigger: forget what can no longer matter. */
import { lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { clientHolds, idempotencyKeys, passClaims, sessionClaims } from "./schema";

/** How long what is purged can still matter: set by the layers that own the keys and the claims. */
interface Lifetimes {
  /** An idempotency key's stored answer (the HTTP middleware's). */
  idempotencyKeyMs: number;
  /** A buyer session's claim whose reservation never landed (the request making it may still run). */
  claimInFlightMs: number;
}

export async function purgeExpired(db: Db, now: number, lifetimes: Lifetimes): Promise<void> {
  await db.batch([
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, now - lifetimes.idempotencyKeyMs)),
    // A claim matters while its reservation holds tickets, or while the request making it may still run.
    db.delete(sessionClaims).where(sql`${sessionClaims.claimedAt} < ${now - lifetimes.claimInFlightMs} AND NOT EXISTS (
      SELECT 1 FROM reservations r WHERE r.id = ${sessionClaims.reservationId}
        AND (r.status = 'checkout' OR (r.status = 'active' AND r.expires_at > ${now})))`),
    // A client's claim matters the same way; a pass's until the pass has lapsed.
    db.delete(clientHolds).where(sql`${clientHolds.claimedAt} < ${now - lifetimes.claimInFlightMs} AND NOT EXISTS (
      SELECT 1 FROM reservations r WHERE r.id = ${clientHolds.reservationId}
        AND r.status IN ('active', 'checkout') AND r.expires_at > ${now})`),
    // A pass's claim whose reservation was made is the record of that use (stats count the passes used).
    db.delete(passClaims).where(sql`${passClaims.claimedAt} < ${now - lifetimes.claimInFlightMs} AND NOT EXISTS (
      SELECT 1 FROM reservations r WHERE r.id = ${passClaims.reservationId})`),
  ]);
}
