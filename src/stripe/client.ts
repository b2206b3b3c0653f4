/**
 * The Stripe client: the `stripe` package's Worker build (fetch client, SubtleCrypto webhook
 * verification). `STRIPE_API_BASE` points it at another Stripe-compatible API (the local simulator,
 * a fake in tests and load runs); empty means Stripe itself. `STRIPE_MODE=simulator` (local development
 * only) sends the client's requests to the in-process simulator instead.
 */
import Stripe from "stripe";
import { simulatedStripeApi } from "./simulator/api";

export type StripeEnv = Pick<
  Env,
  "STRIPE_SECRET_KEY" | "STRIPE_API_BASE" | "STRIPE_MODE" | "APP_SECRET" | "SIMULATOR_ORIGIN"
>;

const clients = new Map<string, Stripe>();

export function stripeClient(env: StripeEnv): Stripe {
  const cacheKey = `${env.STRIPE_MODE}\n${env.STRIPE_API_BASE}\n${env.STRIPE_SECRET_KEY}`;
  let client = clients.get(cacheKey);
  if (!client && env.STRIPE_MODE === "simulator") {
    // Local development: the same client, talking to the in-process simulator instead of the network.
    client = new Stripe(env.STRIPE_SECRET_KEY, {
      httpClient: Stripe.createFetchHttpClient((input, init) => simulatedStripeApi(new Request(input, init), env)),
      host: "stripe-simulator.local",
      maxNetworkRetries: 0,
    });
    clients.set(cacheKey, client);
  }
  if (!client) {
    const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : null;
    client = new Stripe(env.STRIPE_SECRET_KEY, {
      // Looked up per call, not captured once, so the platform's (or a test's) fetch is the one used.
      httpClient: Stripe.createFetchHttpClient((input, init) => fetch(input, init)),
      maxNetworkRetries: 2,
      ...(base
        ? {
            host: base.hostname,
            port: base.port || (base.protocol === "https:" ? 443 : 80),
            protocol: base.protocol === "http:" ? "http" : "https",
          }
        : {}),
    });
    clients.set(cacheKey, client);
  }
  return client;
}

export const webhookCrypto = Stripe.createSubtleCryptoProvider();
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Stripe said no for a reason a retry cannot change (as opposed to a network fault, 429 or 5xx). */
export function isPermanentStripeError(error: unknown): boolean {
  const type = (error as Stripe.errors.StripeError | undefined)?.type;
  return type === "StripeInvalidRequestError" || type === "StripeCardError" || type === "StripePermissionError";
}

export type { Stripe };
