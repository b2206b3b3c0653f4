/**
 * `GET /tickets/:orderId?t=<order token>`: the buyer's tickets page (docs/api.md, "Ticket delivery and
 * pages"), each ticket's QR code drawn here in the Worker. The link's token opens the order as it opens
 * `GET /v1/orders/:orderId`; any link that would be refused there gets one and the same 404 page.
 */
import { linkedOrder } from "../../domain/sales/order-link";
import { operation, Routes } from "../../routes/operation";
import { eventView, orderView } from "../../routes/views";
import { idOf } from "../../schemas/common";
import { newNonce } from "../nonce";
import { noTicketsPage, ticketsPage } from "./view";

const tickets = operation({
  method: "get",
  path: "/tickets/:orderId",
  summary: "The buyer's tickets page: each ticket's QR code, tier, seat and status",
  auth: "order link",
  limit: "buyer",
  page: true,
  params: { orderId: idOf("ord") },
  responses: {
    200: { description: "The tickets page", contentType: "text/html" },
    404: {
      description: "The same page for a wrong, missing or malformed token and an unknown or malformed order id",
      contentType: "text/html",
    },
  },
});

/**
 * Inline style only (the QR codes are inline SVG), and no script. The token is in the page's URL: no
 * referrer carries it elsewhere, and no cache keeps the page.
 */
const headers = (nonce: string) => ({
  "Content-Security-Policy": `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Robots-Tag": "noindex",
});

export const ticketsPages = new Routes().on(tickets, async (c) => {
  const linked = await linkedOrder(c.get("db"), c.req.param("orderId") ?? "", c.req.query("t") ?? null);
  const nonce = newNonce();
  if (!linked) return c.html(noTicketsPage(nonce), 404, headers(nonce));
  const order = orderView(linked.order, linked.tickets);
  return c.html(ticketsPage(nonce, order, eventView(linked.event, linked.tiers)), 200, headers(nonce));
});
