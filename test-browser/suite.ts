/**
 * The set-up every browser test file shares: a fresh local Worker and one headless Chromium for the file,
 * torn down after it, the browser first (stopping the server ends whatever processes the tests still have
 * running).
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { launchChromium } from "./chromium.ts";
import { type LocalWorker, startWorker } from "./worker.ts";

/** Registers the file's `beforeAll`/`afterAll`; `ready` gets both once they are up (and may seed data). */
export function withWorkerAndBrowser(ready: (worker: LocalWorker, browser: Browser) => void | Promise<void>): void {
  let worker: LocalWorker | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    worker = await startWorker();
    browser = await launchChromium();
    await ready(worker, browser);
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await worker?.stop();
    }
  });
}
