import { Hono } from "hono";
import { handleStripeEvent, verifyStripeEvent } from "../domain/payments/stripe-events";
import { auditContext } from "../middleware/context";

export const webhookRoutes = new Hono<{ Bindings: Env }>().post("/v1/webhooks/stripe", async (c) => {
  // The signature covers the exact bytes Stripe sent: verify the raw body before parsing anything.
  const event = await verifyStripeEvent(c.env, await c.req.text(), c.req.header("Stripe-Signature"));
  c.set("actor", { type: "stripe", id: event.id });
  await handleStripeEvent(c.env, c.get("db"), event, auditContext(c));
  return c.json({ received: true });
});
