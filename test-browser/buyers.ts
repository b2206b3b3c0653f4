/**
 * Buyers in the tests' Chromium: each a fresh browser context of its own (its own storage, as another
 * person's browser has), coming from its own address, so that the service's per-client limits (docs/api.md,
 * "Drops": a client is its `CF-Connecting-IP`, which Miniflare takes from the request as the edge would)
 * count each buyer apart, as they would count two people. A buyer's page fails the test on any script
 * error or console error, a Content-Security-Policy refusal included (HTTP error statuses are expected).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

/** A phone as narrow as they come (CSS pixels), and a laptop's window. */
export const NARROW_PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 900 };

/** Where the tests leave screenshots for a person to look at (git-ignored). */
export const SCREENSHOTS = path.join(import.meta.dirname, "screenshots");

export const screenshotPath = (name: string) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
};

export interface Buyer {
  page: Page;
  /** What the page reported: script errors and console errors. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBuyer(
  browser: Browser | undefined,
  ip: string,
  viewport: { width: number; height: number } = NARROW_PHONE,
): Promise<Buyer> {
  if (!browser) throw new Error("no browser");
  const context = await browser.newContext({
    viewport,
    hasTouch: viewport.width < 600,
    locale: "en-GB",
    timezoneId: "UTC",
    extraHTTPHeaders: { "CF-Connecting-IP": ip },
  });
  // Well under the test's own timeout, so that a wait that fails says which one.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  return { page, errors, close: () => context.close() };
}

/** Runs `steps` with a buyer from each of `ips`, then fails on any error their pages reported, and closes them. */
export async function withBuyers(
  browser: Browser | undefined,
  ips: string[],
  steps: (...pages: Page[]) => Promise<void>,
  viewport?: { width: number; height: number },
): Promise<void> {
  const buyers: Buyer[] = [];
  try {
    for (const ip of ips) buyers.push(await openBuyer(browser, ip, viewport));
    await steps(...buyers.map((b) => b.page));
    for (const buyer of buyers) expect(buyer.errors).toEqual([]);
  } finally {
    await Promise.all(buyers.map((b) => b.close()));
  }
}
