/**
 * One active reservation per `sessionId` per event. A request claims the session with an atomic
 * insert in D1 before any capacity is held; a claim whose reservation has ended (or lapsed) is
 * taken over with a compare-and-set, so two racing requests of one session cannot both win.
 */
import { and, eq } from "drizzle-orm";
import { IN_FLIGHT_MS } from "../../db/claims";
import type { Db } from "../../db/client";
import { statusAt } from "../../db/reservation-status";
import { reservations, sessionClaims } from "../../db/schema";
import { ApiError } from "../../lib/errors";

export interface SessionClaim {
  eventId: string;
  sessionId: string;
  reservationId: string;
}

const claimKey = (c: Pick<SessionClaim, "eventId" | "sessionId">) =>
  and(eq(sessionClaims.eventId, c.eventId), eq(sessionClaims.sessionId, c.sessionId));

function duplicate(reservationId: string): ApiError {
  return new ApiError("DUPLICATE_RESERVATION", "This session already has an active reservation for the event", {
    reservationId,
  });
}

export async function claimSession(db: Db, claim: SessionClaim): Promise<void> {
  const now = Date.now();
  const inserted = await db
    .insert(sessionClaims)
    .values({ ...claim, claimedAt: now })
    .onConflictDoNothing()
    .returning({ reservationId: sessionClaims.reservationId });
  if (inserted.length === 1) return;

  const current = await db.select().from(sessionClaims).where(claimKey(claim)).get();
  if (!current) return claimSession(db, claim); // released in between: try again
  if (current.reservationId === claim.reservationId) return; // a retry of the request that claimed it
  const holder = await db.select().from(reservations).where(eq(reservations.id, current.reservationId)).get();
  const live = holder ? ["active", "checkout"].includes(statusAt(holder, now)) : current.claimedAt > now - IN_FLIGHT_MS;
  if (live) throw duplicate(current.reservationId);

  const taken = await db
    .update(sessionClaims)
    .set({ reservationId: claim.reservationId, claimedAt: now })
    .where(and(claimKey(claim), eq(sessionClaims.reservationId, current.reservationId)))
    .returning({ reservationId: sessionClaims.reservationId });
  if (taken.length !== 1) throw duplicate(current.reservationId);
}

/** Gives the session back when the reservation that claimed it was not made. */
export async function releaseSession(db: Db, claim: SessionClaim): Promise<void> {
  await db.delete(sessionClaims).where(and(claimKey(claim), eq(sessionClaims.reservationId, claim.reservationId)));
}
