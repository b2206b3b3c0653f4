/**
 * Offline batches: scans a scanner made while it could not reach us, uploaded later. Each nonce is
 * processed once (a repeat answers its first result). Each ticket's scans are replayed with the
 * ones already recorded, in `scannedAt` order (src/domain/checkin-timeline.ts), and written with a
 * compare-and-set on the ticket; a ticket whose compare-and-set lost to a concurrent scan is read
 * and replayed again.
 */

import { auditRow, type RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import type { CheckinResult, CheckinRow, ScannerRow, TicketRow } from "../../db/schema";
import { newId } from "../../lib/ids";
import { publicTicketKeys, verifyTicketCode } from "../../lib/ticket-codes";
import { toIso } from "../../lib/time";
import type { CheckinBatchInput } from "../../schemas/checkins";
import { type Answer, type Scan, scanAudit, scannerContext, scanRow } from "./records";
import { readTimelines, recordedNonces, type ScanWrites, type TicketWrite, writeScans } from "./store";
import { answerOf, replay, type TimelineScan } from "./timeline";

/** Rounds of compare-and-set before a batch that keeps losing races is reported as a fault. */
const MAX_ROUNDS = 8;
/** How far behind a device clock may be and still order its scans as they happened. */
const CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

interface BatchAnswer extends Answer {
  ticketId: string | null;
}

const timelineScan = (row: CheckinRow): TimelineScan => ({ ...row, result: row.result });

/** Plans the writes for the new scans of one valid ticket, replayed with its recorded scans. */
function planTicket(
  ticket: TicketRow,
  recorded: CheckinRow[],
  scans: Scan[],
  scanner: ScannerRow,
  ctx: RequestContext,
  now: number,
  writes: ScanWrites,
): Map<number, BatchAnswer> {
  const token = crypto.randomUUID();
  // A device clock reset to 1970 must not rewrite the ticket's history: no scan is older than the
  // ticket (give or take a day of clock skew).
  const earliest = ticket.createdAt - CLOCK_SKEW_MS;
  const fresh = scans.map((scan) => ({
    scan: { ...scan, scannedAt: Math.max(scan.scannedAt, earliest) },
    id: newId("chk"),
  }));
  const { inside, firstAdmittedAt, outcomes } = replay([
    ...recorded.map(timelineScan),
    ...fresh.map(({ scan, id }) => ({ ...scan, id, recordedAt: now, result: null, scannerId: scanner.id })),
  ]);
  const status = inside ? "checked_in" : "valid";
  const changed =
    status !== ticket.status ||
    firstAdmittedAt !== ticket.firstCheckedInAt ||
    (inside?.at ?? null) !== ticket.checkedInAt;
  const write: TicketWrite = {
    id: ticket.id,
    seen: ticket.lastScanId,
    token,
    status,
    firstCheckedInAt: firstAdmittedAt,
    checkedInAt: inside?.at ?? null,
    gate: inside?.gate ?? null,
    scannerId: inside?.scannerId ?? null,
    changed,
    at: now,
  };
  writes.tickets.push(write);
  const answers = new Map<number, BatchAnswer>();
  for (const { scan, id } of fresh) {
    const outcome = outcomes.get(id);
    if (!outcome) throw new Error(`scan ${id} is missing from its replay`);
    const answer = { result: answerOf(outcome), conflict: outcome.flagged, firstCheckedInAt: firstAdmittedAt };
    const row = scanRow(scan, scanner.eventId, scanner.id, now, answer, id);
    writes.scans.push({ ...row, token });
    writes.audit.push(scanAudit(ctx, row, token));
    answers.set(scan.position, { ...answer, ticketId: ticket.id });
  }
  // A late upload can show that an earlier admission was a second holder getting in (or was not).
  for (const row of recorded) {
    const flagged = outcomes.get(row.id)?.flagged ?? row.flagged;
    if (flagged === row.flagged) continue;
    writes.flags.push({ id: row.id, ticketId: ticket.id, flagged, token });
    writes.audit.push({
      ...auditRow(ctx, {
        eventId: scanner.eventId,
        at: now,
        action: "checkin.conflict",
        subject: { type: "ticket", id: ticket.id },
        data: { checkinId: row.id, scannerId: row.scannerId, flagged, scannedAt: toIso(row.scannedAt) },
      }),
      ticketId: ticket.id,
      gate: row.gate,
      scannerId: row.scannerId,
      token,
    });
  }
  return answers;
}

/** A scan that changes no ticket: a code that does not verify, or a foreign, unknown or void ticket. */
function planRefusal(
  scan: Scan,
  result: CheckinResult,
  scanner: ScannerRow,
  ctx: RequestContext,
  now: number,
  writes: ScanWrites,
  ticket: TicketRow | null,
): BatchAnswer {
  // The device let the holder in if the code verified and its cache could not know better.
  const conflict = scan.direction === "in" && (result === "void" || (result === "invalid" && scan.claims !== null));
  const answer = { result, conflict, firstCheckedInAt: ticket?.firstCheckedInAt ?? null };
  const row = scanRow(scan, scanner.eventId, scanner.id, now, answer);
  writes.scans.push({ ...row, token: null });
  writes.audit.push(scanAudit(ctx, row, null));
  return { ...answer, ticketId: scan.claims?.ticketId ?? null };
}

const isNonceClash = (error: unknown) => String(error).includes("UNIQUE constraint failed: checkins");

/** Records the scans and answers each, by position. */
async function recordScans(
  db: Db,
  d1: D1Database,
  scanner: ScannerRow,
  scans: Scan[],
  ctx: RequestContext,
  now: number,
): Promise<Map<number, BatchAnswer>> {
  const answers = new Map<number, BatchAnswer>();
  let pending = scans;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new Error(`an offline batch lost ${MAX_ROUNDS} compare-and-set rounds`);
    const nonces = await recordedNonces(
      db,
      scanner.id,
      pending.flatMap((s) => (s.nonce === null ? [] : [s.nonce])),
    );
    const live: Scan[] = [];
    for (const scan of pending) {
      const row = scan.nonce === null ? undefined : nonces.get(scan.nonce);
      if (row) answers.set(scan.position, row);
      else live.push(scan);
    }
    const writes: ScanWrites = { tickets: [], scans: [], flags: [], audit: [] };
    const planned = new Map<number, { answer: BatchAnswer; cas: string | null }>();
    const refuse = (scan: Scan, result: CheckinResult, ticket: TicketRow | null) =>
      planned.set(scan.position, { answer: planRefusal(scan, result, scanner, ctx, now, writes, ticket), cas: null });
    const byTicket = new Map<string, Scan[]>();
    for (const scan of live) {
      if (scan.claims === null) refuse(scan, "invalid", null);
      else if (scan.claims.eventId !== scanner.eventId) refuse(scan, "wrong_event", null);
      else byTicket.set(scan.claims.ticketId, [...(byTicket.get(scan.claims.ticketId) ?? []), scan]);
    }
    const timelines = await readTimelines(db, [...byTicket.keys()]);
    for (const [ticketId, ticketScans] of byTicket) {
      const ticket = timelines.tickets.get(ticketId) ?? null;
      if (ticket === null || ticket.status === "void") {
        for (const scan of ticketScans) refuse(scan, ticket === null ? "invalid" : "void", ticket);
        continue;
      }
      const recorded = timelines.scans.get(ticketId) ?? [];
      for (const [position, answer] of planTicket(ticket, recorded, ticketScans, scanner, ctx, now, writes)) {
        planned.set(position, { answer, cas: ticketId });
      }
    }
    let took: Set<string>;
    try {
      took = await writeScans(d1, writes);
    } catch (error) {
      // Another upload recorded one of these nonces meanwhile: nothing was written; look again.
      if (isNonceClash(error)) continue;
      throw error;
    }
    pending = live.filter((scan) => {
      const plan = planned.get(scan.position);
      if (!plan || (plan.cas !== null && !took.has(plan.cas))) return true;
      answers.set(scan.position, plan.answer);
      return false;
    });
  }
  return answers;
}

