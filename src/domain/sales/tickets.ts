import type { OrderRow, TicketRow } from "../../db/schema";
import { idFrom } from "../../lib/ids";
import { hmac } from "../../lib/secret-box";
import { signTicketCode } from "../../lib/ticket-codes";

/** The check-in columns of a ticket no scanner has seen. */
export const NEVER_SCANNED = {
  firstCheckedInAt: null,
  checkedInAt: null,
  checkinGate: null,
  checkinScannerId: null,
  lastScanId: null,
} as const;

/**
 * The tickets of an order, per tier. Ids derive from the order and position (keyed by APP_SECRET)
 * and Ed25519 signatures are deterministic, so building them again gives the same tickets: issuing
 * is idempotent however often a payment is delivered.
 */
export async function orderTickets(
  env: Pick<Env, "APP_SECRET" | "TICKET_SIGNING_KEY">,
  order: OrderRow,
  now: number,
): Promise<Map<string, TicketRow[]>> {
  const byTier = new Map<string, TicketRow[]>();
  for (const item of order.items) {
    const tickets = await Promise.all(
      Array.from({ length: item.quantity }, async (_, i) => {
        const id = idFrom("tkt", await hmac(env.APP_SECRET, `ticket\n${order.id}\n${item.tierId}\n${i}`));
        return {
          id,
          orderId: order.id,
          eventId: order.eventId,
          tierId: item.tierId,
          seat: item.seats?.[i] ?? null,
          code: await signTicketCode(env, { ticketId: id, eventId: order.eventId }),
          status: "valid" as const,
          createdAt: now,
          updatedAt: now,
          ...NEVER_SCANNED,
        };
      }),
    );
    byTier.set(item.tierId, tickets);
  }
  return byTier;
}
