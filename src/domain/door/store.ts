/**
 * Check-in state in D1. Every write is conditional, so racing scanners decide in the database:
 *
 * - The online entry (or exit) is one statement, `UPDATE tickets … WHERE status = 'valid'` (or
 *   `'checked_in'`) that also requires the scanner to exist, match its token and be unrevoked. Two
 *   scanners racing on one ticket: one update matches, the other changes nothing (DESIGN.md, 10).
 * - Everything else (a refused scan, an offline batch) replays the ticket's scans and writes the
 *   outcome with a compare-and-set on `tickets.last_scan_id`, which every recorded scan changes.
 *
 * Each write carries its scan rows and audit entries in the same `db.batch` (one transaction), each
 * row inserted only if its ticket's compare-and-set took (`EXISTS … last_scan_id = token`), so a scan
 * is recorded exactly when it changed the ticket. Many tickets share one statement: their rows are
 * bound as one JSON parameter and read with `json_each` (D1 allows 100 bound parameters a statement).
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { inJson } from "../../db/in-json";
import { nextTicketUpdate } from "../../db/projections";
import { type AuditRow, type CheckinRow, checkins, type TicketRow, tickets } from "../../db/schema";
import { TIMELINE_RESULTS } from "./timeline";

/** The new state of one ticket, written only if its `last_scan_id` is still `seen`. */
export interface TicketWrite {
  id: string;
  seen: string | null;
  token: string;
  status: "valid" | "checked_in";
  firstCheckedInAt: number | null;
  checkedInAt: number | null;
  gate: string | null;
  scannerId: string | null;
  /** Whether the ticket's door state changes (then `updated_at` moves on, for the scanners' caches). */
  changed: boolean;
  at: number;
}

/** A row written with the compare-and-set whose `token` it names (or unconditionally when `token` is null). */
export type Guarded<T> = T & { token: string | null };

const json = (rows: unknown[]) => JSON.stringify(rows);

const TOOK = `((j.value ->> 'token') IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = (j.value ->> 'ticketId') AND t.last_scan_id = (j.value ->> 'token')))`;
/** The gate a scan names, else its scanner's own. */
const GATE = `coalesce(j.value ->> 'gate', (SELECT s.gate FROM scanners s WHERE s.id = (j.value ->> 'scannerId')))`;

const INSERT_SCANS = `INSERT INTO checkins (id, event_id, ticket_id, scanner_id, nonce, offline, direction, gate,
  scanned_at, recorded_at, position, result, conflict, first_checked_in_at, flagged)
SELECT j.value ->> 'id', j.value ->> 'eventId', j.value ->> 'ticketId', j.value ->> 'scannerId', j.value ->> 'nonce',
  j.value ->> 'offline', j.value ->> 'direction', ${GATE}, j.value ->> 'scannedAt', j.value ->> 'recordedAt',
  j.value ->> 'position', j.value ->> 'result', j.value ->> 'conflict', j.value ->> 'firstCheckedInAt',
  j.value ->> 'flagged'
FROM json_each(?1) AS j WHERE ${TOOK}`;

const FLAG_SCANS = `UPDATE checkins SET flagged = j.value ->> 'flagged' FROM json_each(?1) AS j
WHERE checkins.id = (j.value ->> 'id') AND ${TOOK}`;

const INSERT_AUDIT = `INSERT INTO audit_log (id, event_id, at, action, actor_type, actor_id, subject_type, subject_id,
  data, ip, user_agent, request_id)
SELECT j.value ->> 'id', j.value ->> 'eventId', j.value ->> 'at', j.value ->> 'action', j.value ->> 'actorType',
  j.value ->> 'actorId', j.value ->> 'subjectType', j.value ->> 'subjectId',
  json_set(j.value ->> 'data', '$.gate', ${GATE}), j.value ->> 'ip', j.value ->> 'userAgent', j.value ->> 'requestId'
FROM json_each(?1) AS j WHERE ${TOOK}`;

const WRITE_TICKETS = `UPDATE tickets SET status = j.value ->> 'status',
  first_checked_in_at = j.value ->> 'firstCheckedInAt', checked_in_at = j.value ->> 'checkedInAt',
  checkin_gate = j.value ->> 'gate', checkin_scanner_id = j.value ->> 'scannerId',
  last_scan_id = j.value ->> 'token',
  updated_at = CASE WHEN j.value ->> 'changed' THEN ${nextTicketUpdate("j.value ->> 'at'", "tickets.event_id")}
    ELSE tickets.updated_at END
FROM json_each(?1) AS j
WHERE tickets.id = (j.value ->> 'id') AND tickets.last_scan_id IS (j.value ->> 'seen') AND tickets.status != 'void'
RETURNING tickets.id`;

/** The scan rows bound for `INSERT_SCANS` (booleans as 0/1, as SQLite stores them). */
function scanJson(row: Guarded<CheckinRow>) {
  return { ...row, offline: Number(row.offline), conflict: Number(row.conflict), flagged: Number(row.flagged) };
}

/** Audit rows, with `data` as JSON text, and the scan's gate and scanner (for the gate default). */
export type ScanAudit = Guarded<AuditRow & { ticketId: string | null; gate: string | null; scannerId: string }>;

function auditJson(row: ScanAudit) {
  return { ...row, data: JSON.stringify(row.data) };
}

export interface ScanWrites {
  tickets: TicketWrite[];
  scans: Guarded<CheckinRow>[];
  /** Earlier scans whose `flagged` a late upload changed. */
  flags: Guarded<{ id: string; ticketId: string; flagged: boolean }>[];
  audit: ScanAudit[];
}