/** Scans an offline scanner made, applied in `scannedAt` order; each nonce is processed once. */
export async function checkInBatch(
  env: Env,
  db: Db,
  scanner: ScannerRow,
  input: CheckinBatchInput,
  requestCtx: RequestContext,
) {
  const now = Date.now();
  const keys = await publicTicketKeys(env);
  // The first scan with a nonce is the one processed; a repeat in the same request answers the same.
  const firstWithNonce = new Map<string, number>();
  input.scans.forEach((scan, position) => {
    if (!firstWithNonce.has(scan.nonce)) firstWithNonce.set(scan.nonce, position);
  });
  const scans = await Promise.all(
    [...firstWithNonce.values()].map(async (position): Promise<Scan> => {
      const scan = input.scans[position];
      if (!scan) throw new Error(`no scan at ${position}`);
      return {
        position,
        nonce: scan.nonce,
        claims: await verifyTicketCode(keys, scan.code),
        direction: scan.direction,
        gate: scan.gate ?? scanner.gate,
        // A device clock ahead of ours cannot place a scan after scans that happen later.
        scannedAt: Math.min(scan.scannedAt, now),
        offline: true,
      };
    }),
  );
  const answers = await recordScans(db, env.DB, scanner, scans, scannerContext(requestCtx, scanner.id), now);
  return {
    results: input.scans.map((scan) => {
      const answer = answers.get(firstWithNonce.get(scan.nonce) ?? -1);
      if (!answer) throw new Error(`scan ${scan.nonce} has no answer`);
      return {
        nonce: scan.nonce,
        result: answer.result,
        conflict: answer.conflict,
        ...(answer.ticketId ? { ticketId: answer.ticketId } : {}),
        ...(answer.firstCheckedInAt === null ? {} : { firstCheckedInAt: toIso(answer.firstCheckedInAt) }),
      };
    }),
  };
}
