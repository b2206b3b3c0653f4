/**
 * The writes a Durable Object sends to D1 through its outbox. Each is idempotent and safe in any
 * order: audit entries have deterministic ids (inserted once); reservation and tier rows carry a
 * version, and only a newer version overwrites an older one.
 *
 * This is the hot path of every hold, so the SQL is built once per table (column lists read from the
 * Drizzle tables, the one definition of the schema) and rows are sent as multi-row statements,
 * within D1's limit of 100 bound parameters per statement.
 */
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import { type AuditRow, auditLog, type ReservationRow, reservations, type TierRow, tiers } from "./schema";

export type OutboxMessage =
  | { kind: "audit"; row: AuditRow }
  | { kind: "reservation"; row: ReservationRow }
  | { kind: "tier"; row: TierRow };

type Kind = OutboxMessage["kind"];

const MAX_PARAMS = 100;

interface Projection {
  /** The statement for `n` rows. */
  sql: (n: number) => string;
  rowsPerStatement: number;
  values: (row: Record<string, unknown>) => unknown[];
}

function projection(table: Table, onConflict: "insert once" | "newer version wins"): Projection {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => ({
    key,
    name: column.name,
    json: column.dataType === "json",
  }));
  const name = getTableName(table);
  const head = `INSERT INTO "${name}" (${columns.map((c) => `"${c.name}"`).join(", ")}) VALUES `;
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const tail =
    onConflict === "insert once"
      ? " ON CONFLICT DO NOTHING"
      : ` ON CONFLICT ("id") DO UPDATE SET ${columns.map((c) => `"${c.name}" = excluded."${c.name}"`).join(", ")}` +
        ` WHERE excluded."version" > "${name}"."version"`;
  return {
    sql: (n) => head + Array.from({ length: n }, () => tuple).join(", ") + tail,
    rowsPerStatement: Math.floor(MAX_PARAMS / columns.length),
    values: (row) =>
      columns.map((c) => {
        const value = row[c.key] ?? null;
        return c.json && value !== null ? JSON.stringify(value) : value;
      }),
  };
}

const PROJECTIONS: Record<Kind, Projection> = {
  audit: projection(auditLog, "insert once"),
  reservation: projection(reservations, "newer version wins"),
  tier: projection(tiers, "newer version wins"),
};

/** The D1 statements that apply `messages`, as few as the parameter limit allows. */
export function projectionStatements(d1: D1Database, messages: OutboxMessage[]): D1PreparedStatement[] {
  const byKind = new Map<Kind, Record<string, unknown>[]>();
  for (const m of messages) {
    const rows = byKind.get(m.kind) ?? [];
    rows.push(m.row);
    byKind.set(m.kind, rows);
  }
  const statements: D1PreparedStatement[] = [];
  for (const [kind, rows] of byKind) {
    const p = PROJECTIONS[kind];
    for (let i = 0; i < rows.length; i += p.rowsPerStatement) {
      const chunk = rows.slice(i, i + p.rowsPerStatement);
      statements.push(d1.prepare(p.sql(chunk.length)).bind(...chunk.flatMap(p.values)));
    }
  }
  return statements;
}
