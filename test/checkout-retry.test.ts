import { describe, expect, it, vi } from "vitest";
import { api, createEvent, reserve } from "./helpers";
import { useFakeStripe } from "./payments";

const stripe = useFakeStripe();

describe("a checkout whose Stripe answer was lost", () => {
  it("is retried later with the same parameters and converges on the session Stripe made", async () => {
    const event = await createEvent([{ capacity: 10, price: 2500 }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 2 }])).body;
    const checkout = (body: Record<string, unknown>) =>
      api("POST", `/v1/reservations/${reservation.id}/checkout`, { token: reservation.token, body });

    // Stripe makes the session, but the first request and the client's own retries never hear back.
    stripe.loseAnswers("/v1/checkout/sessions", 3);
    const lost = await checkout({ email: "ada@example.com", successUrl: "https://shop.example/thanks" });
    expect(lost.status).toBe(500);
    expect(stripe.sessions.size).toBe(1);

    // Minutes later the buyer tries again, with other return pages: the request is the first one, byte for byte.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3 * 60_000);
    const again = await checkout({ email: "ada@example.com", successUrl: "https://other.example/done" });
    expect(again.status).toBe(200);
    const [sessionId] = stripe.sessions.keys();
    expect(again.body).toMatchObject({
      status: "pending_payment",
      stripeSessionId: sessionId,
      checkoutUrl: `http://stripe.test/pay/${sessionId}`,
      amount: 5000,
    });
    const attempts = stripe.calls.filter((c) => c.path === "/v1/checkout/sessions");
    expect(attempts.length).toBe(4);
    expect(new Set(attempts.map((c) => c.params.toString())).size).toBe(1);
    expect(attempts[0]?.params.get("success_url")).toBe("https://shop.example/thanks");
    expect(stripe.sessions.size).toBe(1);

    const held = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(held.body.status).toBe("checkout");
  });

  it("that never reached Stripe is a new request minutes later, and its session still lives 30 minutes", async () => {
    const event = await createEvent([{ capacity: 10, price: 2500, holdSeconds: 600 }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const checkout = () =>
      api("POST", `/v1/reservations/${reservation.id}/checkout`, {
        token: reservation.token,
        body: { email: "ada@example.com" },
      });
    stripe.failBeforeStripe("/v1/checkout/sessions", 3); // the request and the client's two retries
    expect((await checkout()).status).toBe(500);
    expect(stripe.sessions.size).toBe(0);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 8 * 60_000); // the hold (10 minutes) still lives
    const again = await checkout();
    expect(again.status).toBe(200);
    expect(again.body.stripeSessionId).toMatch(/^cs_test_/);
    const [session] = stripe.sessions.values();
    expect(session?.expires_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 30 * 60);
  });

  it("the fake Stripe refuses a key replayed with other parameters, as Stripe does", async () => {
    const res = await fetch("http://stripe.test/v1/refunds", {
      method: "POST",
      headers: { "Idempotency-Key": "k1", "Content-Type": "application/x-www-form-urlencoded" },
      body: "payment_intent=pi_1&amount=100",
    });
    expect(res.status).toBe(200);
    const other = await fetch("http://stripe.test/v1/refunds", {
      method: "POST",
      headers: { "Idempotency-Key": "k1", "Content-Type": "application/x-www-form-urlencoded" },
      body: "payment_intent=pi_1&amount=200",
    });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: { type: string } }).error.type).toBe("idempotency_error");
  });
});