/** Writes it all in one transaction; answers the ids of the tickets whose compare-and-set took. */
export async function writeScans(d1: D1Database, writes: ScanWrites): Promise<Set<string>> {
  const statements: D1PreparedStatement[] = [];
  if (writes.tickets.length > 0) statements.push(d1.prepare(WRITE_TICKETS).bind(json(writes.tickets)));
  if (writes.scans.length > 0) statements.push(d1.prepare(INSERT_SCANS).bind(json(writes.scans.map(scanJson))));
  if (writes.flags.length > 0) {
    statements.push(d1.prepare(FLAG_SCANS).bind(json(writes.flags.map((f) => ({ ...f, flagged: Number(f.flagged) })))));
  }
  if (writes.audit.length > 0) statements.push(d1.prepare(INSERT_AUDIT).bind(json(writes.audit.map(auditJson))));
  if (statements.length === 0) return new Set();
  const results = await d1.batch<{ id: string }>(statements);
  return new Set(writes.tickets.length > 0 ? (results[0]?.results ?? []).map((r) => r.id) : []);
}

export interface OnlineScan {
  ticketId: string;
  eventId: string;
  scannerId: string;
  tokenHash: string;
  direction: "in" | "out";
  gate: string | null;
  token: string;
  at: number;
}

/**
 * The online fast path: one conditional update decides, and the scan row and audit entry ride in the
 * same transaction. Answers the ticket as updated, or null if the update did not match (the ticket
 * is not in the state this direction needs, is void or unknown, or the scanner may not scan it).
 */
export async function tryOnlineScan(
  d1: D1Database,
  scan: OnlineScan,
  row: Guarded<CheckinRow>,
  audit: ScanAudit,
): Promise<TicketRow | null> {
  const entering = scan.direction === "in";
  const update = d1
    .prepare(
      `UPDATE tickets SET status = ?1,
        first_checked_in_at = coalesce(first_checked_in_at, ?2),
        checked_in_at = CASE WHEN ?1 = 'checked_in' THEN ?2 END,
        checkin_gate = CASE WHEN ?1 = 'checked_in' THEN coalesce(?3, (SELECT gate FROM scanners WHERE id = ?4)) END,
        checkin_scanner_id = CASE WHEN ?1 = 'checked_in' THEN ?4 END,
        last_scan_id = ?5, updated_at = ${nextTicketUpdate("?2", "?7")}
      WHERE id = ?6 AND event_id = ?7 AND status = ?8
        AND EXISTS (SELECT 1 FROM scanners WHERE id = ?4 AND token_hash = ?9 AND event_id = ?7 AND revoked_at IS NULL)
      RETURNING *`,
    )
    .bind(
      entering ? "checked_in" : "valid",
      scan.at,
      scan.gate,
      scan.scannerId,
      scan.token,
      scan.ticketId,
      scan.eventId,
      entering ? "valid" : "checked_in",
      scan.tokenHash,
    );
  const [updated] = await d1.batch<Record<string, unknown>>([
    update,
    d1.prepare(INSERT_SCANS).bind(json([scanJson(row)])),
    d1.prepare(INSERT_AUDIT).bind(json([auditJson(audit)])),
  ]);
  const raw = updated?.results[0];
  return raw ? ticketFromSql(raw) : null;
}

/** A `RETURNING *` row (snake_case columns) as a Drizzle ticket row. */
function ticketFromSql(raw: Record<string, unknown>): TicketRow {
  return {
    id: raw.id as string,
    orderId: raw.order_id as string,
    eventId: raw.event_id as string,
    tierId: raw.tier_id as string,
    seat: raw.seat as string | null,
    code: raw.code as string,
    status: raw.status as TicketRow["status"],
    createdAt: raw.created_at as number,
    updatedAt: raw.updated_at as number,
    firstCheckedInAt: raw.first_checked_in_at as number | null,
    checkedInAt: raw.checked_in_at as number | null,
    checkinGate: raw.checkin_gate as string | null,
    checkinScannerId: raw.checkin_scanner_id as string | null,
    lastScanId: raw.last_scan_id as string | null,
  };
}

/** The tickets named, and the scans of each that take part in its timeline. */
export async function readTimelines(db: Db, ticketIds: string[]) {
  if (ticketIds.length === 0) return { tickets: new Map<string, TicketRow>(), scans: new Map<string, CheckinRow[]>() };
  const [ticketRows, scanRows] = await db.batch([
    db.select().from(tickets).where(inJson(tickets.id, ticketIds)),
    db
      .select()
      .from(checkins)
      .where(and(inJson(checkins.ticketId, ticketIds), inJson(checkins.result, TIMELINE_RESULTS))),
  ]);
  const scans = new Map<string, CheckinRow[]>();
  for (const row of scanRows) {
    if (row.ticketId === null) continue;
    const list = scans.get(row.ticketId) ?? [];
    list.push(row);
    scans.set(row.ticketId, list);
  }
  return { tickets: new Map(ticketRows.map((t) => [t.id, t])), scans };
}

/** Scans already recorded under these nonces by this scanner. */
export async function recordedNonces(db: Db, scannerId: string, nonces: string[]): Promise<Map<string, CheckinRow>> {
  if (nonces.length === 0) return new Map();
  const rows = await db
    .select()
    .from(checkins)
    .where(and(eq(checkins.scannerId, scannerId), inJson(checkins.nonce, nonces)));
  return new Map(rows.map((r) => [r.nonce as string, r]));
}
