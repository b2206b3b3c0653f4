/**
 * The writes a Durable Object sends to D1 through its outbox. Each is idempotent and safe in any
 * order: audit entries have deterministic ids (insert once); reservation and tier rows carry a
 * version and only a newer version overwrites an older one.
 */
import { getTableColumns, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { type AuditRow, auditLog, type ReservationRow, reservations, type TierRow, tiers } from "./schema";

export type OutboxMessage =
  | { kind: "audit"; row: AuditRow }
  | { kind: "reservation"; row: ReservationRow }
  | { kind: "tier"; row: TierRow };

/** `SET col = excluded.col` for every column: an upsert that binds each value once (D1 allows 100). */
function fromExcluded(columns: Record<string, SQLiteColumn>) {
  return Object.fromEntries(
    Object.entries(columns).map(([key, column]) => [key, sql.raw(`excluded."${column.name}"`)]),
  );
}

export function projectionStatement(db: Db, message: OutboxMessage) {
  switch (message.kind) {
    case "audit":
      return db.insert(auditLog).values(message.row).onConflictDoNothing();
    case "reservation":
      return db
        .insert(reservations)
        .values(message.row)
        .onConflictDoUpdate({
          target: reservations.id,
          set: fromExcluded(getTableColumns(reservations)),
          setWhere: sql`excluded."version" > ${reservations.version}`,
        });
    case "tier":
      return db
        .insert(tiers)
        .values(message.row)
        .onConflictDoUpdate({
          target: tiers.id,
          set: fromExcluded(getTableColumns(tiers)),
          setWhere: sql`excluded."version" > ${tiers.version}`,
        });
  }
}
