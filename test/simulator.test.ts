import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { ADMIN_TOKEN } from "./helpers";

// The simulator is on only with STRIPE_MODE=simulator: these requests run the Worker with that setting.
const simulatorEnv = { ...env, STRIPE_MODE: "simulator", SIMULATOR_ORIGIN: "http://boxoffice.test" };

async function call(method: string, path: string, body?: unknown, token?: string, targetEnv: Env = simulatorEnv) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://boxoffice.test${path}`, {
      method,
      redirect: "manual",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    targetEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the Stripe simulator (npm start)", () => {
  it("lets a buyer pay on a local checkout page, which sends a signed webhook that issues the tickets", async () => {
    const event = await (
      await call(
        "POST",
        "/v1/events",
        {
          name: "Sim night",
          startsAt: "2027-01-01T20:00:00Z",
          currency: "eur",
          tiers: [{ name: "GA", price: 1500, capacity: 5 }],
        },
        ADMIN_TOKEN,
      )
    ).json<{ id: string; tiers: { id: string }[] }>();
    const tierId = event.tiers[0]?.id as string;
    const reservation = await (
      await call("POST", `/v1/events/${event.id}/reservations`, { items: [{ tierId, quantity: 2 }] })
    ).json<{ id: string; token: string }>();
    const checkout = await call(
      "POST",
      `/v1/reservations/${reservation.id}/checkout`,
      { email: "sim@example.com" },
      reservation.token,
    );
    expect(checkout.status).toBe(201);
    const order = await checkout.json<{ orderId: string; orderToken: string; checkoutUrl: string; amount: number }>();
    expect(order.amount).toBe(3000);
    expect(order.checkoutUrl).toMatch(/^http:\/\/boxoffice\.test\/_simulator\/checkout\/cs_sim_/);

    const checkoutPath = new URL(order.checkoutUrl).pathname;
    const page = await call("GET", checkoutPath);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("€30.00");
    expect(html).toContain("Sim night: GA");

    const paid = await call("POST", `${checkoutPath}/pay`);
    expect(paid.status).toBe(303);
    expect(paid.headers.get("Location")).toBe(`http://boxoffice.test/checkout/complete?order=${order.orderId}`);
    const landing = await call("GET", `/checkout/complete?order=${order.orderId}`);
    expect(await landing.text()).toContain("Payment received");
    const read = await (await call("GET", `/v1/orders/${order.orderId}`, undefined, order.orderToken)).json<{
      status: string;
      tickets: unknown[];
    }>();
    expect(read.status).toBe("paid");
    expect(read.tickets).toHaveLength(2);
  });

  it("is not there unless STRIPE_MODE is simulator, and refuses a forged session", async () => {
    expect((await call("GET", "/_simulator/checkout/cs_sim_x.y", undefined, undefined, env)).status).toBe(404);
    expect((await call("GET", "/_simulator/checkout/cs_sim_eyJ9.AAAA")).status).toBe(404);
  });
});
