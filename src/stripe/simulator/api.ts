/**
 * The part of Stripe's API the service uses, simulated for local development: create and expire
 * Checkout Sessions, create refunds. The real `stripe` client talks to it (see src/lib/stripe.ts),
 * so the request and response handling is the same code that talks to Stripe.
 */
import { readSession, type SimulatedSession, sessionId, stripeView } from "./sessions";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const invalid = (message: string, status = 400) => json({ error: { type: "invalid_request_error", message } }, status);

function createParams(form: URLSearchParams): SimulatedSession {
  const lines: SimulatedSession["lines"] = [];
  for (let i = 0; form.has(`line_items[${i}][quantity]`); i++) {
    lines.push({
      name: form.get(`line_items[${i}][price_data][product_data][name]`) ?? "Ticket",
      description: form.get(`line_items[${i}][price_data][product_data][description]`),
      quantity: Number(form.get(`line_items[${i}][quantity]`)),
      unit_amount: Number(form.get(`line_items[${i}][price_data][unit_amount]`)),
    });
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of form) {
    const m = key.match(/^metadata\[(.+)\]$/);
    if (m?.[1]) metadata[m[1]] = value;
  }
  return {
    amount_total: lines.reduce((sum, l) => sum + l.quantity * l.unit_amount, 0),
    currency: form.get("line_items[0][price_data][currency]") ?? "eur",
    client_reference_id: form.get("client_reference_id"),
    metadata,
    customer_email: form.get("customer_email"),
    success_url: form.get("success_url") ?? "",
    cancel_url: form.get("cancel_url") ?? "",
    expires_at: Number(form.get("expires_at") ?? 0),
    lines,
  };
}

export async function simulatedStripeApi(request: Request, env: Pick<Env, "APP_SECRET" | "SIMULATOR_ORIGIN">) {
  const url = new URL(request.url);
  const form = new URLSearchParams(await request.text());
  const origin = env.SIMULATOR_ORIGIN;
  if (request.method === "POST" && url.pathname === "/v1/checkout/sessions") {
    const session = createParams(form);
    if (session.lines.length === 0) return invalid("line_items is required");
    return json(stripeView(await sessionId(env.APP_SECRET, session), session, origin, "open"));
  }
  const expire = url.pathname.match(/^\/v1\/checkout\/sessions\/([^/]+)\/expire$/);
  if (request.method === "POST" && expire?.[1]) {
    const session = await readSession(env.APP_SECRET, expire[1]);
    if (!session) return invalid("No such checkout.session", 404);
    return json(stripeView(expire[1], session, origin, "expired"));
  }
  if (request.method === "POST" && url.pathname === "/v1/refunds") {
    return json({
      id: `re_sim_${crypto.randomUUID().slice(0, 12)}`,
      object: "refund",
      status: "succeeded",
      payment_intent: form.get("payment_intent"),
      amount: Number(form.get("amount") ?? 0),
    });
  }
  return invalid(`The simulator does not implement ${request.method} ${url.pathname}`, 404);
}
