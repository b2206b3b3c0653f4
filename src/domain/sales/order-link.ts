/**
 * The order a tickets-page link opens (`/tickets/:orderId?t=<order token>`, docs/api.md): authorised
 * exactly as `GET /v1/orders/:orderId` authorises the order's token, with the event and tiers the page
 * names. Every link that call would refuse (a malformed id, no token, a wrong or another order's token,
 * an unknown order) opens nothing, and the caller cannot tell which it was.
 */
import type { Db } from "../../db/client";
import type { EventRow, OrderRow, TicketRow, TierRow } from "../../db/schema";
import { ApiError, type ErrorCode } from "../../lib/errors";
import { idPattern } from "../../lib/ids";
import { eventTiers, findEvent } from "../catalog/events";
import { authorizedOrderWithTickets } from "./orders";

const ORDER_ID = idPattern("ord");
const REFUSALS: ReadonlySet<ErrorCode> = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"]);

export interface LinkedOrder {
  order: OrderRow;
  event: EventRow;
  tiers: TierRow[];
  tickets: TicketRow[];
}

export async function linkedOrder(db: Db, orderId: string, token: string | null): Promise<LinkedOrder | null> {
  if (!ORDER_ID.test(orderId) || !token) return null;
  let linked: { order: OrderRow; tickets: TicketRow[] };
  try {
    linked = await authorizedOrderWithTickets(db, orderId, token, false);
  } catch (error) {
    if (error instanceof ApiError && REFUSALS.has(error.code)) return null;
    throw error;
  }
  const { order, tickets } = linked;
  const [event, tiers] = await Promise.all([findEvent(db, order.eventId), eventTiers(db, order.eventId)]);
  return { order, event, tiers, tickets };
}
