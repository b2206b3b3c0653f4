import { html } from "hono/html";
import { operation, Routes } from "../routes/operation";

/**
 * Where Stripe returns a buyer whose shop gave no `successUrl`/`cancelUrl`: plain pages that say
 * what happened and how to get the tickets (with the order token, which the shop holds).
 */
const page = (title: string, body: ReturnType<typeof html>) =>
  html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:.2rem}</style></head><body>${body}</body></html>`;

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
<p>Fetch them with <code>GET /v1/orders/${order}</code> and the order token returned at checkout.</p>`,
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
