/**
 * A ticket's door history, replayed. Scans reach us out of order (an offline scanner uploads its
 * batch when it is back online), so a ticket's state is not "the last write" but the replay of its
 * movements in `scannedAt` order: an entry while outside admits, an entry while inside is a
 * duplicate, an exit while inside lets the holder out, an exit while outside changes nothing.
 *
 * Movements are the scans that let someone through: every offline scan (the device decided alone)
 * and the online scans we answered "admitted" or "exited". An online scan we refused moved nobody.
 *
 * Pure: the caller reads the scans, replays them with the new ones, and writes the outcome back with
 * a compare-and-set (src/domain/checkin-store.ts).
 */
import type { CheckinResult } from "../../db/schema";

export type Direction = "in" | "out";

export interface TimelineScan {
  id: string;
  direction: Direction;
  scannedAt: number;
  recordedAt: number;
  /** Order among scans of one request with the same `scannedAt`. */
  position: number;
  offline: boolean;
  /** What the scanner was answered; null for an offline scan being recorded now. */
  result: CheckinResult | null;
  scannerId: string;
  gate: string | null;
}

export interface Admission {
  at: number;
  gate: string | null;
  scannerId: string;
}

export interface Outcome {
  effect: "admitted" | "exited" | "none";
  /** Someone was let in whom online rules refuse (see `checkins.flagged`). */
  flagged: boolean;
}

export interface Replay {
  /** The admission in effect at the end, or null if the holder is outside. */
  inside: Admission | null;
  firstAdmittedAt: number | null;
  outcomes: Map<string, Outcome>;
}

/** Results that took part in a ticket's timeline: scans of a ticket that was valid when they arrived. */
export const TIMELINE_RESULTS: readonly CheckinResult[] = ["admitted", "exited", "duplicate"];

function byTime(a: TimelineScan, b: TimelineScan): number {
  return (
    a.scannedAt - b.scannedAt ||
    a.recordedAt - b.recordedAt ||
    a.position - b.position ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function replay(scans: readonly TimelineScan[]): Replay {
  let inside: Admission | null = null;
  let firstAdmittedAt: number | null = null;
  const outcomes = new Map<string, Outcome>();
  for (const scan of [...scans].sort(byTime)) {
    if (!scan.offline && scan.result !== "admitted" && scan.result !== "exited") continue;
    if (scan.direction === "in" && inside === null) {
      inside = { at: scan.scannedAt, gate: scan.gate, scannerId: scan.scannerId };
      firstAdmittedAt ??= scan.scannedAt;
      outcomes.set(scan.id, { effect: "admitted", flagged: false });
    } else if (scan.direction === "in") {
      // A movement: the door let a second holder in.
      outcomes.set(scan.id, { effect: "none", flagged: true });
    } else if (inside !== null) {
      inside = null;
      outcomes.set(scan.id, { effect: "exited", flagged: false });
    } else {
      outcomes.set(scan.id, { effect: "none", flagged: false });
    }
  }
  return { inside, firstAdmittedAt, outcomes };
}

/** The answer for a scan recorded now, from its outcome in the replay. */
export function answerOf(outcome: Outcome): CheckinResult {
  return outcome.effect === "none" ? "duplicate" : outcome.effect;
}
