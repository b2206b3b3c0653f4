/**
 * Claims taken in D1 before any capacity is held, each one row per reservation and each with one
 * conditional insert, so racing requests cannot together pass a limit: the tickets a client holds
 * (`client_holds`) and the reservations made with an admission pass (`pass_claims`).
 *
 * A claim counts while its reservation still holds (read from the reservation's own row, which the
 * tier objects keep current through release, expiry, extension and payment), or, before that row
 * exists, for `IN_FLIGHT_MS`: a request still running, or one that crashed, whose claim then lapses
 * by itself. A refused hold gives its claims back at once.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { clientHolds, passClaims } from "./schema";

/** A claim younger than this with no reservation row yet belongs to a request still in flight. */
export const IN_FLIGHT_MS = 30_000;

/** SQL: the claim's reservation still holds at `now` (statusAt's rule), or it is in flight. */
const holding = (table: typeof clientHolds | typeof passClaims, now: number) => sql`(
  (r.id IS NULL AND ${table.claimedAt} > ${now - IN_FLIGHT_MS})
  OR (r.status IN ('active', 'checkout') AND r.expires_at > ${now}))`;

export interface ClientClaim {
  eventId: string;
  client: string;
  reservationId: string;
  quantity: number;
}

/** The claim, if the client's claims that still hold at ?5 (in flight: claimed after ?6) leave room. */
const CLAIM_CLIENT_HOLDS = `
  INSERT INTO client_holds (reservation_id, event_id, client, quantity, claimed_at)
  SELECT ?1, ?2, ?3, ?4, ?5
  WHERE ?4 + (
    SELECT COALESCE(SUM(c.quantity), 0) FROM client_holds c LEFT JOIN reservations r ON r.id = c.reservation_id
    WHERE c.event_id = ?2 AND c.client = ?3
      AND ((r.id IS NULL AND c.claimed_at > ?6) OR (r.status IN ('active', 'checkout') AND r.expires_at > ?5))
  ) <= (SELECT max_held_per_client FROM events WHERE id = ?2)
  ON CONFLICT (reservation_id) DO NOTHING
  RETURNING reservation_id`;

/**
 * Claims `quantity` tickets of the client's allowance (the event's `maxHeldPerClient`, read in the
 * same statement). Answers `null` when claimed (or already claimed by this reservation: a retry), or
 * the seconds until the client's earliest hold lapses when the allowance is used up. The claim is on
 * every reservation's path: one prepared statement, not one built per call.
 */
export async function claimClientHolds(
  d1: D1Database,
  db: Db,
  claim: ClientClaim,
  now: number,
): Promise<number | null> {
  const inserted = await d1
    .prepare(CLAIM_CLIENT_HOLDS)
    .bind(claim.reservationId, claim.eventId, claim.client, claim.quantity, now, now - IN_FLIGHT_MS)
    .all();
  if (inserted.results.length === 1) return null;
  const [mine] = await db
    .select({ id: clientHolds.reservationId })
    .from(clientHolds)
    .where(eq(clientHolds.reservationId, claim.reservationId));
  if (mine) return null; // a retry of the request that claimed it
  const [earliest] = await db.all<{ at: number | null }>(sql`
    SELECT MIN(CASE WHEN r.id IS NULL THEN ${clientHolds.claimedAt} + ${IN_FLIGHT_MS} ELSE r.expires_at END) AS at
    FROM client_holds LEFT JOIN reservations r ON r.id = ${clientHolds.reservationId}
    WHERE ${clientHolds.eventId} = ${claim.eventId} AND ${clientHolds.client} = ${claim.client}
      AND ${holding(clientHolds, now)}`);
  return Math.max(1, Math.ceil(((earliest?.at ?? now) - now) / 1000));
}

export async function releaseClientHolds(db: Db, reservationId: string): Promise<void> {
  await db.delete(clientHolds).where(eq(clientHolds.reservationId, reservationId));
}

export interface PassClaim {
  eventId: string;
  entryId: string;
  reservationId: string;
  /** The pass's `passReservations`. */
  allowed: number;
}

export type PassClaimOutcome = { ok: true } | { ok: false; usedUp: true } | { ok: false; holding: string };

/**
 * Claims one of the pass's reservations: at most `allowed` created (a claim whose reservation was
 * made counts for good, one in flight while it may still be made), and none while another holds.
 */
export async function claimPass(db: Db, claim: PassClaim, now: number): Promise<PassClaimOutcome> {
  const inserted = await db.all<{ reservation_id: string }>(sql`
    INSERT INTO pass_claims (reservation_id, entry_id, event_id, claimed_at)
    SELECT ${claim.reservationId}, ${claim.entryId}, ${claim.eventId}, ${now}
    WHERE (
      SELECT COUNT(*) FROM pass_claims LEFT JOIN reservations r ON r.id = ${passClaims.reservationId}
      WHERE ${passClaims.entryId} = ${claim.entryId}
        AND (r.id IS NOT NULL OR ${passClaims.claimedAt} > ${now - IN_FLIGHT_MS})
    ) < ${claim.allowed}
    AND NOT EXISTS (
      SELECT 1 FROM pass_claims LEFT JOIN reservations r ON r.id = ${passClaims.reservationId}
      WHERE ${passClaims.entryId} = ${claim.entryId} AND ${holding(passClaims, now)}
    )
    ON CONFLICT (reservation_id) DO NOTHING
    RETURNING reservation_id`);
  if (inserted.length === 1) return { ok: true };
  const rows = await db.all<{ reservation_id: string; holds: number }>(sql`
    SELECT ${passClaims.reservationId} AS reservation_id, ${holding(passClaims, now)} AS holds
    FROM pass_claims LEFT JOIN reservations r ON r.id = ${passClaims.reservationId}
    WHERE ${passClaims.entryId} = ${claim.entryId}`);
  if (rows.some((r) => r.reservation_id === claim.reservationId)) return { ok: true }; // a retry
  const holder = rows.find((r) => r.holds === 1);
  return holder ? { ok: false, holding: holder.reservation_id } : { ok: false, usedUp: true };
}

/** Gives a pass's use back, unless its reservation was made after all (a retry refused for its state). */
export async function releasePass(db: Db, claim: Pick<PassClaim, "entryId" | "reservationId">): Promise<void> {
  await db
    .delete(passClaims)
    .where(
      and(
        eq(passClaims.reservationId, claim.reservationId),
        eq(passClaims.entryId, claim.entryId),
        sql`NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = ${claim.reservationId})`,
      ),
    );
}
