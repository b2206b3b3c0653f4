/**
 * What a scan leaves behind, online or offline: its row in `checkins` (the door's movement log) and
 * its audit entry, built in one place so both paths record the same facts.
 */

import { auditRow, type RequestContext } from "../../db/audit";
import type { CheckinResult, CheckinRow } from "../../db/schema";
import { newId } from "../../lib/ids";
import type { TicketClaims } from "../../lib/ticket-codes";
import { toIso } from "../../lib/time";
import type { ScanAudit } from "./store";
import type { Direction } from "./timeline";

/** A scan as received, its code checked. */
export interface Scan {
  /** Its place in the request. */
  position: number;
  nonce: string | null;
  /** Null when the code does not verify. */
  claims: TicketClaims | null;
  direction: Direction;
  gate: string | null;
  scannedAt: number;
  offline: boolean;
}

export interface Answer {
  result: CheckinResult;
  conflict: boolean;
  firstCheckedInAt: number | null;
}

const AUDIT_ACTION: Record<CheckinResult, string> = {
  admitted: "checkin.admitted",
  exited: "checkin.exited",
  duplicate: "checkin.rejected",
  invalid: "checkin.rejected",
  void: "checkin.rejected",
  wrong_event: "checkin.rejected",
};

export function scannerContext(ctx: RequestContext, scannerId: string): RequestContext {
  return { ...ctx, actor: { type: "scanner", id: scannerId } };
}

export function scanRow(
  scan: Scan,
  eventId: string,
  scannerId: string,
  now: number,
  answer: Answer,
  id = newId("chk"),
): CheckinRow {
  return {
    id,
    eventId,
    ticketId: scan.claims?.ticketId ?? null,
    scannerId,
    nonce: scan.nonce,
    offline: scan.offline,
    direction: scan.direction,
    gate: scan.gate,
    scannedAt: scan.scannedAt,
    recordedAt: now,
    position: scan.position,
    result: answer.result,
    conflict: answer.conflict,
    firstCheckedInAt: answer.firstCheckedInAt,
    flagged: answer.conflict,
  };
}

/** The audit entry of a scan; `token` ties it to its ticket's compare-and-set (null: unconditional). */
export function scanAudit(ctx: RequestContext, row: CheckinRow, token: string | null): ScanAudit {
  return {
    ...auditRow(ctx, {
      eventId: row.eventId,
      at: row.recordedAt,
      action: AUDIT_ACTION[row.result],
      subject: { type: "ticket", id: row.ticketId ?? "unknown" },
      data: {
        checkinId: row.id,
        result: row.result,
        direction: row.direction,
        gate: row.gate,
        offline: row.offline,
        conflict: row.conflict,
        scannedAt: toIso(row.scannedAt),
        ...(row.nonce === null ? {} : { nonce: row.nonce }),
      },
    }),
    ticketId: row.ticketId,
    gate: row.gate,
    scannerId: row.scannerId,
    token,
  };
}
