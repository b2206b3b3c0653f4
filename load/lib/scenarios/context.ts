/** What a scenario knows about the server it runs against, and its way of calling the API. */

export interface ScenarioContext {
  baseUrl: string;
  adminToken: string;
  /** The server's STRIPE_WEBHOOK_SECRET, to sign webhooks as Stripe would. */
  webhookSecret: string;
  /** Calls the API and returns the parsed JSON body; throws unless the status is `expect`. */
  api<T = unknown>(method: string, path: string, body?: unknown, options?: ApiOptions): Promise<T>;
  /** Runs `make` once per server and caches its result under `key` (e.g. one event for all scenarios). */
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** A progress line on stderr (preparations that take seconds). */
  log(message: string): void;
}

export interface ApiOptions {
  token?: string;
  expect?: number;
  headers?: Record<string, string>;
  /** The body as is (e.g. a signed webhook's exact bytes) instead of `JSON.stringify(body)`. */
  raw?: string;
}

export interface ContextOptions {
  baseUrl: string;
  adminToken: string;
  webhookSecret: string;
  log?: (message: string) => void;
}

/** A ScenarioContext for one server. */
export function scenarioContext(options: ContextOptions): ScenarioContext {
  const { baseUrl } = options;
  const cache = new Map<string, Promise<unknown>>();
  return {
    baseUrl,
    adminToken: options.adminToken,
    webhookSecret: options.webhookSecret,
    async api<T>(method: string, path: string, body?: unknown, opts: ApiOptions = {}): Promise<T> {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
      const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
      if (payload !== undefined) headers["Content-Type"] ??= "application/json";
      const res = await fetch(new URL(path, baseUrl), {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      const expect = opts.expect ?? 200;
      if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    },
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
