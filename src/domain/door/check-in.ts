/**
 * Online check-in. The code's Ed25519 signature is checked first, so a forged or altered code is
 * refused without a database read. Then one conditional update decides (src/domain/checkin-store.ts):
 * of two scanners racing on one ticket, one update matches and the other changes nothing. A refused
 * scan is recorded as it was answered; it moved nobody, so it changes no ticket.
 */
import { eq } from "drizzle-orm";
import type { RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import { type CheckinResult, type ScannerRow, type TicketRow, tickets } from "../../db/schema";
import { ApiError } from "../../lib/errors";
import { publicTicketKeys, type TicketClaims, verifyTicketCode } from "../../lib/ticket-codes";
import { toIsoOrNull } from "../../lib/time";
import type { CheckinInput } from "../../schemas/checkins";
import { type Scan, scanAudit, scannerContext, scanRow } from "./records";
import { authenticateScanner, type ScannerCredential } from "./scanners";
import { tryOnlineScan, writeScans } from "./store";

/** Rounds of "the update missed, yet the ticket now allows it" before the scan is reported as a fault. */
const MAX_ROUNDS = 8;

/** A scan that let its holder in or out: the ticket as it now stands, and when. */
export interface CheckinAnswer {
  result: "admitted" | "exited";
  ticket: TicketRow;
  at: number;
}

/** Why a scan is refused, given the scanner and the ticket as they are now; null if it is not. */
function refusal(scan: Scan, claims: TicketClaims, scanner: ScannerRow, ticket: TicketRow | undefined) {
  const ticketId = claims.ticketId;
  if (claims.eventId !== scanner.eventId) {
    return {
      result: "wrong_event" as const,
      error: new ApiError("WRONG_EVENT", "The ticket belongs to another event than the scanner's", { ticketId }),
    };
  }
  if (!ticket) {
    return {
      result: "invalid" as const,
      error: new ApiError("TICKET_NOT_FOUND", "The code is well signed but there is no such ticket", { ticketId }),
    };
  }
  if (ticket.status === "void") {
    return {
      result: "void" as const,
      error: new ApiError("TICKET_VOID", "The ticket was refunded or cancelled", { ticketId }),
    };
  }
  if (scan.direction === "in" && ticket.status === "checked_in") {
    return {
      result: "duplicate" as const,
      error: new ApiError("ALREADY_CHECKED_IN", "The ticket is already checked in", {
        ticketId,
        firstCheckedInAt: toIsoOrNull(ticket.firstCheckedInAt),
        checkedInAt: toIsoOrNull(ticket.checkedInAt),
        gate: ticket.checkinGate,
        scannerId: ticket.checkinScannerId,
      }),
    };
  }
  if (scan.direction === "out" && ticket.status === "valid") {
    return {
      result: "duplicate" as const,
      error: new ApiError("NOT_CHECKED_IN", "The ticket is not checked in, so it cannot exit", { ticketId }),
    };
  }
  return null;
}

/** An online scan: admitted or let out, or the reason it is refused, thrown as an `ApiError`. */
export async function checkIn(
  env: Env,
  db: Db,
  credential: ScannerCredential,
  input: CheckinInput,
  requestCtx: RequestContext,
): Promise<CheckinAnswer> {
  const claims = await verifyTicketCode(await publicTicketKeys(env), input.code);
  if (!claims) throw new ApiError("INVALID_TICKET_CODE", "The code is malformed or its signature does not verify");
  const ctx = scannerContext(requestCtx, credential.scannerId);
  const success: CheckinResult = input.direction === "in" ? "admitted" : "exited";
  let gate = input.gate ?? null;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = Date.now();
    const scan: Scan = {
      position: 0,
      nonce: null,
      claims,
      direction: input.direction,
      gate,
      scannedAt: now,
      offline: false,
    };
    const row = scanRow(scan, claims.eventId, credential.scannerId, now, {
      result: success,
      conflict: false,
      firstCheckedInAt: null,
    });
    const token = crypto.randomUUID();
    const moved = await tryOnlineScan(
      env.DB,
      { ...credential, ...claims, direction: input.direction, gate: scan.gate, token, at: now },
      { ...row, token },
      scanAudit(ctx, row, token),
    );
    if (moved) return { result: input.direction === "in" ? "admitted" : "exited", ticket: moved, at: now };

    // The update did not match: find out why (the scanner first, then the ticket), each time afresh.
    const scanner = await authenticateScanner(db, credential);
    gate ??= scanner.gate;
    const ticket = await db.select().from(tickets).where(eq(tickets.id, claims.ticketId)).get();
    const refused = refusal(scan, claims, scanner, ticket);
    if (refused) {
      const recorded = scanRow({ ...scan, gate }, scanner.eventId, scanner.id, now, {
        result: refused.result,
        conflict: false,
        firstCheckedInAt: ticket?.firstCheckedInAt ?? null,
      });
      await writeScans(env.DB, {
        tickets: [],
        scans: [{ ...recorded, token: null }],
        flags: [],
        audit: [scanAudit(ctx, recorded, null)],
      });
      throw refused.error;
    }
    // The ticket moved between the update and the read: decide again.
  }
  throw new Error(`an online check-in missed its update ${MAX_ROUNDS} times while the ticket allowed it`);
}
