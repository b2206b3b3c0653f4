import type { ReservationRow } from "./schema";

/**
 * A reservation's status at `now`: a hold that is still held (`active`, or at `checkout`) but past
 * its expiry reads `expired`, even in the moment before the tier's alarm has recorded it (the alarm
 * is at-least-once and may run late, the clock is not). The one rule for the API's views, session
 * claims and the tier objects' own decisions.
 */
export function statusAt(r: Pick<ReservationRow, "status" | "expiresAt">, now: number): ReservationRow["status"] {
  return (r.status === "active" || r.status === "checkout") && r.expiresAt <= now ? "expired" : r.status;
}
