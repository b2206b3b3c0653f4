/**
 * The organiser's dashboard (`GET /dashboard`) in a real headless Chromium against the Worker served locally:
 * the token asked once, an event created with two tiers, a purchase made through the API showing within 5 s,
 * refunds, tier edits and their refusals, the queue, scanners, verify, the audit log and a webhook delivery.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import jsQRModule from "jsqr";
import type { Browser, Page } from "playwright-core";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { DESKTOP, NARROW_PHONE, openBuyer, screenshotPath } from "./buyers.ts";
import { withWorkerAndBrowser } from "./suite.ts";
import type { LocalWorker } from "./worker.ts";

// jsqr is CommonJS whose types say `export default`: from ESM that is the module's `default` member.
const jsQR = jsQRModule.default;

let worker: LocalWorker;
let browser: Browser | undefined;

withWorkerAndBrowser((w, b) => {
  worker = w;
  browser = b;
});

const url = () => `${worker.url}/dashboard`;

/** Waits for `selector` to hold text matching `pattern` (a locator wait: the page's policy allows no eval). */
async function waitForText(page: Page, selector: string, pattern: RegExp, timeout?: number) {
  await page.locator(selector, { hasText: pattern }).first().waitFor({ timeout });
  return (await page.locator(selector).first().textContent()) ?? "";
}

/** Signs in with the keyboard only: the token field has the focus, Enter submits. */
async function signIn(page: Page) {
  await page.goto(url());
  await page.waitForSelector("#signin:not([hidden])");
  await page.keyboard.type(worker.adminToken);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#app:not([hidden])");
}

const cell = (tierId: string, field: string) => `tr[data-tier="${tierId}"] td[data-field="${field}"]`;

/** `quantity` tickets of `tierId` bought through the API and paid on the Stripe simulator: the order's id. */
async function buy(eventId: string, tierId: string, quantity: number, ip: string): Promise<string> {
  const headers = { "CF-Connecting-IP": ip };
  const reservation = await worker.api<{ id: string; token: string }>(
    "POST",
    `/v1/events/${eventId}/reservations`,
    { items: [{ tierId, quantity }] },
    { expect: 201, headers },
  );
  const order = await worker.api<{ orderId: string; checkoutUrl: string }>(
    "POST",
    `/v1/reservations/${reservation.id}/checkout`,
    { email: "ada@example.com", name: "Ada Lovelace" },
    { token: reservation.token, expect: 201, headers },
  );
  const paid = await fetch(`${order.checkoutUrl}/pay`, { method: "POST", redirect: "manual" });
  expect(paid.status).toBe(303);
  return order.orderId;
}

