/**
 * The writes a Durable Object sends to D1 through its outbox. Each is idempotent and safe in any
 * order: audit entries and webhook messages have deterministic ids (inserted once); reservation and
 * tier rows carry a version, and only a newer version overwrites an older one.
 *
 * This is the hot path of every hold, so the SQL is built once per table (column lists read from the
 * Drizzle tables, the one definition of the schema) and rows are sent as multi-row statements,
 * within D1's limit of 100 bound parameters per statement.
 */
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import {
  type AuditRow,
  auditLog,
  type OrderRow,
  orders,
  type ReservationRow,
  reservations,
  type TicketRow,
  type TierRow,
  tickets,
  tiers,
  type WebhookMessageRow,
  webhookMessages,
} from "./schema";

export type OutboxMessage =
  | { kind: "audit"; row: AuditRow }
  | { kind: "reservation"; row: ReservationRow }
  | { kind: "tier"; row: TierRow }
  | { kind: "order"; row: OrderRow }
  | { kind: "ticket"; row: TicketRow }
  /** A message to the organiser's systems (src/db/webhook-messages.ts), landing with the change it reports. */
  | { kind: "webhook"; row: WebhookMessageRow }
  | { kind: "ticketStatus"; ids: string[]; status: TicketRow["status"]; at: number };

type RowKind = Exclude<OutboxMessage, { kind: "ticketStatus" }>["kind"];

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

const PROJECTIONS: Record<RowKind, Projection> = {
  audit: projection(auditLog, "insert once"),
  reservation: projection(reservations, "newer version wins"),
  tier: projection(tiers, "newer version wins"),
  order: projection(orders, "newer version wins"),
  ticket: projection(tickets, "insert once"),
  webhook: projection(webhookMessages, "insert once"),
};

/**
 * A ticket's `updated_at` for a change committed now: its time, but later than every ticket of its
 * event already has. D1 applies writes one at a time, so a scanner that asks for the changes `since`
 * the newest `updatedAt` it holds cannot miss one committed after it (GET …/checkin-list).
 */
export function nextTicketUpdate(at: string, eventId: string): string {
  return `max(${at}, (SELECT coalesce(max(t2.updated_at), 0) + 1 FROM tickets t2 WHERE t2.event_id = ${eventId}))`;
}

/**
 * The D1 statements that apply `messages`, in their order (a ticket's insert before its voiding),
 * consecutive messages of one kind sharing multi-row statements within the parameter limit.
 */
export function projectionStatements(d1: D1Database, messages: OutboxMessage[]): D1PreparedStatement[] {
  // Split into runs: consecutive row messages of one kind, or a single status change.
  const runs: (
    | { kind: RowKind; rows: Record<string, unknown>[] }
    | Extract<OutboxMessage, { kind: "ticketStatus" }>
  )[] = [];
  for (const m of messages) {
    const last = runs.at(-1);
    if (m.kind === "ticketStatus") runs.push(m);
    else if (last && last.kind === m.kind && "rows" in last) last.rows.push(m.row);
    else runs.push({ kind: m.kind, rows: [m.row] });
  }
  const statements: D1PreparedStatement[] = [];
  for (const run of runs) {
    if (run.kind === "ticketStatus") {
      // A status change only ever moves a ticket on (valid → void), so applying it twice is harmless.
      for (let i = 0; i < run.ids.length; i += MAX_PARAMS - 2) {
        const ids = run.ids.slice(i, i + MAX_PARAMS - 2);
        statements.push(
          d1
            .prepare(
              `UPDATE "tickets" SET "status" = ?1, "updated_at" = ${nextTicketUpdate("?2", '"tickets"."event_id"')}
               WHERE "id" IN (${ids.map((_, n) => `?${n + 3}`).join(", ")})`,
            )
            .bind(run.status, run.at, ...ids),
        );
      }
      continue;
    }
    const p = PROJECTIONS[run.kind];
    for (let i = 0; i < run.rows.length; i += p.rowsPerStatement) {
      const chunk = run.rows.slice(i, i + p.rowsPerStatement);
      statements.push(d1.prepare(p.sql(chunk.length)).bind(...chunk.flatMap(p.values)));
    }
  }
  return statements;
}
