/** Shared steps of the payment tests: a fake Stripe per test, an order at checkout, a lapsed hold. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";
import { type FakeSession, installFakeStripe, stripeEvent } from "./fake-stripe";
import { api, createEvent, reserve } from "./helpers";

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
  items: ({ tierId: string; quantity: number } | { tierId: string; seats: string[] })[],
  email = "buyer@example.com",
) {
  const reservation = (await reserve(eventId, items)).body;
  const opened = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
    token: reservation.token,
    body: { email },
  });
  if (opened.status !== 201) throw new Error(`checkout: ${opened.status} ${JSON.stringify(opened.body)}`);
  const order = opened.body;
  return { reservation, order, session: stripe.session(order.stripeSessionId) };
}

/**
 * An event of a standing tier (10 at 25.00) and a balcony (seats A1, A2 at 40.00), in Paris, checked out for
 * two standing tickets and seat A2: what the tickets page and the ticket e-mail show.
 */
export async function standingAndSeatA2(stripe: FakeStripe, name: string, email?: string) {
  const event = await createEvent(
    [
      { name: "Standing", capacity: 10, price: 2500 },
      { name: "Balcony", seats: ["A1", "A2"], price: 4000 },
    ],
    { name, startsAt: "2027-06-01T19:30:00.000Z", timezone: "Europe/Paris" },
  );
  const [standing, balcony] = event.tiers.map((t) => t.id) as [string, string];
  const items = [
    { tierId: standing, quantity: 2 },
    { tierId: balcony, seats: ["A2"] },
  ];
  return { event, ...(await checkedOutOrder(stripe, event.id, items, email)) };
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
