/**
 * The simulator's hosted checkout page (STRIPE_MODE=simulator only). Pay signs a
 * `checkout.session.completed` event with the webhook secret, exactly as Stripe signs it, and
 * delivers it to /v1/webhooks/stripe as an HTTP request, so it goes through the real route.
 */
import { type ExecutionContext, Hono } from "hono";
import Stripe from "stripe";
import { readSession, type SimulatedSession, stripeView } from "../stripe/simulator/sessions";

export type Deliver = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

const signer = Stripe.createSubtleCryptoProvider();

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch);

const money = (amount: number, currency: string) =>
  new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);

function page(id: string, s: SimulatedSession): string {
  const lines = s.lines
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.name)}${l.description ? `<br><small>${escapeHtml(l.description)}</small>` : ""}</td>` +
        `<td>${l.quantity} × ${money(l.unit_amount, s.currency)}</td></tr>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Pay — Stripe simulator</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a2e}
table{width:100%;border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #ddd}td+td{text-align:right}
.total{font-weight:600;font-size:1.2rem}.note{color:#666;font-size:.9rem}button{font:inherit;padding:.7rem 1.4rem;
border-radius:.4rem;border:0;cursor:pointer;margin-right:.5rem}.pay{background:#635bff;color:#fff}.cancel{background:#eee}</style>
</head><body><p class="note">Stripe simulator: no real payment is made.</p>
<h1>Pay for your tickets</h1><table>${lines}<tr class="total"><td>Total</td><td>${money(s.amount_total, s.currency)}</td></tr></table>
<p>${escapeHtml(s.customer_email ?? "")}</p>
<form method="post" action="/_simulator/checkout/${id}/pay" style="display:inline"><button class="pay">Pay ${money(s.amount_total, s.currency)}</button></form>
<form method="post" action="/_simulator/checkout/${id}/cancel" style="display:inline"><button class="cancel">Cancel</button></form>
</body></html>`;
}

export function simulatorRoutes(deliver: Deliver) {
  return new Hono<{ Bindings: Env }>()
    .use("/_simulator/*", async (c, next) => {
      if (c.env.STRIPE_MODE !== "simulator") return c.notFound();
      await next();
    })
    .get("/_simulator/checkout/:id", async (c) => {
      const session = await readSession(c.env.APP_SECRET, c.req.param("id"));
      if (!session) return c.notFound();
      return c.html(page(c.req.param("id"), session));
    })
    .post("/_simulator/checkout/:id/pay", async (c) => {
      const id = c.req.param("id");
      const session = await readSession(c.env.APP_SECRET, id);
      if (!session) return c.notFound();
      const event = {
        id: `evt_sim_${crypto.randomUUID().replaceAll("-", "")}`,
        object: "event",
        type: "checkout.session.completed",
        created: Math.floor(Date.now() / 1000),
        data: { object: stripeView(id, session, new URL(c.req.url).origin, "complete") },
      };
      const payload = JSON.stringify(event);
      const signature = await new Stripe(c.env.STRIPE_SECRET_KEY).webhooks.generateTestHeaderStringAsync({
        payload,
        secret: c.env.STRIPE_WEBHOOK_SECRET,
        cryptoProvider: signer,
      });
      const webhook = new Request(new URL("/v1/webhooks/stripe", c.req.url), {
        method: "POST",
        headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
        body: payload,
      });
      const answer = await deliver(webhook, c.env, c.executionCtx);
      if (!answer.ok) return c.text(`The webhook answered ${answer.status}: ${await answer.text()}`, 502);
      return c.redirect(session.success_url, 303);
    })
    .post("/_simulator/checkout/:id/cancel", async (c) => {
      const session = await readSession(c.env.APP_SECRET, c.req.param("id"));
      if (!session) return c.notFound();
      return c.redirect(session.cancel_url, 303);
    });
}
