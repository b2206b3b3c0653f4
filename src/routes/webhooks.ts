import { handleStripeEvent, verifyStripeEvent } from "../domain/payments/stripe-events";
import { auditContext } from "../middleware/context";
import { Received } from "./bodies";
import { operation, Routes } from "./operation";

const stripe = operation({
  method: "post",
  path: "/v1/webhooks/stripe",
  summary: "Stripe's events, signed with Stripe-Signature",
  auth: "stripe",
  responses: { 200: { description: "Processed, processed before, or of a type not handled", body: Received } },
  errors: ["WEBHOOK_SIGNATURE_INVALID", "PAYLOAD_TOO_LARGE"],
});

export const webhookRoutes = new Routes().on(stripe, async (c) => {
  // The signature covers the exact bytes Stripe sent: verify the raw body before parsing anything.
  const event = await verifyStripeEvent(c.env, await c.req.text(), c.req.header("Stripe-Signature"));
  c.set("actor", { type: "stripe", id: event.id });
  await handleStripeEvent(c.env, c.get("db"), event, auditContext(c));
  return c.json({ received: true });
});
