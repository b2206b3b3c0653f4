/**
 * A fake Stripe API for tests: requests the service makes to http://stripe.test are answered here
 * (the Worker and its objects share the test's isolate, so a fetch spy sees them) and recorded, with
 * their form parameters and Idempotency-Key. Webhook events are signed as Stripe signs them.
 */
import { exports } from "cloudflare:workers";
import Stripe from "stripe";
import { vi } from "vitest";
import { expectDocumented } from "./openapi-check";

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

export interface FakeRefund {
  id: string;
  object: "refund";
  status: "succeeded";
  created: number;
  amount: number;
  currency: string;
  payment_intent: string | null;
  metadata: Record<string, string>;
}

/** Stripe's form encoding of `metadata[key]=value` back into an object. */
function metadataOf(params: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of params) {
    const m = key.match(/^metadata\[(.+)\]$/);
    if (m?.[1]) metadata[m[1]] = value;
  }
  return metadata;
}

/** Ids stay unique across the tests of a file, whose D1 outlives each test (as Stripe's ids are unique). */
let counter = 0;

export function installFakeStripe() {
  const calls: StripeCall[] = [];
  const sessions = new Map<string, FakeSession>();
  const refunds: FakeRefund[] = [];
  /** When set, refunds are refused with this Stripe error message (a permanent refusal). */
  let refuseRefunds: string | null = null;
  /** Answers by idempotency key, replayed as Stripe replays them, with the parameters they were made for. */
  const byKey = new Map<string, { status: number; body: string; params: string }>();
  /** How many more answers to a path are lost after Stripe acted on the request (the connection drops). */
  const losing = new Map<string, number>();
  /** How many more requests to a path fail before they reach Stripe (nothing is done, nothing stored). */
  const failing = new Map<string, number>();
  const realFetch = globalThis.fetch;

  function loseOrAnswer(path: string, response: Response): Response {
    const lost = losing.get(path) ?? 0;
    if (lost === 0) return response;
    losing.set(path, lost - 1);
    throw new TypeError("network connection lost");
  }
  const answered = (status: number, body: string) =>
    new Response(body, { status, headers: { "Content-Type": "application/json" } });
  /** The answer being made, kept (synchronously, so a concurrent retry sees it) for its idempotency key. */
  let answer = { status: 200, body: "" };
  const json = (body: unknown, status = 200) => {
    answer = { status, body: JSON.stringify(body) };
    return answered(status, answer.body);
  };

  function createSession(params: URLSearchParams): FakeSession {
    counter++;
    let amount = 0;
    for (let i = 0; params.has(`line_items[${i}][quantity]`); i++) {
      amount +=
        Number(params.get(`line_items[${i}][quantity]`)) *
        Number(params.get(`line_items[${i}][price_data][unit_amount]`));
    }
    const metadata = metadataOf(params);
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

  /** Stripe refunds at most what was paid: the reason a refund past that is refused, else null. */
  function overRefund(params: URLSearchParams): string | null {
    const intent = params.get("payment_intent");
    const paid = [...sessions.values()].find((x) => x.payment_intent === intent)?.amount_total;
    if (paid === undefined) return null;
    const refunded = refunds.filter((r) => r.payment_intent === intent).reduce((n, r) => n + r.amount, 0);
    return refunded + Number(params.get("amount") ?? paid) > paid ? "Charge has already been refunded." : null;
  }

  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.host !== "stripe.test") return realFetch(input, init);
    const failed = failing.get(url.pathname) ?? 0;
    if (failed > 0) {
      failing.set(url.pathname, failed - 1);
      throw new TypeError("connection refused");
    }
    const params = new URLSearchParams(request.method === "GET" ? url.search : await request.text());
    const idempotencyKey = request.headers.get("Idempotency-Key");
    calls.push({ method: request.method, path: url.pathname, params, idempotencyKey });
    const replayKey = idempotencyKey ? `${request.method} ${url.pathname} ${idempotencyKey}` : null;
    const replayed = replayKey ? byKey.get(replayKey) : undefined;
    if (replayed && replayed.params !== params.toString()) {
      // Stripe's rule: a key replayed with other parameters is refused, whatever the first answer was.
      return json(
        {
          error: {
            type: "idempotency_error",
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        },
        400,
      );
    }
    if (replayed) return loseOrAnswer(url.pathname, answered(replayed.status, replayed.body));

    let response: Response;
    const expire = url.pathname.match(/^\/v1\/checkout\/sessions\/([^/]+)\/expire$/);
    if (
      request.method === "POST" &&
      url.pathname === "/v1/checkout/sessions" &&
      Number(params.get("expires_at")) < Math.floor(Date.now() / 1000) + 30 * 60
    ) {
      // Stripe's rule: a session lives at least 30 minutes from its creation.
      response = json(
        {
          error: {
            type: "invalid_request_error",
            param: "expires_at",
            message: "The `expires_at` timestamp must be at least 30 minutes from the Checkout Session's creation.",
          },
        },
        400,
      );
    } else if (request.method === "POST" && url.pathname === "/v1/checkout/sessions") {
      response = json(createSession(params));
    } else if (request.method === "POST" && expire?.[1]) {
      const session = sessions.get(expire[1]);
      if (!session) return json({ error: { type: "invalid_request_error", message: "No such session" } }, 404);
      if (session.status === "open") session.status = "expired";
      response = json(session);
    } else if (request.method === "POST" && url.pathname === "/v1/refunds" && refuseRefunds !== null) {
      response = json({ error: { type: "invalid_request_error", message: refuseRefunds } }, 400);
    } else if (request.method === "POST" && url.pathname === "/v1/refunds" && overRefund(params)) {
      response = json(
        { error: { type: "invalid_request_error", code: "charge_already_refunded", message: overRefund(params) } },
        400,
      );
    } else if (request.method === "POST" && url.pathname === "/v1/refunds") {
      const refund: FakeRefund = {
        id: `re_test_${++counter}`,
        object: "refund",
        status: "succeeded",
        created: counter,
        amount: Number(params.get("amount") ?? 0),
        currency: "eur",
        payment_intent: params.get("payment_intent"),
        metadata: metadataOf(params),
      };
      refunds.push(refund);
      response = json(refund);
    } else if (request.method === "GET" && url.pathname === "/v1/refunds") {
      const intent = params.get("payment_intent");
      // Newest first, as Stripe lists them.
      const data = refunds.filter((r) => intent === null || r.payment_intent === intent).reverse();
      response = json({ object: "list", data, has_more: false, url: "/v1/refunds" });
    } else {
      response = json(
        { error: { type: "invalid_request_error", message: `Unhandled ${request.method} ${url.pathname}` } },
        404,
      );
    }
    if (replayKey) byKey.set(replayKey, { ...answer, params: params.toString() });
    return loseOrAnswer(url.pathname, response);
  });

  return {
    calls,
    sessions,
    refunds,
    /** A refund made in Stripe's dashboard (no metadata of ours). */
    dashboardRefund: (paymentIntent: string, amount: number) => {
      const refund: FakeRefund = {
        id: `re_test_${++counter}`,
        object: "refund",
        status: "succeeded",
        created: counter,
        amount,
        currency: "eur",
        payment_intent: paymentIntent,
        metadata: {},
      };
      refunds.push(refund);
      return refund;
    },
    refuseRefundsWith: (message: string | null) => {
      refuseRefunds = message;
    },
    /** The next `count` requests to `path` fail before they reach Stripe (`Infinity`: until set to 0). */
    failBeforeStripe: (path: string, count: number) => {
      failing.set(path, count);
    },
    /** The next `count` answers to `path` are lost after Stripe acted on their requests. */
    loseAnswers: (path: string, count: number) => {
      losing.set(path, count);
    },
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
  const url = "http://boxoffice.test/v1/webhooks/stripe";
  const res = await exports.default.fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(sig === null ? {} : { "Stripe-Signature": sig }) },
    body,
  });
  const answer = (await res.json()) as Record<string, unknown>;
  await expectDocumented("POST", url, res.status, res.headers.get("Content-Type") ?? "", answer);
  return { status: res.status, body: answer };
}
