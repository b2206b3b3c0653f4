/** A fresh phone-sized page in the tests' Chromium, that fails the test on any script or console error. */
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

/** The phone's screen, in CSS pixels. */
export const PHONE = { width: 390, height: 844 };

/**
 * Runs `steps` on a fresh phone-sized page of `browser` (after `initScript`, if any) and closes it,
 * failing on any script error or console error, a Content-Security-Policy refusal included (HTTP error
 * statuses are expected here). The pages' policies are enforced, so waits are selectors: Playwright's
 * polled `waitForFunction` would need 'unsafe-eval'.
 */
export async function onPhoneIn(
  browser: Browser | undefined,
  steps: (page: Page) => Promise<void>,
  initScript?: string,
): Promise<void> {
  if (!browser) throw new Error("no browser");
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true, locale: "en-GB", timezoneId: "UTC" });
  try {
    // Well under the test's own timeout, so that a wait that fails says which one.
    context.setDefaultTimeout(10_000);
    if (initScript) await context.addInitScript({ content: initScript });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
    });
    await steps(page);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}
