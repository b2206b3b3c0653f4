/**
 * The measured steps of the suite's scenarios, each request timed under its name and each outcome a
 * check: one buyer's purchase (reserve → checkout → Stripe's signed `checkout.session.completed`) and
 * one scan at the door. Both are sent from a client's address (`CF-Connecting-IP`, common/clients.ts).
 */
import {
  CHECKOUT_BODY,
  type CheckoutAnswer,
  type PendingOrder,
  paidWebhook,
  pendingOrder,
  type Reservation,
  reservationBody,
} from "../common/buyers.ts";
import { type Client, clientHeader, nextAddress } from "../common/clients.ts";
import type { LoadEvent } from "../common/events.ts";
import type { Expected, Http } from "../common/http.ts";
import { ADMISSION_HEADER } from "../common/queue.ts";
import type { Metrics } from "./engine.ts";

export type Purchase =
  | { kind: "paid"; order: PendingOrder }
  | { kind: "sold_out" }
  | { kind: "failed"; step: "reserve" | "checkout" | "webhook" };

/** What a reservation may answer when the tier can sell out: 201, or 409 with a sell-out's code. */
const RESERVE_OR_SOLD_OUT: readonly Expected[] = [201, "409 SOLD_OUT", "409 SEAT_UNAVAILABLE"];

/**
 * One buyer's purchase of one ticket, each step timed under its name: reserve (201; or, where the tier
 * `canSellOut`, 409 SOLD_OUT or SEAT_UNAVAILABLE; any other answer fails), check out (201, pending
 * payment), and Stripe's signed `checkout.session.completed` (200: paid). Every purchase is a buyer of
 * its own, a new address (a VU buying ticket after ticket would soon go over one client's limits),
 * unless `from.address` names the buyer's; `from.pass` is its admission pass, for an event that sells
 * through a queue (common/queue.ts). Stripe's webhook comes from Stripe, not from the buyer.
 */
export async function buy(
  http: Http,
  metrics: Metrics,
  webhookSecret: string,
  event: LoadEvent,
  canSellOut: boolean,
  from: { address?: string; pass?: string } = {},
): Promise<Purchase> {
  const buyer = clientHeader(from.address ?? nextAddress("buyer"));
  const admission: Record<string, string> = from.pass === undefined ? {} : { [ADMISSION_HEADER]: from.pass };
  const r = await http.request<Reservation & { code?: string }>(
    "reserve",
    "POST",
    `/v1/events/${event.id}/reservations`,
    {
      raw: reservationBody(event),
      headers: { ...buyer, ...admission },
      expect: canSellOut ? RESERVE_OR_SOLD_OUT : [201],
    },
  );
  const expected = canSellOut ? "reserve: 201, or 409 SOLD_OUT | SEAT_UNAVAILABLE" : "reserve: 201";
  if (!metrics.check(expected, r.ok, `${r.status} ${r.body?.code ?? ""}`)) return { kind: "failed", step: "reserve" };
  if (r.status === 409) return { kind: "sold_out" };
  const c = await http.request<CheckoutAnswer>("checkout", "POST", `/v1/reservations/${r.body.id}/checkout`, {
    raw: CHECKOUT_BODY,
    token: r.body.token,
    headers: buyer,
    expect: [201],
  });
  const order = c.ok ? pendingOrder(c.body) : `status ${c.status}`;
  if (!metrics.check("checkout: 201 pending_payment", typeof order !== "string", String(order))) {
    return { kind: "failed", step: "checkout" };
  }
  const pending = order as PendingOrder;
  const { body, headers } = paidWebhook(webhookSecret, pending);
  const w = await http.request("webhook", "POST", "/v1/webhooks/stripe", { raw: body, headers, expect: [200] });
  if (!metrics.check("webhook: 200", w.ok, `status ${w.status}`)) return { kind: "failed", step: "webhook" };
  return { kind: "paid", order: pending };
}

/**
 * One scan at the door, timed as `checkin`: `admitted` (200 admitted), `refused` (409
 * ALREADY_CHECKED_IN, the ticket was in already) or `failed` (any other answer: a failed check). Sent
 * from the scanner's `client`.
 */
export async function scan(
  http: Http,
  metrics: Metrics,
  code: string,
  scannerToken: string,
  client: Client,
): Promise<"admitted" | "refused" | "failed"> {
  const r = await http.request<{ result?: string; code?: string }>("checkin", "POST", "/v1/checkins", {
    body: { code },
    token: scannerToken,
    headers: client.header(),
    expect: [200, "409 ALREADY_CHECKED_IN"],
  });
  const admitted = r.status === 200 && r.body?.result === "admitted";
  const refused = r.ok && r.status === 409;
  metrics.check(
    "checkin: 200 admitted, or 409 ALREADY_CHECKED_IN",
    admitted || refused,
    `${r.status} ${r.body?.result ?? r.body?.code}`,
  );
  return admitted ? "admitted" : refused ? "refused" : "failed";
}
