/**
 * What a scenario (the benchmark's or the load suite's) knows about the service it runs against, and
 * its way of calling the API for set-up and read-backs, off the clock.
 */
import { type Http, httpClient } from "./http.ts";

export interface ScenarioContext {
  baseUrl: string;
  adminToken: string;
  /** The server's STRIPE_WEBHOOK_SECRET, to sign webhooks as Stripe would. */
  webhookSecret: string;
  /** Calls the API and returns the parsed JSON body; throws unless the status is `expect` (default 200). */
  api: Http["api"];
  /** Runs `make` once per context and caches its result under `key` (e.g. one event for all scenarios). */
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** A progress line on stderr (preparations that take seconds). */
  log(message: string): void;
}

export interface ContextOptions {
  baseUrl: string;
  adminToken: string;
  webhookSecret: string;
  log?: (message: string) => void;
}

/** A ScenarioContext for one server. */
export function scenarioContext(options: ContextOptions): ScenarioContext {
  const cache = new Map<string, Promise<unknown>>();
  return {
    baseUrl: options.baseUrl,
    adminToken: options.adminToken,
    webhookSecret: options.webhookSecret,
    api: httpClient(options.baseUrl, { timeoutSeconds: 15 }).api,
    once<T>(key: string, make: () => Promise<T>): Promise<T> {
      let value = cache.get(key);
      if (!value) {
        value = make();
        cache.set(key, value);
      }
      return value as Promise<T>;
    },
    log: options.log ?? (() => undefined),
  };
}
