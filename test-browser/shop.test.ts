/**
 * The event's shop (`GET /e/:eventId`) in a real headless Chromium against the Worker served locally
 * (Stripe is the simulator): buyers on phones choose tickets or seats as availability changes under
 * them, hold them against a countdown, pay on the simulator's checkout page and land on their tickets
 * page; on an event with a queue they wait on its waiting page first. Each buyer is a browser of its own,
 * from an address of its own (buyers.ts).
 */
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { DESKTOP, NARROW_PHONE, screenshotPath, withBuyers } from "./buyers.ts";
import { withWorkerAndBrowser } from "./suite.ts";
import type { LocalWorker } from "./worker.ts";

let worker: LocalWorker;
let browser: Browser | undefined;

withWorkerAndBrowser((w, b) => {
  worker = w;
  browser = b;
});

interface Tier {
  id: string;
  name: string;
}

/** An event starting next year, with `tiers` (TierInput) and any other fields. */
async function newEvent(name: string, tiers: Record<string, unknown>[], fields: Record<string, unknown> = {}) {
  return worker.api<{ id: string; tiers: Tier[] }>(
    "POST",
    "/v1/events",
    { name, startsAt: "2027-06-01T19:00:00.000Z", currency: "eur", tiers, ...fields },
    { token: worker.adminToken, expect: 201 },
  );
}

const shopUrl = (eventId: string) => `${worker.url}/e/${eventId}`;
const tierOf = (event: { tiers: Tier[] }, i = 0) => event.tiers[i] as Tier;

/** The page's text of `selector`, waited for until it matches `pattern`. */
async function waitForText(page: Page, selector: string, pattern: RegExp, timeout?: number) {
  await page.locator(selector, { hasText: pattern }).waitFor({ timeout });
  return (await page.locator(selector).textContent()) ?? "";
}

async function openShop(page: Page, eventId: string) {
  const res = await page.goto(shopUrl(eventId));
  expect(res?.status()).toBe(200);
}

/** Holds what the page has chosen, and waits for the hold's countdown. */
async function reserve(page: Page) {
  await page.click("#reserve");
  await page.waitForSelector("#hold:not([hidden])");
}

