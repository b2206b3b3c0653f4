/**
 * The writes a Durable Object sends to D1 through its outbox. Each is idempotent and safe in any
 * order: audit entries and webhook messages have deterministic ids (inserted once); reservation and
 * tier rows carry a version, and only a newer version overwrites an older one.
 *
 * This is the hot path of every hold, so the SQL is built once per table (column lists read from the
 * Drizzle tables, the one definition of the schema), and a batch's rows of one table go in one
 * statement whose one bound parameter is all of them as JSON, read with `json_each` (D1 allows 100
 * bound parameters a statement; a value up to 2 MB, so a batch's rows of a table that pass 500,000
 * characters of JSON go in more than one statement).
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
/** D1 takes a bound value of up to 2 MB: a statement's rows go in parameters of at most this many characters. */
const MAX_PARAM_CHARS = 500_000;

interface Projection {
  /** The statement for any number of rows, bound as one JSON parameter: an array of rows, each an array of values. */
  sql: string;
  values: (row: Record<string, unknown>) => unknown[];
}

function projection(table: Table, onConflict: "insert once" | "newer version wins"): Projection {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => ({
    key,
    name: column.name,
    json: column.dataType === "json",
  }));
  const name = getTableName(table);
  // `WHERE true`: SQLite's grammar needs a WHERE before ON CONFLICT when the rows come from a SELECT.
  const head =
    `INSERT INTO "${name}" (${columns.map((c) => `"${c.name}"`).join(", ")}) ` +
    `SELECT ${columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")} FROM json_each(?1) WHERE true`;
  const tail =
    onConflict === "insert once"
      ? " ON CONFLICT DO NOTHING"
      : ` ON CONFLICT ("id") DO UPDATE SET ${columns.map((c) => `"${c.name}" = excluded."${c.name}"`).join(", ")}` +
        ` WHERE excluded."version" > "${name}"."version"`;
  return {
    sql: head + tail,
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
 * The D1 statements that apply `messages`: one statement per table for the rows between two status
 * changes, whatever their kinds' interleaving (a hold queues its reservation row and its audit entry
 * together, so a batch alternates kinds), the rows of each table in their order. A status change
 * stays after every row message before it (a ticket's insert before its voiding); rows of different
 * tables are independent of each other's order (see the top of this file).
 */
export function projectionStatements(d1: D1Database, messages: OutboxMessage[]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  let pending = new Map<RowKind, Record<string, unknown>[]>();
  const flushRows = () => {
    for (const [kind, rows] of pending) {
      const p = PROJECTIONS[kind];
      // Split where a parameter would pass MAX_PARAM_CHARS (a big seated tier's row is most of a megabyte).
      let chunk: string[] = [];
      let chars = 0;
      for (const row of rows) {
        const json = JSON.stringify(p.values(row));
        if (chunk.length > 0 && chars + json.length > MAX_PARAM_CHARS) {
          statements.push(d1.prepare(p.sql).bind(`[${chunk.join(",")}]`));
          chunk = [];
          chars = 0;
        }
        chunk.push(json);
        chars += json.length + 1;
      }
      statements.push(d1.prepare(p.sql).bind(`[${chunk.join(",")}]`));
    }
    pending = new Map();
  };
  for (const m of messages) {
    if (m.kind !== "ticketStatus") {
      const rows = pending.get(m.kind);
      if (rows) rows.push(m.row);
      else pending.set(m.kind, [m.row]);
      continue;
    }
    flushRows();
    // A status change only ever moves a ticket on (valid → void), so applying it twice is harmless.
    for (let i = 0; i < m.ids.length; i += MAX_PARAMS - 2) {
      const ids = m.ids.slice(i, i + MAX_PARAMS - 2);
      statements.push(
        d1
          .prepare(
            `UPDATE "tickets" SET "status" = ?1, "updated_at" = ${nextTicketUpdate("?2", '"tickets"."event_id"')}
             WHERE "id" IN (${ids.map((_, n) => `?${n + 3}`).join(", ")})`,
          )
          .bind(m.status, m.at, ...ids),
      );
    }
  }
  flushRows();
  return statements;
}
