/**
 * The load harnesses' one HTTP client, over Node's fetch (undici, keep-alive connections).
 * `request` never throws: it answers the status (0 when no response came), whether it was one of the
 * expected answers, and the parsed JSON body. Given `metrics`, it records each request's latency (an
 * HDR histogram per request name and one for all) and status under the request's name, as the load
 * suite reports them and the benchmark's journeys time their steps. `api` is for set-up and
 * read-backs off the clock: it returns the body, or throws unless the answer was expected.
 */
import { Trend } from "./latency.ts";

/** A status, or a status with the problem document's `code` (e.g. `"409 SOLD_OUT"`: any other 409 fails). */
export type Expected = number | `${number} ${string}`;

export interface RequestOptions {
  /** Sent as `JSON.stringify(body)`. */
  body?: unknown;
  /** Sent as is (a signed webhook's exact bytes); wins over `body`. */
  raw?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  /** What counts as success (k6's `expected_response`; default 200); any other answer fails the request. */
  expect?: Expected | readonly Expected[];
}

export interface Reply<T> {
  /** 0 when no response came (network error or timeout). */
  status: number;
  /** The answer is one of `expect`. */
  ok: boolean;
  /** The parsed JSON body (a problem+json document on an error), `null` without one. */
  body: T;
  /** The body as received. */
  text: string;
  /** What fetch threw when no response came (a `TimeoutError`, a connection error). */
  error?: unknown;
}

export interface RequestStats {
  latency: Trend;
  /** Responses by status; network errors (no response) under `error`. */
  statuses: Record<string, number>;
  /** Responses whose status was not expected, plus network errors. */
  failed: number;
}

/** What a client given these metrics records: every request, by name. */
export class RequestMetrics {
  readonly requests = new Map<string, RequestStats>();
  readonly all = new Trend();
  serverErrors = 0;
  networkErrors = 0;
  /** The first few errors (and, in the suite, failed checks), for a diagnosis. */
  readonly samples: string[] = [];

  request(name: string): RequestStats {
    let stats = this.requests.get(name);
    if (!stats) {
      stats = { latency: new Trend(), statuses: {}, failed: 0 };
      this.requests.set(name, stats);
    }
    return stats;
  }

  sample(message: string): void {
    if (this.samples.length < 10) this.samples.push(message);
  }

  get httpReqs(): number {
    let n = 0;
    for (const s of this.requests.values()) n += Object.values(s.statuses).reduce((a, b) => a + b, 0);
    return n;
  }

  get httpFailed(): number {
    let n = 0;
    for (const s of this.requests.values()) n += s.failed;
    return n;
  }
}

export interface Http {
  /** One request, timed under `name` when the client has metrics. */
  request<T = unknown>(name: string, method: string, path: string, options?: RequestOptions): Promise<Reply<T>>;
  /** Calls the API and returns the parsed JSON body; throws unless the answer is `expect` (default 200). */
  api<T = unknown>(method: string, path: string, body?: unknown, options?: Omit<RequestOptions, "body">): Promise<T>;
}

export interface HttpOptions {
  /** Where every request is recorded; none: nothing is. */
  metrics?: RequestMetrics;
  /** Seconds to wait for one response (default 60). */
  timeoutSeconds?: number;
}

const expected = (expect: RequestOptions["expect"]): readonly Expected[] =>
  expect === undefined ? [200] : typeof expect === "object" ? expect : [expect];

/** A client for `baseUrl`. */
export function httpClient(baseUrl: string, options: HttpOptions = {}): Http {
  const { metrics } = options;
  const timeoutMs = (options.timeoutSeconds ?? 60) * 1000;

  async function request<T>(name: string, method: string, path: string, opts: RequestOptions = {}): Promise<Reply<T>> {
    const stats = metrics?.request(name);
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (payload !== undefined) headers["Content-Type"] ??= "application/json";
    const started = performance.now();
    let status: number;
    let text: string;
    try {
      const res = await fetch(new URL(path, baseUrl), {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
      status = res.status;
    } catch (error) {
      if (metrics && stats) {
        stats.statuses.error = (stats.statuses.error ?? 0) + 1;
        stats.failed++;
        metrics.networkErrors++;
        metrics.sample(`${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
      return { status: 0, ok: false, body: null as T, text: "", error };
    }
    const ms = performance.now() - started;
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const code = (body as { code?: unknown } | null)?.code;
    const ok = expected(opts.expect).some((e) => e === status || e === `${status} ${code}`);
    if (metrics && stats) {
      stats.latency.record(ms);
      metrics.all.record(ms);
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      if (!ok) {
        stats.failed++;
        metrics.sample(`${name}: ${method} ${path} answered ${status}: ${text.slice(0, 300)}`);
      }
      if (status >= 500) metrics.serverErrors++;
    }
    return { status, ok, body: body as T, text };
  }

  return {
    request,
    async api<T>(method: string, path: string, body?: unknown, opts: Omit<RequestOptions, "body"> = {}): Promise<T> {
      const reply = await request<T>(`${method} ${path}`, method, path, { ...opts, body });
      if (reply.error !== undefined) throw reply.error;
      if (!reply.ok) {
        const expect = expected(opts.expect).join(" or ");
        throw new Error(`${method} ${path}: expected ${expect}, got ${reply.status} ${reply.text}`);
      }
      return reply.body;
    },
  };
}