/** Pays on the simulator's checkout page, which sends the signed webhook and returns to the shop. */
async function payOnSimulator(page: Page) {
  await page.waitForURL(/\/_simulator\/checkout\//);
  await page.click("button.pay");
}

describe("the shop page", () => {
  it("answers an unknown or malformed event with its 404 page, and the shop under a strict per-response policy", async () => {
    for (const id of ["evt_0000000000000000000000", "not-an-id"]) {
      const res = await fetch(`${worker.url}/e/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(await res.text()).toContain("No such event");
    }
    const event = await newEvent("Policy night", [{ name: "Standing", price: 0, capacity: 5 }]);
    const res = await fetch(shopUrl(event.id));
    expect(res.status).toBe(200);
    const policy = res.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/]{22}=='; /);
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain("unsafe");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("<h1>Policy night</h1>");
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
  });

  it("sells two general-admission tickets through the simulator's checkout; another browser sees them go within 2 s", async () => {
    const event = await newEvent("Shop night", [{ name: "Standing", price: 2500, capacity: 10 }]);
    const tier = tierOf(event);
    await withBuyers(browser, ["10.1.0.1", "10.1.0.2"], async (buyer, watcher) => {
      await Promise.all([openShop(buyer, event.id), openShop(watcher, event.id)]);
      await waitForText(watcher, `#left-${tier.id}`, /^10 left$/);
      await waitForText(buyer, `#left-${tier.id}`, /^10 left$/);

      await buyer.selectOption(`#qty-${tier.id}`, "2");
      expect(await buyer.textContent("#total")).toBe("2 tickets · €50.00");
      // The moment the watcher's page shows the drop, taken in the page (a locator's wait polls coarsely).
      await watcher.evaluate(`void (window.dropSeen = new Promise((seen) => {
        const left = document.getElementById("left-${tier.id}");
        new MutationObserver((_, observer) => {
          if (left.textContent === "8 left") { observer.disconnect(); seen(Date.now()); }
        }).observe(left, { childList: true, characterData: true, subtree: true });
      }))`);
      const answered = buyer.waitForResponse(
        (r) => r.request().method() === "POST" && r.url().endsWith("/reservations"),
      );
      await reserve(buyer);
      expect((await answered).status()).toBe(201);
      const held = Date.now();
      const seen = (await watcher.evaluate("window.dropSeen")) as number;
      expect(seen - held).toBeLessThan(2_000);

      expect(await buyer.textContent("#held-items")).toBe("2 × Standing");
      expect(await buyer.textContent("#countdown")).toMatch(/^(10:00|9:\d\d)$/);
      await buyer.fill("#email", "ada@example.com");
      await buyer.fill("#name", "Ada Lovelace");
      expect(await buyer.textContent("#pay")).toBe("Pay €50.00");
      const sent = buyer.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/checkout"));
      await buyer.click("#pay");
      const body = JSON.parse((await sent).postData() ?? "{}");
      // The return URLs go to the payment page: the reservation's id, never a token.
      expect(body.successUrl).toMatch(new RegExp(`^${worker.url}/e/${event.id}\\?paid=rsv_\\w+$`));
      expect(body.cancelUrl).toMatch(new RegExp(`^${worker.url}/e/${event.id}\\?canceled=rsv_\\w+$`));
      expect(body).toMatchObject({ email: "ada@example.com", name: "Ada Lovelace" });

      await payOnSimulator(buyer);
      await buyer.waitForURL(/\/tickets\/ord_\w+\?t=ordtok_/);
      await buyer.waitForSelector(".ticket .qr svg");
      expect(await buyer.locator(".ticket .qr svg").count()).toBe(2);
      expect(await buyer.textContent("h1")).toBe("Shop night");
      // Sold, not held: still two fewer.
      expect(await watcher.textContent(`#left-${tier.id}`)).toBe("8 left");
    });
  });

  it("brings a buyer who cancels on the payment page back to the hold, with the way back to payment", async () => {
    const event = await newEvent("Second thoughts night", [{ name: "Standing", price: 1200, capacity: 4 }]);
    const tier = tierOf(event);
    await withBuyers(browser, ["10.7.0.1"], async (page) => {
      await openShop(page, event.id);
      await waitForText(page, `#left-${tier.id}`, /^4 left$/);
      await page.selectOption(`#qty-${tier.id}`, "1");
      await reserve(page);
      await page.fill("#email", "ada@example.com");
      await page.click("#pay");
      await page.waitForURL(/\/_simulator\/checkout\//);
      const payment = page.url();
      await page.click("button.cancel");
      await page.waitForSelector("#hold:not([hidden])");
      // The return's query is read once, and dropped from the address.
      expect(page.url()).toBe(shopUrl(event.id));
      expect(await page.textContent("#hold-note")).toBe(
        "You left the payment page: nothing was paid. Your tickets stay held until the time runs out.",
      );
      expect(await page.textContent("#countdown")).toMatch(/^(10:00|9:\d\d)$/);
      expect(await page.isHidden("#checkout-form")).toBe(true);
      expect(await page.isHidden("#extend")).toBe(true);
      expect(await page.isHidden("#release")).toBe(true);
      await page.click("#return-pay");
      await page.waitForURL(payment);
    });
  });

  it("takes a buyer who reloads while checkout is opening (its answer lost) on to the same payment page", async () => {
    const event = await newEvent("Lost answer night", [{ name: "Standing", price: 1200, capacity: 4 }]);
    const tier = tierOf(event);
    await withBuyers(browser, ["10.7.0.2"], async (page) => {
      await openShop(page, event.id);
      await waitForText(page, `#left-${tier.id}`, /^4 left$/);
      await page.selectOption(`#qty-${tier.id}`, "1");
      await reserve(page);
      // Checkout reaches the service, but its answer never reaches the page.
      await page.route("**/checkout", async (route) => {
        await route.fetch();
        await route.abort();
      });
      await page.fill("#email", "ada@example.com");
      await page.click("#pay");
      await waitForText(page, "#notice", /./);
      await page.unroute("**/checkout");
      await page.reload();
      await page.waitForURL(/\/_simulator\/checkout\//);
      await payOnSimulator(page);
      await page.waitForURL(/\/tickets\//);
    });
    const orders = await worker.api<{ orders: unknown[] }>("GET", `/v1/events/${event.id}/orders`, undefined, {
      token: worker.adminToken,
    });
    expect(orders.orders).toHaveLength(1);
  });

  it("gives a seat two buyers pick at once to one of them; the other is told it is taken and sees it go", async () => {
    const event = await newEvent("Seated night", [{ name: "Balcony", price: 4000, seats: ["A1", "A2", "B1", "B2"] }]);
    const tier = tierOf(event);
    const a1 = `#seat-${tier.id}-0`;
    await withBuyers(browser, ["10.2.0.1", "10.2.0.2"], async (first, second) => {
      for (const page of [first, second]) {
        await openShop(page, event.id);
        await waitForText(page, `#left-${tier.id}`, /^4 seats free$/);
        await page.check(a1);
        expect(await page.textContent("#total")).toBe("1 ticket · €40.00");
      }
      await Promise.all([first.click("#reserve"), second.click("#reserve")]);

      const outcome = (page: Page) =>
        Promise.race([
          page.waitForSelector("#hold:not([hidden])").then(() => "held" as const),
          page.waitForSelector("#notice:not([hidden])").then(() => "refused" as const),
        ]);
      const outcomes = await Promise.all([outcome(first), outcome(second)]);
      expect(outcomes.toSorted()).toEqual(["held", "refused"]);
      const [winner, loser] = outcomes[0] === "held" ? [first, second] : [second, first];

      expect(await winner.textContent("#held-items")).toBe("Balcony: seat A1");
      expect(await loser.textContent("#notice-text")).toBe(
        "Seat A1 is taken: someone else got it first. Choose another seat.",
      );
      expect(await loser.isVisible("#choose")).toBe(true);
      expect(await loser.isChecked(a1)).toBe(false);
      expect(await loser.isDisabled(a1)).toBe(true);
      expect(await loser.getAttribute(a1, "aria-label")).toBe("Seat A1, held");
      await loser.locator(`label.seat[data-status="held"]:has(${a1})`).waitFor();
      await waitForText(loser, `#left-${tier.id}`, /^3 seats free$/);

      // The winner gives the seat back: the other buyer sees it free again, without a reload.
      await winner.click("#release");
      await winner.waitForSelector("#choose:not([hidden])");
      await loser.locator(`label.seat[data-status="available"]:has(${a1})`).waitFor({ timeout: 6_000 });
      expect(await loser.isDisabled(a1)).toBe(false);
    });
  });

  it("counts the hold down: more time is added while extensions remain, and at zero it says so and starts again", async () => {
    const event = await newEvent("Short hold night", [
      { name: "Standing", price: 1500, capacity: 5, holdSeconds: 5, maxExtensions: 1, extensionSeconds: 120 },
    ]);
    const tier = tierOf(event);
    await withBuyers(browser, ["10.3.0.1"], async (page) => {
      await openShop(page, event.id);
      await waitForText(page, `#left-${tier.id}`, /^5 left$/);
      await page.selectOption(`#qty-${tier.id}`, "1");
      await reserve(page);
      expect(await page.textContent("#countdown")).toMatch(/^0:0[1-5]$/);
      expect(await page.textContent("#extend")).toBe("Add 2 minutes (1 left)");
      await page.click("#extend");
      await waitForText(page, "#hold-note", /^2 minutes added\.$/);
      expect(await page.textContent("#countdown")).toMatch(/^2:0[0-5]$/);
      // No extension left: the button goes.
      expect(await page.isHidden("#extend")).toBe(true);

      await page.click("#release");
      await page.waitForSelector("#choose:not([hidden])");
      await page.selectOption(`#qty-${tier.id}`, "1");
      await reserve(page);
      await waitForText(page, "#notice-text", /hold expired/, 8_000);
      expect(await page.textContent("#notice-text")).toBe("Your hold expired, so the tickets went back on sale.");
      expect(await page.isHidden("#hold")).toBe(true);
      expect(await page.textContent("#notice-action")).toBe("Start again");
      expect(await page.evaluate("document.activeElement.id")).toBe("notice-action");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#choose:not([hidden])");
      expect(await page.isHidden("#notice")).toBe(true);
      expect(await page.textContent("#total")).toBe("No tickets chosen");
      await waitForText(page, `#left-${tier.id}`, /^5 left$/);
    });
  });

  it("tells a buyer each refusal in words: too many tickets, too few left, too many held, too many requests", async () => {
    const event = await newEvent(
      "Limits night",
      [
        { name: "Front", price: 2000, capacity: 2 },
        { name: "Back", price: 1000, capacity: 10 },
        { name: "Late", price: 1000, capacity: 10, salesStartAt: "2027-01-01T00:00:00.000Z" },
      ],
      { maxTicketsPerOrder: 3, maxHeldPerClient: 3 },
    );
    const [front, back, late] = [tierOf(event, 0), tierOf(event, 1), tierOf(event, 2)];
    const holdFrom = (ip: string, items: unknown[]) =>
      worker.api(
        "POST",
        `/v1/events/${event.id}/reservations`,
        { items },
        { expect: 201, headers: { "CF-Connecting-IP": ip } },
      );
    const refusal = async (page: Page) => {
      await page.click("#reserve");
      await page.waitForSelector("#notice:not([hidden])");
      const text = await page.textContent("#notice-text");
      expect(await page.isVisible("#choose")).toBe(true);
      return text;
    };
    await withBuyers(browser, ["10.6.0.1"], async (page) => {
      await openShop(page, event.id);
      await waitForText(page, `#left-${late.id}`, /^On sale from /);
      expect(await page.isDisabled(`#qty-${late.id}`)).toBe(true);

      await page.selectOption(`#qty-${front.id}`, "2");
      await page.selectOption(`#qty-${back.id}`, "2");
      expect(await refusal(page)).toBe("At most 3 tickets fit in one order: choose fewer.");

      await holdFrom("10.6.0.2", [{ tierId: front.id, quantity: 1 }]);
      await waitForText(page, `#left-${front.id}`, /^1 left$/);
      await page.selectOption(`#qty-${back.id}`, "0");
      expect(await refusal(page)).toBe("Only 1 Front ticket is left: choose fewer.");

      // The same buyer holds three already, in another tab: the event's limit per buyer.
      await holdFrom("10.6.0.1", [{ tierId: back.id, quantity: 3 }]);
      await page.selectOption(`#qty-${front.id}`, "0");
      await page.selectOption(`#qty-${back.id}`, "1");
      expect(await refusal(page)).toMatch(
        /^You already hold as many tickets for this event as one buyer may at a time\. Finish that purchase, or try again in (9|10) minutes, when a hold ends\.$/,
      );
      await page.screenshot({ path: screenshotPath("shop-refusal-phone.png"), fullPage: true });

      // The request rate's window cannot be pinned from here: the API's answer over it, as it sends it.
      await page.route("**/reservations", (route) =>
        route.fulfill({
          status: 429,
          contentType: "application/problem+json",
          headers: { "Retry-After": "10" },
          body: JSON.stringify({ status: 429, code: "RATE_LIMITED", reason: "requests", detail: "Too many requests" }),
        }),
      );
      expect(await refusal(page)).toBe("Too many requests from your connection. Wait 10 seconds and try again.");
    });
  });

  it("puts a buyer on the waiting page of a queue that opens in a few seconds, keeps the place over a reload, admits and sells", async () => {
    const opensAt = new Date(Math.ceil((Date.now() + 4_000) / 1000) * 1000).toISOString();
    const event = await newEvent("Drop night", [{ name: "Drop", price: 0, capacity: 20 }], {
      queue: { opensAt, admitPerMinute: 6000 },
    });
    const tier = tierOf(event);
    await withBuyers(browser, ["10.4.0.1"], async (page) => {
      await openShop(page, event.id);
      await page.waitForSelector("#waiting:not([hidden])");
      expect(await page.isHidden("#choose")).toBe(true);
      await waitForText(page, "#queue-position", /^about \d+$/);
      expect(await page.textContent("#queue-status")).toMatch(/^The sale opens at \d\d:\d\d:\d\d\./);
      expect(await page.textContent("#queue-wait")).toMatch(/^\d+ seconds?$/);
      const kept = () => page.evaluate(`JSON.parse(sessionStorage.getItem("boxoffice.shop.${event.id}.queue")).id`);
      const entry = await kept();
      expect(entry).toMatch(/^qen_/);
      await page.reload();
      await page.waitForSelector("#waiting:not([hidden])");
      expect(await kept()).toBe(entry);

      await page.waitForSelector("#choose:not([hidden])", { timeout: 20_000 });
      expect(await page.textContent("#turn")).toMatch(
        /^It is your turn\. Reserve your tickets before \d\d:\d\d:\d\d\.$/,
      );
      await waitForText(page, `#left-${tier.id}`, /^20 left$/);
      await page.selectOption(`#qty-${tier.id}`, "2");
      const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/reservations"));
      await reserve(page);
      expect((await sent).headers()["boxoffice-admission"]).toMatch(/^adm_/);
      await page.fill("#email", "grace@example.com");
      expect(await page.textContent("#pay")).toBe("Get my tickets");
      await page.click("#pay");
      // A free order is paid at once: straight to its tickets page.
      await page.waitForURL(/\/tickets\/ord_\w+\?t=ordtok_/);
      await page.waitForSelector(".ticket .qr svg");
      expect(await page.locator(".ticket .qr svg").count()).toBe(2);
    });
  });

  it("is usable with the keyboard alone, labels every control, and fits a 375 px phone; screenshots for a person", async () => {
    const seats = ["A", "B", "C"].flatMap((row) => Array.from({ length: 10 }, (_, i) => `${row}${i + 1}`));
    const event = await newEvent("Screenshot night", [
      { name: "General admission", price: 2500, capacity: 500 },
      { name: "Balcony (seated)", price: 4500, seats },
    ]);
    const [ga, balcony] = [tierOf(event, 0), tierOf(event, 1)];
    await worker.api(
      "POST",
      `/v1/events/${event.id}/reservations`,
      { items: [{ tierId: balcony.id, seats: ["A3", "A4", "B7"] }] },
      { expect: 201, headers: { "CF-Connecting-IP": "10.5.0.9" } },
    );

    await withBuyers(
      browser,
      ["10.5.0.1"],
      async (page) => {
        await openShop(page, event.id);
        await waitForText(page, `#left-${balcony.id}`, /^27 seats free$/);
        // Nothing wider than the phone: no sideways scrolling.
        expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(NARROW_PHONE.width);
        const unlabelled = await page.evaluate(`[...document.querySelectorAll("input, select, button")]
          .filter((c) => !c.hidden && !(c.labels && c.labels.length) && !c.getAttribute("aria-label") && !c.textContent.trim())
          .map((c) => c.id)`);
        expect(unlabelled).toEqual([]);
        await page.screenshot({ path: screenshotPath("shop-phone.png"), fullPage: true });

        // The keyboard alone: into the quantity, choose 2, on to Reserve.
        await page.focus(`#qty-${ga.id}`);
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("ArrowDown");
        expect(await page.inputValue(`#qty-${ga.id}`)).toBe("2");
        // A seat with Tab and Space: the first free one of the balcony.
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.value")).toBe("A1");
        await page.keyboard.press("Space");
        expect(await page.textContent("#total")).toBe("3 tickets · €95.00");
        await page.focus("#reserve");
        await page.keyboard.press("Enter");
        await page.waitForSelector("#hold:not([hidden])");
        expect(await page.evaluate("document.activeElement.id")).toBe("hold-title");
        expect(await page.locator("#held-items li").allTextContents()).toEqual([
          "2 × General admission",
          "Balcony (seated): seat A1",
        ]);
        expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(NARROW_PHONE.width);
        await page.screenshot({ path: screenshotPath("shop-hold-phone.png"), fullPage: true });
      },
      NARROW_PHONE,
    );

    await withBuyers(
      browser,
      ["10.5.0.2"],
      async (page) => {
        await openShop(page, event.id);
        await waitForText(page, `#left-${ga.id}`, /^\d+ left$/);
        await page.screenshot({ path: screenshotPath("shop-desktop.png"), fullPage: true });
      },
      DESKTOP,
    );

    const drop = await newEvent("Screenshot drop", [{ name: "Drop", price: 3500, capacity: 100 }], {
      queue: { opensAt: new Date(Date.now() + 3_600_000).toISOString(), admitPerMinute: 30 },
    });
    await withBuyers(browser, ["10.5.0.3"], async (page) => {
      await openShop(page, drop.id);
      await waitForText(page, "#queue-position", /^about \d+$/);
      await page.screenshot({ path: screenshotPath("shop-waiting-phone.png"), fullPage: true });
    });
  });
});
