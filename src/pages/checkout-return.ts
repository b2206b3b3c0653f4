import { html } from "hono/html";
import { idPattern } from "../lib/ids";
import { operation, Routes } from "../routes/operation";

/**
 * Where Stripe returns a buyer whose shop gave no `successUrl`/`cancelUrl`: plain pages that say
 * what happened and how to get the tickets. The success URL goes to Stripe, so it carries no order
 * token: the page leads to the tickets page through a form that asks for it (docs/api.md, "The
 * tickets page").
 */
const page = (title: string, body: ReturnType<typeof html>) =>
  html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:.2rem}</style></head><body>${body}</body></html>`;

const ORDER_ID = idPattern("ord");

/** The way to the order's tickets page: its link needs the order token the shop got at checkout. */
const ticketsLink = (order: string) =>
  ORDER_ID.test(order)
    ? html`<form method="get" action="/tickets/${order}"><p><label for="t">Your order token (from checkout)</label><br>
<input id="t" name="t" required autocomplete="off" spellcheck="false" size="40" placeholder="ordtok_…">
<button type="submit">Show my tickets</button></p></form>
<p>The shop you bought from may also give you the link itself: <code>/tickets/${order}?t=&lt;order token&gt;</code>.</p>`
    : "";

const complete = operation({
  method: "get",
  path: "/checkout/complete",
  summary: "Where Stripe returns a buyer who paid",
  auth: "none",
  page: true,
  responses: { 200: { description: "An HTML page", contentType: "text/html" } },
});

const canceled = operation({
  method: "get",
  path: "/checkout/canceled",
  summary: "Where Stripe returns a buyer who cancelled",
  auth: "none",
  page: true,
  responses: { 200: { description: "An HTML page", contentType: "text/html" } },
});

export const checkoutPages = new Routes()
  .on(complete, (c) => {
    const order = c.req.query("order") ?? "";
    return c.html(
      page(
        "Payment received",
        html`<h1>Payment received</h1><p>Thank you. Your tickets are being issued for order <code>${order}</code>.</p>
${ticketsLink(order)}
<p>Or fetch them with <code>GET /v1/orders/${order}</code> and the order token returned at checkout.</p>`,
      ),
    );
  })
  .on(canceled, (c) =>
    c.html(
      page(
        "Checkout canceled",
        html`<h1>Checkout canceled</h1><p>No payment was taken. Your tickets stay held until the reservation expires.</p>`,
      ),
    ),
  );
