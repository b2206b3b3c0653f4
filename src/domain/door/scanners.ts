/**
 * Scanner devices: one event each, a token shown once (stored as a SHA-256 hash), revoked at once.
 * Check-ins prove the token in the same statement that admits (src/domain/checkin-store.ts); the
 * other scanner routes read the scanner here first.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { auditRow, type RequestContext } from "../../db/audit";
import type { Db } from "../../db/client";
import { auditLog, type ScannerRow, scanners } from "../../db/schema";
import { ApiError, notFound } from "../../lib/errors";
import { derivedBytes, idFrom, scannerIdOf, scannerToken, secretsEqual, sha256Hex } from "../../lib/ids";
import type { ScannerInput } from "../../schemas/scanners";
import { findEvent } from "../catalog/events";

/**
 * Creates a scanner for the event. With an `Idempotency-Key` the id and token derive from the key's
 * seed, so a retry whose first answer was lost makes the same scanner rather than a second one.
 */
export async function createScanner(
  db: Db,
  eventId: string,
  input: ScannerInput,
  seed: Uint8Array | null,
  ctx: RequestContext,
) {
  await findEvent(db, eventId);
  const random = (label: string) =>
    seed ? derivedBytes(seed, label) : Promise.resolve(crypto.getRandomValues(new Uint8Array(32)));
  const id = idFrom("scn", await random("scanner-id"));
  const token = scannerToken(id, await random("scanner-token"));
  const now = Date.now();
  const row: ScannerRow = {
    id,
    eventId,
    name: input.name,
    gate: input.gate ?? null,
    tokenHash: await sha256Hex(token),
    createdAt: now,
    revokedAt: null,
  };
  await db.batch([
    db.insert(scanners).values(row).onConflictDoNothing(),
    db
      .insert(auditLog)
      .values(
        auditRow(ctx, {
          id: `aud_${id}_created`,
          eventId,
          at: now,
          action: "scanner.created",
          subject: { type: "scanner", id },
          data: { name: row.name, gate: row.gate },
        }),
      )
      .onConflictDoNothing(),
  ]);
  // A key used again after its 24 h (so its answer is gone) names the same scanner: answer it as stored.
  const stored = (await db.select().from(scanners).where(eq(scanners.id, id)).get()) ?? row;
  return { scanner: stored, token };
}

export async function listScanners(db: Db, eventId: string) {
  await findEvent(db, eventId);
  const rows = await db
    .select()
    .from(scanners)
    .where(eq(scanners.eventId, eventId))
    .orderBy(asc(scanners.createdAt), asc(scanners.id));
  return rows;
}

/** Revokes a scanner; revoking it again changes nothing. Its token is refused from this moment. */
export async function revokeScanner(db: Db, scannerId: string, ctx: RequestContext): Promise<void> {
  const now = Date.now();
  const [revoked] = await db
    .update(scanners)
    .set({ revokedAt: now })
    .where(and(eq(scanners.id, scannerId), isNull(scanners.revokedAt)))
    .returning();
  if (!revoked) {
    const existing = await db.select({ id: scanners.id }).from(scanners).where(eq(scanners.id, scannerId)).get();
    if (!existing) throw notFound("scanner", scannerId);
    return;
  }
  await db
    .insert(auditLog)
    .values(
      auditRow(ctx, {
        id: `aud_${scannerId}_revoked`,
        eventId: revoked.eventId,
        at: now,
        action: "scanner.revoked",
        subject: { type: "scanner", id: scannerId },
        data: { name: revoked.name },
      }),
    )
    .onConflictDoNothing();
}

const unauthorized = (detail: string) => new ApiError("UNAUTHORIZED", detail);

/** What a scanner token claims before the database confirms it: which scanner, and the token's hash. */
export interface ScannerCredential {
  scannerId: string;
  tokenHash: string;
}

/** Reads the credential off a bearer token without touching the database; 401 if it is no scanner token. */
export async function scannerCredential(token: string | null): Promise<ScannerCredential> {
  if (token === null) throw unauthorized("A scanner token is required");
  const scannerId = scannerIdOf(token);
  if (scannerId === null) throw unauthorized("The token is not a scanner token");
  return { scannerId, tokenHash: await sha256Hex(token) };
}

/** The scanner the credential proves: 401 if it is unknown, does not match, or was revoked. */
export async function authenticateScanner(db: Db, credential: ScannerCredential): Promise<ScannerRow> {
  const row = await db.select().from(scanners).where(eq(scanners.id, credential.scannerId)).get();
  if (!row || !(await secretsEqual(row.tokenHash, credential.tokenHash))) {
    throw unauthorized("The scanner token is not valid");
  }
  if (row.revokedAt !== null) throw unauthorized("The scanner was revoked");
  return row;
}

/** 403 unless the scanner belongs to the event. */
export function requireScannerOf(scanner: ScannerRow, eventId: string): void {
  if (scanner.eventId !== eventId) {
    throw new ApiError("FORBIDDEN", "The scanner belongs to another event");
  }
}
