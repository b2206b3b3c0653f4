/** Door tickets: never-scanned ticket codes of a free tier, issued through the API off the clock. */
import { clientHeader, nextAddress } from "./clients.ts";
import type { ScenarioContext } from "./context.ts";
import type { LoadEvent } from "./events.ts";

/** Tickets an order: the tier must allow this many (createEvent's default). */
export const FREE_ORDER_TICKETS = 10;
const ISSUE_CONCURRENCY = 16;

/**
 * At least `n` ticket codes (a multiple of 10), never scanned: free orders of 10 (price 0, so a
 * checkout pays at once), 16 at a time, each order a buyer of its own (a new address).
 */
export async function issueTickets(
  ctx: ScenarioContext,
  event: Pick<LoadEvent, "id" | "tierId">,
  n: number,
): Promise<string[]> {
  const codes: string[] = [];
  let orders = Math.ceil(n / FREE_ORDER_TICKETS);
  const buyer = async () => {
    while (orders > 0) {
      orders--;
      const headers = clientHeader(nextAddress("buyer"));
      const r = await ctx.api<{ id: string; token: string }>(
        "POST",
        `/v1/events/${event.id}/reservations`,
        { items: [{ tierId: event.tierId, quantity: FREE_ORDER_TICKETS }] },
        { headers, expect: 201 },
      );
      const order = await ctx.api<{ status: string; tickets?: { code: string }[] }>(
        "POST",
        `/v1/reservations/${r.id}/checkout`,
        { email: "door@example.com" },
        { token: r.token, headers, expect: 201 },
      );
      if (order.status !== "paid" || order.tickets?.length !== FREE_ORDER_TICKETS) {
        orders = 0; // the other buyers stop too
        throw new Error(`a free checkout answered ${order.status} with ${order.tickets?.length} tickets`);
      }
      codes.push(...order.tickets.map((t) => t.code));
    }
  };
  await Promise.all(Array.from({ length: ISSUE_CONCURRENCY }, buyer));
  return codes;
}
