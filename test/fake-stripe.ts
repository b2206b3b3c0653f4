/**
 * A fake Stripe API for tests: requests the service makes to http://stripe.test are answered here
 * (the Worker and its objects share the test's isolate, so a fetch spy sees them) and recorded, with
 * their form parameters and Idempotency-Key. Webhook events are signed as Stripe signs them.
 */
import { exports } from "cloudflare:workers";
import Stripe from "stripe";
import { vi } from "vitest";

export const WEBHOOK_SECRET = "whsec_test_secret";

export interface StripeCall {
  method: string;
  path: string;
  params: URLSearchParams;
  idempotencyKey: string | null;
}

export interface FakeSession {
  id: string;
  object: "checkout.session";
  url: string;
  status: "open" | "complete" | "expired";
  payment_status: "paid" | "unpaid" | "no_payment_required";
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  payment_intent: string;
  expires_at: number;
}

export function installFakeStripe() {
  const calls: StripeCall[] = [];
  const sessions = new Map<string, FakeSession>();
  const byKey = new Map<string, Response>();
  const realFetch = globalThis.fetch;
  let counter = 0;

  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

  function createSession(params: URLSearchParams): FakeSession {
    counter++;
    let amount = 0;
    for (let i = 0; params.has(`line_items[${i}][quantity]`); i++) {
      amount +=
        Number(params.get(`line_items[${i}][quantity]`)) *
        Number(params.get(`line_items[${i}][price_data][unit_amount]`));
    }
    const metadata: Record<string, string> = {};
    for (const [key, value] of params) {
      const m = key.match(/^metadata\[(.+)\]$/);
      if (m?.[1]) metadata[m[1]] = value;
    }
    const session: FakeSession = {
      id: `cs_test_${counter}`,
      object: "checkout.session",
      url: `http://stripe.test/pay/cs_test_${counter}`,
      status: "open",
      payment_status: "unpaid",
      amount_total: amount,
      currency: params.get("line_items[0][price_data][currency]") ?? "eur",
      client_reference_id: params.get("client_reference_id"),
      metadata,
      payment_intent: `pi_test_${counter}`,
      expires_at: Number(params.get("expires_at")),
    };
    sessions.set(session.id, session);
    return session;
  }

  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.host !== "stripe.test") return realFetch(input, init);
    const params = new URLSearchParams(request.method === "GET" ? url.search : await request.text());
    const idempotencyKey = request.headers.get("Idempotency-Key");
    calls.push({ method: request.method, path: url.pathname, params, idempotencyKey });
    const replayKey = idempotencyKey ? `${request.method} ${url.pathname} ${idempotencyKey}` : null;
    const replayed = replayKey ? byKey.get(replayKey) : undefined;
    if (replayed) return replayed.clone();

    let response: Response;
    const expire = url.pathname.match(/^\/v1\/checkout\/sessions\/([^/]+)\/expire$/);
    if (request.method === "POST" && url.pathname === "/v1/checkout/sessions") {
      response = json(createSession(params));
    } else if (request.method === "POST" && expire?.[1]) {
      const session = sessions.get(expire[1]);
      if (!session) return json({ error: { type: "invalid_request_error", message: "No such session" } }, 404);
      if (session.status === "open") session.status = "expired";
      response = json(session);
    } else if (request.method === "POST" && url.pathname === "/v1/refunds") {
      response = json({
        id: `re_test_${++counter}`,
        object: "refund",
        status: "succeeded",
        amount: Number(params.get("amount") ?? 0),
      });
    } else {
      response = json(
        { error: { type: "invalid_request_error", message: `Unhandled ${request.method} ${url.pathname}` } },
        404,
      );
    }
    if (replayKey) byKey.set(replayKey, response.clone());
    return response;
  });

  return {
    calls,
    sessions,
    session: (id: string) => {
      const s = sessions.get(id);
      if (!s) throw new Error(`no fake session ${id}`);
      return s;
    },
    restore: () => spy.mockRestore(),
  };
}

const signer = new Stripe("sk_test_fake");
const cryptoProvider = Stripe.createSubtleCryptoProvider();
let eventCounter = 0;

export function stripeEvent(type: string, object: unknown, id = `evt_test_${++eventCounter}`) {
  return {
    id,
    object: "event",
    type,
    api_version: "2026-01-01",
    created: Math.floor(Date.now() / 1000),
    data: { object },
  };
}

export async function signature(payload: string, options: { secret?: string; timestamp?: number } = {}) {
  return signer.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    cryptoProvider,
  });
}

/** Delivers an event to the webhook route, signed (or with the given raw signature header). */
export async function deliver(event: unknown, options: { signature?: string | null; body?: string } = {}) {
  const body = options.body ?? JSON.stringify(event);
  const sig = options.signature === undefined ? await signature(JSON.stringify(event)) : options.signature;
  const res = await exports.default.fetch("http://boxoffice.test/v1/webhooks/stripe", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(sig === null ? {} : { "Stripe-Signature": sig }) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
