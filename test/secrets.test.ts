/**
 * Secrets (tokens, their hashes, MACs) are compared in constant time, through `secretsEqual`: the
 * checks below watch `crypto.subtle.timingSafeEqual` (the Worker runs in this isolate) and look for
 * the very comparison `secretsEqual` makes of the presented and the stored value.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { secretsEqual, sha256Hex } from "../src/lib/ids";
import { readSession, sessionId } from "../src/stripe/simulator/sessions";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const watch = () => vi.spyOn(crypto.subtle, "timingSafeEqual");
type Watched = ReturnType<typeof watch>;

const hex = (view: ArrayBufferView) =>
  [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
const comparisons = (spy: Watched) =>
  spy.mock.calls.map(([a, b]) => `${hex(a as ArrayBufferView)}/${hex(b as ArrayBufferView)}`);

/** What `secretsEqual(a, b)` hands to timingSafeEqual, as seen through `spy`. */
async function comparisonOf(spy: Watched, a: string, b: string): Promise<string> {
  const before = spy.mock.calls.length;
  await secretsEqual(a, b);
  const made = comparisons(spy).slice(before);
  expect(made).toHaveLength(1);
  spy.mock.calls.splice(before);
  return made[0] as string;
}

/** Since the spy was last cleared, `presented`'s hash was compared with `stored`'s in constant time. */
async function expectHashesCompared(spy: Watched, presented: string, stored: string) {
  const made = comparisons(spy);
  const expected = await comparisonOf(spy, await sha256Hex(presented), await sha256Hex(stored));
  expect(made).toContain(expected);
  spy.mockClear();
}

describe("secretsEqual", () => {
  it("is true for equal strings and false for different ones, of any length", async () => {
    expect(await secretsEqual("rsvtok_abc", "rsvtok_abc")).toBe(true);
    expect(await secretsEqual("", "")).toBe(true);
    expect(await secretsEqual("rsvtok_abc", "rsvtok_abd")).toBe(false);
    expect(await secretsEqual("rsvtok_abc", "rsvtok_ab")).toBe(false);
    expect(await secretsEqual("rsvtok_abc", "rsvtok_abcd")).toBe(false);
    expect(await secretsEqual("", "x")).toBe(false);
    expect(await secretsEqual("A", "a")).toBe(false);
  });

  it("decides with crypto.subtle.timingSafeEqual, on inputs of one length whatever the secrets' lengths", async () => {
    const spy = watch();
    expect(await secretsEqual("short", "a much longer secret")).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    const [a, b] = spy.mock.calls[0] as [ArrayBufferView, ArrayBufferView];
    expect(a.byteLength).toBe(b.byteLength);
    expect(await secretsEqual("same", "same")).toBe(true);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});

describe("token checks compare hashes in constant time", () => {
  it("a reservation's token: its own is 200, another reservation's 403, a forged one 401", async () => {
    const event = await createEvent([{ capacity: 5 }]);
    const tierId = event.tiers[0]?.id as string;
    const mine = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const other = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const forged = `${mine.token.slice(0, -2)}${mine.token.endsWith("AA") ? "BB" : "AA"}`;
    const spy = watch();

    expect((await api("GET", `/v1/reservations/${mine.id}`, { token: mine.token })).status).toBe(200);
    await expectHashesCompared(spy, mine.token, mine.token);
    expect((await api("GET", `/v1/reservations/${mine.id}`, { token: other.token })).status).toBe(403);
    await expectHashesCompared(spy, other.token, mine.token);
    expect((await api("GET", `/v1/reservations/${mine.id}`, { token: forged })).status).toBe(401);
    await expectHashesCompared(spy, forged, mine.token);
  });

  it("an order's token: its own is 200, another order's 403, a forged one 401, the organiser's 200", async () => {
    const event = await createEvent([{ capacity: 5, price: 0 }]);
    const tierId = event.tiers[0]?.id as string;
    const order = async () => {
      const reservation = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
      const res = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
        token: reservation.token,
        body: { email: "buyer@example.com" },
      });
      expect(res.status).toBe(201);
      return res.body as { orderId: string; orderToken: string };
    };
    const mine = await order();
    const other = await order();
    const forged = `${mine.orderToken.slice(0, -2)}${mine.orderToken.endsWith("AA") ? "BB" : "AA"}`;
    const spy = watch();

    expect((await api("GET", `/v1/orders/${mine.orderId}`, { token: mine.orderToken })).status).toBe(200);
    await expectHashesCompared(spy, mine.orderToken, mine.orderToken);
    expect((await api("GET", `/v1/orders/${mine.orderId}`, { token: other.orderToken })).status).toBe(403);
    await expectHashesCompared(spy, other.orderToken, mine.orderToken);
    expect((await api("GET", `/v1/orders/${mine.orderId}`, { token: forged })).status).toBe(401);
    await expectHashesCompared(spy, forged, mine.orderToken);
    expect((await api("GET", `/v1/orders/${mine.orderId}`, { token: ADMIN_TOKEN })).status).toBe(200);
    expect(comparisons(spy)).toContain(await comparisonOf(spy, ADMIN_TOKEN, ADMIN_TOKEN));
  });

  it("the simulator's session MAC", async () => {
    const secret = "test-app-secret-0123456789abcdef";
    const id = await sessionId(secret, {
      amount_total: 2500,
      currency: "eur",
      client_reference_id: null,
      metadata: {},
      customer_email: null,
      success_url: "https://shop.example/ok",
      cancel_url: "https://shop.example/no",
      expires_at: 0,
      lines: [],
    });
    const [payload, mac] = id.split(".") as [string, string];
    const tampered = `${payload}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`;
    const spy = watch();
    expect(await readSession(secret, id)).toMatchObject({ amount_total: 2500 });
    expect(comparisons(spy)).toEqual([await comparisonOf(spy, mac, mac)]);
    spy.mockClear();
    expect(await readSession(secret, tampered)).toBeNull();
    expect(comparisons(spy)).toEqual([await comparisonOf(spy, tampered.split(".")[1] as string, mac)]);
  });
});
