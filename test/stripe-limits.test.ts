/** Issue 10, item 5: what Stripe would refuse is refused when the price is set and at checkout (src/lib/stripe-limits.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  amountProblem,
  CHARGE_LIMITS,
  chargeProblems,
  isStripeCurrency,
  STRIPE_MAX_AMOUNT,
} from "../src/lib/stripe-limits";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";
import { useFakeStripe } from "./payments";

const stripe = useFakeStripe();

const newEvent = (fields: Record<string, unknown>) =>
  api("POST", "/v1/events", {
    token: ADMIN_TOKEN,
    body: { name: "Limits night", startsAt: "2027-06-01T19:00:00.000Z", currency: "eur", tiers: [], ...fields },
  });
const tier = (price: number) => ({ name: "Floor", price, capacity: 10 });
const pathsOf = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path);

async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("the table (src/lib/stripe-limits.ts)", () => {
  it("knows Stripe's presentment currencies and refuses others, three-decimal ones included", () => {
    for (const c of ["eur", "usd", "gbp", "jpy", "krw", "idr", "isk", "ugx"]) expect(isStripeCurrency(c)).toBe(true);
    for (const c of ["bhd", "kwd", "jod", "omr", "tnd", "irr", "EUR", "xxq"]) expect(isStripeCurrency(c)).toBe(false);
    expect(CHARGE_LIMITS.size).toBe(134);
  });

  it("minimums are in minor units, zero-decimal currencies in whole units", () => {
    expect(CHARGE_LIMITS.get("eur")).toEqual({ min: 50, max: STRIPE_MAX_AMOUNT, step: 1, decimals: 2 });
    expect(CHARGE_LIMITS.get("usd")?.min).toBe(50);
    expect(CHARGE_LIMITS.get("gbp")?.min).toBe(30);
    expect(CHARGE_LIMITS.get("huf")?.min).toBe(17500);
    expect(CHARGE_LIMITS.get("jpy")).toEqual({ min: 50, max: STRIPE_MAX_AMOUNT, step: 1, decimals: 0 });
    expect(CHARGE_LIMITS.get("isk")).toEqual({ min: 100, max: STRIPE_MAX_AMOUNT, step: 100, decimals: 2 });
    expect(CHARGE_LIMITS.get("idr")?.max).toBe(999_999_999_999);
    expect(CHARGE_LIMITS.get("inr")?.max).toBe(999_999_999);
  });

  it("0 is free; a paid amount is at least the minimum, at most the maximum, in whole units", () => {
    expect(amountProblem("eur", 0)).toBeNull();
    // Free is never charged: not even a currency Stripe does not take can make it a problem.
    expect(amountProblem("xts", 0)).toBeNull();
    expect(amountProblem("eur", 49)).toMatch(/at least 50 \(0\.50 EUR/);
    expect(amountProblem("eur", 50)).toBeNull();
    expect(amountProblem("eur", STRIPE_MAX_AMOUNT)).toBeNull();
    expect(amountProblem("eur", STRIPE_MAX_AMOUNT + 1)).toMatch(/at most 99999999 \(999999\.99 EUR/);
    expect(amountProblem("jpy", 49)).toMatch(/at least 50 \(50 JPY/);
    expect(amountProblem("idr", 500_000_000)).toBeNull();
    expect(amountProblem("isk", 150)).toMatch(/multiple of 100/);
    expect(amountProblem("isk", 200)).toBeNull();
    expect(amountProblem("bhd", 100)).toMatch(/not a currency Stripe/);
  });

  it("an order: each line at most the maximum, the total between minimum and maximum; a free order passes", () => {
    expect(chargeProblems("eur", [{ quantity: 2, unitPrice: 0 }])).toEqual([]);
    expect(chargeProblems("xxq", [{ quantity: 2, unitPrice: 0 }])).toEqual([]);
    expect(
      chargeProblems("eur", [
        { quantity: 1, unitPrice: 10 },
        { quantity: 1, unitPrice: 2500 },
      ]),
    ).toEqual([]);
    expect(pathsOf({ errors: chargeProblems("eur", [{ quantity: 2, unitPrice: 60_000_000 }]) })).toEqual(["amount"]);
    expect(pathsOf({ errors: chargeProblems("eur", [{ quantity: 4, unitPrice: 10 }]) })).toEqual(["amount"]);
    expect(
      pathsOf({
        errors: chargeProblems("eur", [
          { quantity: 1, unitPrice: 2500 },
          { quantity: 1, unitPrice: STRIPE_MAX_AMOUNT + 1 },
        ]),
      }),
    ).toEqual(["items.1", "amount"]);
    expect(pathsOf({ errors: chargeProblems("bhd", [{ quantity: 1, unitPrice: 5000 }]) })).toEqual(["currency"]);
  });
});

describe("creating an event", () => {
  it("refuses a currency Stripe does not support, naming currency, and creates nothing", async () => {
    const events = await count("SELECT COUNT(*) AS n FROM events");
    const audit = await count("SELECT COUNT(*) AS n FROM audit_log");
    for (const currency of ["bhd", "kwd", "irr"]) {
      const res = await newEvent({ currency, tiers: [tier(2500)] });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("INVALID_INPUT");
      expect(res.body.errors).toEqual([{ path: "currency", message: expect.stringContaining("Stripe") }]);
    }
    expect(await count("SELECT COUNT(*) AS n FROM events")).toBe(events);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log")).toBe(audit);
    expect(await count("SELECT COUNT(*) AS n FROM tiers WHERE price = 2500 AND name = 'Floor'")).toBe(0);
  });

  it("refuses a price above Stripe's maximum, naming tiers.<i>.price; the maximum itself is accepted", async () => {
    const res = await newEvent({ tiers: [tier(2500), tier(STRIPE_MAX_AMOUNT + 1)] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_INPUT");
    expect(pathsOf(res.body)).toEqual(["tiers.1.price"]);
    expect(res.body.errors[0].message).toMatch(/at most 99999999/);
    expect((await newEvent({ tiers: [tier(STRIPE_MAX_AMOUNT)] })).status).toBe(201);
  });

  it("refuses a paid price below the currency's minimum: eur 49 refused, 50 accepted", async () => {
    const refused = await newEvent({ tiers: [tier(49)] });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe("INVALID_INPUT");
    expect(pathsOf(refused.body)).toEqual(["tiers.0.price"]);
    expect(refused.body.errors[0].message).toMatch(/at least 50 \(0\.50 EUR/);
    const accepted = await newEvent({ tiers: [tier(50)] });
    expect(accepted.status).toBe(201);
    expect(accepted.body.tiers[0].price).toBe(50);
  });

  it("a zero-decimal currency's minimum is in whole units: jpy 49 refused, 50 accepted", async () => {
    const refused = await newEvent({ currency: "jpy", tiers: [tier(49)] });
    expect(refused.status).toBe(400);
    expect(pathsOf(refused.body)).toEqual(["tiers.0.price"]);
    expect(refused.body.errors[0].message).toMatch(/at least 50 \(50 JPY/);
    expect((await newEvent({ currency: "jpy", tiers: [tier(50)] })).status).toBe(201);
  });

  it("accepts a free tier (0) in any supported currency", async () => {
    for (const currency of ["eur", "jpy", "huf"]) {
      const res = await newEvent({ currency, tiers: [tier(0)] });
      expect(res.status).toBe(201);
      expect(res.body.tiers[0].price).toBe(0);
    }
  });
});

describe("adding and changing a tier", () => {
  it("a new tier below the event currency's minimum is refused, naming price, and not added", async () => {
    const event = await createEvent([{ capacity: 5 }], { currency: "gbp" });
    const add = (price: number) =>
      api("POST", `/v1/events/${event.id}/tiers`, { token: ADMIN_TOKEN, body: { name: "Late", price, capacity: 5 } });
    const refused = await add(29);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe("INVALID_INPUT");
    expect(refused.body.errors).toEqual([{ path: "price", message: expect.stringMatching(/at least 30 \(0\.30 GBP/) }]);
    const tooMuch = await add(STRIPE_MAX_AMOUNT + 1);
    expect(tooMuch.status).toBe(400);
    expect(pathsOf(tooMuch.body)).toEqual(["price"]);
    expect((await api("GET", `/v1/events/${event.id}`)).body.tiers).toHaveLength(1);
    expect((await add(30)).status).toBe(201);
    expect((await add(0)).status).toBe(201);
  });

  it("PATCH to a price below the minimum (or above the maximum) is refused, naming price; the tier is unchanged", async () => {
    const event = await createEvent([{ capacity: 5, price: 2500 }]);
    const tierId = event.tiers[0]?.id as string;
    const patch = (price: number) => api("PATCH", `/v1/tiers/${tierId}`, { token: ADMIN_TOKEN, body: { price } });
    for (const price of [1, 49, STRIPE_MAX_AMOUNT + 1]) {
      const res = await patch(price);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("INVALID_INPUT");
      expect(pathsOf(res.body)).toEqual(["price"]);
    }
    const read = await api("GET", `/v1/events/${event.id}`);
    expect(read.body.tiers[0]).toMatchObject({ id: tierId, price: 2500 });
    const availability = await api("GET", `/v1/events/${event.id}/availability`);
    expect(availability.body.tiers[0].price).toBe(2500);
    expect((await patch(50)).body.price).toBe(50);
    expect((await patch(0)).body.price).toBe(0);
  });
});

describe("checkout", () => {
  it("a total above Stripe's maximum is 400 naming amount, with no Stripe call; the reservation stays active", async () => {
    const event = await createEvent([{ capacity: 5, price: STRIPE_MAX_AMOUNT }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 2 }])).body;
    const res = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "big@example.com" },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_INPUT");
    expect(res.body.errors).toEqual([
      { path: "amount", message: expect.stringMatching(/total of 199999998 must be at most 99999999/) },
    ]);
    expect(stripe.calls).toHaveLength(0);
    const read = await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe("active");
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE reservation_id = ?", reservation.id)).toBe(0);

    // One ticket is within the maximum: the same reservation's tier sells it as usual.
    const one = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const ok = await api("POST", `/v1/reservations/${one.id}/checkout`, {
      token: one.token,
      body: { email: "big@example.com" },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.amount).toBe(STRIPE_MAX_AMOUNT);
  });

  it("a tier whose stored price Stripe would refuse (set before this rule) is refused at checkout, naming it", async () => {
    const event = await createEvent([{ capacity: 5, price: 2500 }]);
    const tierId = event.tiers[0]?.id as string;
    await env.DB.prepare("UPDATE tiers SET price = ? WHERE id = ?")
      .bind(STRIPE_MAX_AMOUNT + 1, tierId)
      .run();
    const reservation = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const res = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "old@example.com" },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_INPUT");
    expect(pathsOf(res.body)).toEqual(["items.0", "amount"]);
    expect(stripe.calls).toHaveLength(0);
    expect((await api("GET", `/v1/reservations/${reservation.id}`, { token: reservation.token })).body.status).toBe(
      "active",
    );
  });
});
