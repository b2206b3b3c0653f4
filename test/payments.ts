/** Shared steps of the payment tests: a fake Stripe per test, an order at checkout, a lapsed hold. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";
import { type FakeSession, installFakeStripe, stripeEvent } from "./fake-stripe";
import { api, reserve } from "./helpers";

export type FakeStripe = ReturnType<typeof installFakeStripe>;

/** Installs a fresh fake Stripe before each test of the file and removes it (and fake clocks) after. */
export function useFakeStripe(): FakeStripe {
  let current: FakeStripe | null = null;
  beforeEach(() => {
    current = installFakeStripe();
  });
  afterEach(() => {
    current?.restore();
    current = null;
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  const live = (): FakeStripe => {
    if (!current) throw new Error("the fake Stripe is only there during a test");
    return current;
  };
  return {
    get calls() {
      return live().calls;
    },
    get sessions() {
      return live().sessions;
    },
    get refunds() {
      return live().refunds;
    },
    dashboardRefund: (paymentIntent, amount) => live().dashboardRefund(paymentIntent, amount),
    refuseRefundsWith: (message) => live().refuseRefundsWith(message),
    loseAnswers: (path, count) => live().loseAnswers(path, count),
    failBeforeStripe: (path, count) => live().failBeforeStripe(path, count),
    session: (id) => live().session(id),
    restore: () => live().restore(),
  };
}

/** Reserves `items` and checks out: the order and its (fake) Stripe session. */
export async function checkedOutOrder(
  stripe: FakeStripe,
  eventId: string,
  items: { tierId: string; quantity: number }[],
) {
  const reservation = (await reserve(eventId, items)).body;
  const order = (
    await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "buyer@example.com" },
    })
  ).body;
  return { reservation, order, session: stripe.session(order.stripeSessionId) };
}

/** The holds lapse: the clock passes their expiry and each tier's alarm runs. */
export async function lapse(tierIds: string[], ms = 61_000) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
  for (const id of tierIds) await runDurableObjectAlarm(env.TIER_INVENTORY.getByName(id));
}

/** Stripe's event for a charge of `amount` of which `refunded` is refunded so far. */
export const chargeRefundedEvent = (paymentIntent: string, refunded: number, amount = refunded) =>
  stripeEvent("charge.refunded", {
    id: `ch_${paymentIntent}`,
    object: "charge",
    payment_intent: paymentIntent,
    amount,
    amount_refunded: refunded,
    refunded: refunded === amount,
    currency: "eur",
  });

export const completedEvent = (session: FakeSession, overrides: Partial<FakeSession> = {}) =>
  stripeEvent("checkout.session.completed", { ...session, status: "complete", payment_status: "paid", ...overrides });