describe("the organiser dashboard", () => {
  it("is one self-contained document under a strict per-response policy", async () => {
    const res = await fetch(url());
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const policy = res.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/]{22}=='; /);
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain("unsafe");
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).not.toContain(worker.adminToken);
  });

  it("signs in once, creates an event with two tiers, shows a sale within 5 s, refunds it, and manages scanners", async () => {
    const organiser = await openBuyer(browser, "10.9.0.1", DESKTOP);
    const { page } = organiser;
    try {
      // A wrong token is refused and not kept.
      await page.goto(url());
      await page.fill("#token", "org_not-the-token");
      await page.click("#signin-form button");
      await waitForText(page, "#signin-message", /refused/);
      expect(await page.evaluate("localStorage.length")).toBe(0);
      await signIn(page);

      // A new event with two tiers.
      await page.click("#create summary");
      await page.fill("#ev-name", "Dashboard night");
      await page.fill("#ev-starts", "2030-06-01T19:00");
      await page.fill("#tier-1-name", "Standing");
      await page.fill("#tier-1-price", "2500");
      await page.fill("#tier-1-capacity", "10");
      await page.click("#add-tier");
      await page.fill("#tier-2-name", "Balcony");
      await page.fill("#tier-2-price", "4000");
      await page.fill("#tier-2-capacity", "5");
      await page.click("#create-form button[type=submit]");
      await waitForText(page, "#event-title", /^Dashboard night$/);
      const eventId = (await page.textContent("#event-code")) ?? "";
      expect(eventId).toMatch(/^evt_/);
      const event = await worker.api<{ tiers: { id: string; name: string }[] }>("GET", `/v1/events/${eventId}`);
      const [standing, balcony] = event.tiers.map((t) => t.id) as [string, string];
      expect(event.tiers.map((t) => t.name)).toEqual(["Standing", "Balcony"]);
      await waitForText(page, cell(standing, "available"), /^10$/);
      await waitForText(page, cell(balcony, "available"), /^5$/);
      // It is remembered: a reload opens it again, the token kept.
      await page.reload();
      await waitForText(page, "#event-title", /^Dashboard night$/);
      expect(await page.locator("#recent option").count()).toBe(2);

      // A purchase made elsewhere shows within 5 s.
      const orderId = await buy(eventId, standing, 2, "10.9.1.1");
      const bought = Date.now();
      await waitForText(page, cell(standing, "sold"), /^2$/, 5_000);
      expect(Date.now() - bought).toBeLessThan(5_000);
      expect(await page.textContent(cell(standing, "available"))).toBe("8");
      expect(await page.textContent(cell(standing, "revenue"))).toBe("€50.00");
      await waitForText(page, `tr[data-order="${orderId}"] td[data-field=status]`, /^paid$/);
      await page.screenshot({ path: screenshotPath("dashboard-desktop.png"), fullPage: true });

      // Refund one of the two tickets, then the rest: the numbers go back.
      await page.click(`button[aria-label="Refund order ${orderId}"]`);
      const boxes = page.locator("#refund-tickets input[type=checkbox]");
      expect(await boxes.count()).toBe(2);
      await boxes.nth(1).uncheck();
      await page.fill("#refund-reason", "Cannot come");
      await page.click("#refund-form button[type=submit]");
      await waitForText(page, "#refund-message", /^Refund \S+ succeeded: €25\.00 for 1 ticket$/);
      await waitForText(page, cell(standing, "sold"), /^1$/, 5_000);
      await waitForText(page, `tr[data-order="${orderId}"] td[data-field=status]`, /^partially_refunded$/);
      await page.click(`button[aria-label="Refund order ${orderId}"]`);
      expect(await boxes.count()).toBe(1);
      await page.click("#refund-form button[type=submit]");
      await waitForText(page, "#refund-message", /succeeded: €25\.00 for 1 ticket$/);
      await waitForText(page, cell(standing, "sold"), /^0$/, 5_000);
      await waitForText(page, cell(standing, "available"), /^10$/);
      await waitForText(page, `tr[data-order="${orderId}"] td[data-field=status]`, /^refunded$/);
      expect(await page.isDisabled(`button[aria-label="Refund order ${orderId}"]`)).toBe(true);

      // A tier edit the API refuses shows its problem detail; one it accepts shows in the numbers.
      await page.click('button[aria-label="Edit Balcony"]');
      await page.fill("#tf-start", "2031-01-02T10:00");
      await page.fill("#tf-end", "2031-01-01T10:00");
      await page.click("#tier-form button[type=submit]");
      await waitForText(page, "#tier-message", /^INVALID_INPUT: /);
      await page.fill("#tf-start", "");
      await page.fill("#tf-end", "");
      await page.fill("#tf-capacity", "20");
      await page.fill("#tf-price", "4500");
      await page.click("#tier-form button[type=submit]");
      await waitForText(page, "#tier-message", /^Saved Balcony$/);
      await waitForText(page, cell(balcony, "available"), /^20$/);
      expect(await page.textContent(cell(balcony, "price"))).toBe("€45.00");

      // The queue: set, its numbers shown, removed.
      await page.fill("#q-opens", "2030-05-01T10:00");
      await page.fill("#q-rate", "120");
      await page.click("#queue-form button[type=submit]");
      await waitForText(page, "#queue-message", /^Queue set$/);
      await waitForText(page, "#queue-stats", /Waiting0/);
      await page.click("#q-remove");
      await waitForText(page, "#queue-message", /^Queue removed$/);
      expect((await worker.api<{ queue: unknown }>("GET", `/v1/events/${eventId}`)).queue).toBeNull();

      // A scanner: its token shown once, working until revoked.
      await page.fill("#sc-name", "North door");
      await page.fill("#sc-gate", "North");
      await page.click("#scanner-form button[type=submit]");
      const token = await waitForText(page, "#scanner-token", /^scntok_/);
      // Its QR code reads back (as a camera would) as the door page's link, the token in its fragment; the
      // link opens /scan signed in as this scanner, and the fragment is cleared from the address.
      const png = PNG.sync.read(await page.locator("#scanner-qr img").screenshot());
      const link = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
      expect(link).toBe(`${new URL(page.url()).origin}/scan#token=${token}`);
      const door = await page.context().newPage();
      await door.goto(link as string);
      await door.waitForSelector("#scanner:not([hidden])");
      expect(new URL(door.url()).hash).toBe("");
      expect(await door.evaluate(() => localStorage.getItem("boxoffice.scanner.token"))).toBe(token);
      await door.close();
      const list = () =>
        fetch(`${worker.url}/v1/events/${eventId}/checkin-list`, { headers: { Authorization: `Bearer ${token}` } });
      expect((await list()).status).toBe(200);
      await waitForText(page, "#scanners td[data-field=status]", /^active$/);
      await page.click('button[aria-label="Revoke North door"]');
      await waitForText(page, "#scanners td[data-field=status]", /^revoked /);
      expect((await list()).status).toBe(401);

      // Verify and the audit log.
      await page.click("#verify");
      await waitForText(page, "#verify-result", /^All \d+ checks pass$/, 15_000);
      await page.click("#audit-newest");
      await waitForText(page, "#audit", /scanner\.revoked/);
      await waitForText(page, "#audit", /order\.refunded/);

      // Signing out forgets the token.
      await page.click("#signout");
      await page.waitForSelector("#signin:not([hidden])");
      expect(await page.evaluate(`localStorage.getItem("boxoffice.organiser.token")`)).toBeNull();
      expect(organiser.errors).toEqual([]);

      // The phone: the same event, at 375 px.
      const phone = await openBuyer(browser, "10.9.0.2", NARROW_PHONE);
      try {
        await signIn(phone.page);
        await phone.page.fill("#event-id", eventId);
        await phone.page.press("#event-id", "Enter");
        await waitForText(phone.page, cell(standing, "available"), /^10$/);
        const width = (await phone.page.evaluate("document.documentElement.scrollWidth")) as number;
        expect(width).toBeLessThanOrEqual(NARROW_PHONE.width);
        await phone.page.screenshot({ path: screenshotPath("dashboard-phone.png"), fullPage: true });
        expect(phone.errors).toEqual([]);
      } finally {
        await phone.close();
      }
    } finally {
      await organiser.close();
    }
  });

  it("adds a webhook endpoint and shows its delivery", async () => {
    const received: string[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((listening) => receiver.listen(0, "127.0.0.1", listening));
    const port = (receiver.address() as AddressInfo).port;
    const organiser = await openBuyer(browser, "10.9.0.3", DESKTOP);
    try {
      const { page } = organiser;
      await signIn(page);
      await page.fill("#hk-url", `http://127.0.0.1:${port}/hook`);
      await page.fill("#hk-desc", "Test receiver");
      await page.click("#hook-form button[type=submit]");
      await waitForText(page, "#hook-secret", /^whsec_/);
      const event = await worker.api<{ id: string; tiers: { id: string }[] }>(
        "POST",
        "/v1/events",
        {
          name: "Webhook night",
          startsAt: "2030-06-01T19:00:00Z",
          currency: "eur",
          tiers: [{ name: "Standing", price: 1000, capacity: 5 }],
        },
        { token: worker.adminToken, expect: 201 },
      );
      await buy(event.id, (event.tiers[0] as { id: string }).id, 1, "10.9.1.2");
      // The page shows the deliveries when asked ("Reload"): wait for the one of the paid order.
      const deadline = Date.now() + 20_000;
      const delivered = 'tr[data-delivery] td[data-field=status]:text-is("delivered")';
      while (Date.now() < deadline && (await page.locator(delivered).count()) === 0) {
        await page.waitForTimeout(500);
        await page.click(`button[aria-label="Reload deliveries of http://127.0.0.1:${port}/hook"]`);
      }
      expect(await page.locator(delivered).count()).toBeGreaterThan(0);
      expect(received.some((body) => body.includes('"order.paid"'))).toBe(true);
      await page.screenshot({ path: screenshotPath("dashboard-webhooks.png"), fullPage: true });
      expect(organiser.errors).toEqual([]);
    } finally {
      await organiser.close();
      await new Promise((closed) => receiver.close(closed));
    }
  });
});
