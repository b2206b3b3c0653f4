/**
 * What an organiser reads about an event's buyers: its orders (newest first, paged, by status) and
 * the attendee export, one CSV row per ticket.
 */
import { and, asc, eq, gt, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { inJson } from "../../db/in-json";
import { Keyset } from "../../db/keyset";
import { orders, type TicketRow, tickets, tiers } from "../../db/schema";
import { toIsoOrNull } from "../../lib/time";
import type { OrderListQuery } from "../../schemas/event-orders";
import { findEvent } from "../catalog/events";

const NEWEST_FIRST = new Keyset(orders.createdAt, orders.id, "desc");

export async function listOrders(db: Db, eventId: string, query: OrderListQuery) {
  await findEvent(db, eventId);
  const conditions: SQL[] = [eq(orders.eventId, eventId), ...NEWEST_FIRST.after(query.cursor)];
  if (query.status) conditions.push(eq(orders.status, query.status));
  const rows = await db
    .select()
    .from(orders)
    .where(and(...conditions))
    .orderBy(...NEWEST_FIRST.orderBy())
    .limit(query.limit + 1);
  const { page, nextCursor } = NEWEST_FIRST.page(rows, query.limit, (o) => ({ at: o.createdAt, id: o.id }));
  const ticketRows =
    page.length === 0
      ? []
      : await db
          .select()
          .from(tickets)
          .where(
            inJson(
              tickets.orderId,
              page.map((o) => o.id),
            ),
          )
          .orderBy(asc(tickets.id));
  const byOrder = new Map<string, TicketRow[]>();
  for (const t of ticketRows) byOrder.set(t.orderId, [...(byOrder.get(t.orderId) ?? []), t]);
  return { orders: page.map((order) => ({ order, tickets: byOrder.get(order.id) ?? [] })), nextCursor };
}

const CSV_COLUMNS = ["order_id", "email", "name", "tier", "seat", "ticket_id", "status", "checked_in_at"] as const;

/**
 * One CSV field. Quoted when it holds a separator, quote or line break; a value a spreadsheet would
 * run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed with `'` (buyers type their names).
 */
function csvField(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const PAGE = 500;

/** The attendee list as CSV, streamed a page of tickets at a time (in ticket id order). */
export async function attendeesCsv(db: Db, eventId: string): Promise<ReadableStream<Uint8Array>> {
  await findEvent(db, eventId);
  const encoder = new TextEncoder();
  let after = "";
  let header = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (header) {
        header = false;
        controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(",")}\r\n`));
        return;
      }
      const rows = await db
        .select({
          orderId: tickets.orderId,
          email: orders.email,
          name: orders.name,
          tier: tiers.name,
          seat: tickets.seat,
          ticketId: tickets.id,
          status: tickets.status,
          firstCheckedInAt: tickets.firstCheckedInAt,
        })
        .from(tickets)
        .innerJoin(orders, eq(orders.id, tickets.orderId))
        .innerJoin(tiers, eq(tiers.id, tickets.tierId))
        .where(and(eq(tickets.eventId, eventId), gt(tickets.id, after)))
        .orderBy(asc(tickets.id))
        .limit(PAGE);
      const text = rows
        .map((r) =>
          [r.orderId, r.email, r.name, r.tier, r.seat, r.ticketId, r.status, toIsoOrNull(r.firstCheckedInAt)]
            .map(csvField)
            .join(","),
        )
        .join("\r\n");
      if (rows.length > 0) controller.enqueue(encoder.encode(`${text}\r\n`));
      const last = rows.at(-1);
      if (rows.length < PAGE || !last) controller.close();
      else after = last.ticketId;
    },
  });
}
