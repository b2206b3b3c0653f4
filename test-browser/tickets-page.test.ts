/**
 * The buyer's tickets page (`GET /tickets/:orderId?t=<order token>`) in a real headless Chromium on a
 * phone-sized screen, against the Worker served locally: each QR code as drawn on screen must read back
 * (jsQR, from a screenshot) as exactly its ticket's code.
 */
import jsQRModule from "jsqr";
import type { Browser, Page } from "playwright-core";
import { PNG } from "pngjs";
import { expect, it } from "vitest";
import { onPhoneIn, PHONE } from "./phone.ts";
import { withWorkerAndBrowser } from "./suite.ts";
import type { LocalWorker } from "./worker.ts";

// jsqr is CommonJS whose types say `export default`: from ESM that is the module's `default` member.
const jsQR = jsQRModule.default;

interface OrderTicket {
  id: string;
  seat?: string;
  code: string;
  status: string;
}

let worker: LocalWorker;
let browser: Browser | undefined;
let order: { id: string; token: string; tickets: OrderTicket[] };

withWorkerAndBrowser(async (w, b) => {
  worker = w;
  browser = b;
  order = await seedOrder(w);
});

/** A free order (paid at checkout) of two standing tickets and seat B1, and its tickets as the API gives them. */
async function seedOrder(w: LocalWorker) {
  const event = await w.api<{ id: string; tiers: { id: string }[] }>(
    "POST",
    "/v1/events",
    {
      name: "Tickets page night",
      startsAt: "2027-06-01T19:00:00.000Z",
      currency: "eur",
      tiers: [
        { name: "Standing", price: 0, capacity: 10 },
        { name: "Balcony", price: 0, seats: ["B1", "B2"] },
      ],
    },
    { token: w.adminToken, expect: 201 },
  );
  const [standing, balcony] = event.tiers.map((t) => t.id);
  const reservation = await w.api<{ id: string; token: string }>(
    "POST",
    `/v1/events/${event.id}/reservations`,
    {
      items: [
        { tierId: standing, quantity: 2 },
        { tierId: balcony, seats: ["B1"] },
      ],
    },
    { expect: 201 },
  );
  const checkout = await w.api<{ orderId: string; orderToken: string; status: string }>(
    "POST",
    `/v1/reservations/${reservation.id}/checkout`,
    { email: "guest@example.com" },
    { token: reservation.token, expect: 201 },
  );
  if (checkout.status !== "paid") throw new Error(`the free order is ${checkout.status}, not paid`);
  const read = await w.api<{ tickets: OrderTicket[] }>("GET", `/v1/orders/${checkout.orderId}`, undefined, {
    token: checkout.orderToken,
  });
  return { id: checkout.orderId, token: checkout.orderToken, tickets: read.tickets };
}

/** What a camera would read from the element as drawn on screen. */
async function decode(page: Page, selector: string) {
  const png = PNG.sync.read(await page.locator(selector).screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
}

/**
 * Byte mode at level M: version 7 holds 154 bytes at level L but only 122 at M, and version 8 holds 152
 * at M (108 at Q), so a code of 123 to 152 bytes is version 8 at level M and at no other level.
 */
function expectByteModeLevelM(read: NonNullable<Awaited<ReturnType<typeof decode>>>, code: string) {
  expect(code.length).toBeGreaterThan(122);
  expect(code.length).toBeLessThanOrEqual(152);
  expect(read.version).toBe(8);
  expect(read.chunks.map((c) => c.type)).toEqual(["byte"]);
}

it("shows every ticket's QR code on a phone, each reading as exactly its ticket's code", async () => {
  await onPhoneIn(browser, async (page) => {
    const res = await page.goto(`${worker.url}/tickets/${order.id}?t=${order.token}`);
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Tickets page night");
    expect(await page.locator(".ticket").count()).toBe(3);
    // Nothing wider than the phone: no sideways scrolling to see a code.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(PHONE.width);
    for (const ticket of order.tickets) {
      const card = `[id="${ticket.id}"]`;
      await page.locator(card).scrollIntoViewIfNeeded();
      const box = await page.locator(`${card} .qr svg`).boundingBox();
      expect(box?.width).toBeGreaterThanOrEqual(250);
      const read = await decode(page, `${card} .qr svg`);
      expect(read?.data).toBe(ticket.code);
      if (read) expectByteModeLevelM(read, ticket.code);
      expect(await page.locator(`${card} h2`).textContent()).toBe(ticket.seat ? "Balcony" : "Standing");
      expect(await page.locator(`${card} .seat`).textContent()).toBe(
        ticket.seat ? `Seat ${ticket.seat}` : "General admission",
      );
      expect(await page.locator(`${card} .status`).textContent()).toBe("valid");
    }
    await page.screenshot({ path: "/tmp/tickets-page.png", fullPage: true });
  });
});

it("shows the 404 page, with no code on it, for a wrong token", async () => {
  await onPhoneIn(browser, async (page) => {
    const wrong = `${order.token.slice(0, -1)}${order.token.endsWith("A") ? "B" : "A"}`;
    const res = await page.goto(`${worker.url}/tickets/${order.id}?t=${wrong}`);
    expect(res?.status()).toBe(404);
    expect(await page.locator("h1").textContent()).toBe("No tickets here");
    expect(await page.locator("svg").count()).toBe(0);
    expect(await page.content()).not.toContain(order.id);
  });
});
