/**
 * One load measurement: a thin wrapper over autocannon (it does the load generation, the latency
 * histogram and the percentiles), plus the check that every response had the expected status.
 */
import autocannon from "autocannon";
import { clientHeader } from "../common/clients.ts";

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path and query, e.g. `/v1/events/evt_…/reservations`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as is with every request; a JSON body needs its own `Content-Type` header. */
  body?: string;
  /** The status every response must have (e.g. 201 for a reservation). */
  expectStatus: number;
  /**
   * For routes that need a different request each time (a unique webhook event, the next ticket to
   * check in): called before every request; what it returns replaces `body` and extends `headers`.
   */
  perRequest?: () => { body?: string; headers?: Record<string, string> };
  /**
   * Called before every request: the address it comes from, sent as `CF-Connecting-IP`
   * (common/clients.ts), so that no client of the service's goes over its limits.
   */
  client?: () => string;
}

export interface MeasureOptions {
  baseUrl: string;
  request: RequestSpec;
  connections: number;
  durationSeconds: number;
  /** Seconds to wait for one response before autocannon counts a timeout. */
  timeoutSeconds?: number;
  /**
   * At most this many requests in all (for a `perRequest` supply that can run out, e.g. one webhook
   * per prepared order): the run stops early once every connection has sent its share.
   */
  maxRequests?: number;
}

export interface Measurement {
  /** Mean of autocannon's once-a-second samples of completed requests. */
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** Responses received. */
  total: number;
  /** Responses with a status outside 200–299. */
  non2xx: number;
  /** Responses whose status was not `expectStatus` (a 200 where 201 was expected counts here). */
  unexpected: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Measured wall time, in seconds. */
  durationSeconds: number;
  /** Set when `maxRequests` ran out before `durationSeconds`: the run stopped early. */
  stoppedEarly?: boolean;
}

/** What changes from one request to the next: `perRequest`'s body and headers, and the client's address. */
function changes(request: RequestSpec): RequestSpec["perRequest"] {
  const { perRequest, client } = request;
  if (!client) return perRequest;
  return () => {
    const next = perRequest?.() ?? {};
    return { ...next, headers: { ...next.headers, ...clientHeader(client()) } };
  };
}

export async function measure(options: MeasureOptions): Promise<Measurement> {
  const { request } = options;
  const perRequest = changes(request);
  const startedAt = performance.now();
  let lastResponseAt = startedAt;
  const settings: autocannon.Options = {
    url: new URL(request.path, options.baseUrl).href,
    method: request.method,
    headers: request.headers ?? {},
    ...(request.body === undefined ? {} : { body: request.body }),
    ...(perRequest
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => {
                const next = perRequest();
                return {
                  ...req,
                  ...(next.body === undefined ? {} : { body: next.body }),
                  headers: { ...req.headers, ...next.headers },
                };
              },
            },
          ],
        }
      : {}),
    connections: options.connections,
    duration: options.durationSeconds,
    ...(options.maxRequests === undefined ? {} : { maxOverallRequests: options.maxRequests }),
    timeout: options.timeoutSeconds ?? 10,
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(settings, (error: unknown, r: autocannon.Result) =>
      error ? reject(error) : resolve(r),
    );
    instance.on("response", () => {
      lastResponseAt = performance.now();
    });
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  // autocannon ends a run at its next once-a-second sample: when the requests ran out mid-second, that
  // last sample is partial and the mean of the samples reads low, so the rate is over the time in use.
  const activeSeconds = (lastResponseAt - startedAt) / 1000;
  const stoppedEarly = options.maxRequests !== undefined && activeSeconds < options.durationSeconds - 0.5;
  return {
    requestsPerSec: stoppedEarly ? total / activeSeconds : result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.mean,
      max: result.latency.max,
    },
    total,
    non2xx: result.non2xx,
    unexpected: total - (statusCodes[String(request.expectStatus)] ?? 0),
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    durationSeconds: stoppedEarly ? Math.round(activeSeconds * 100) / 100 : result.duration,
    ...(stoppedEarly ? { stoppedEarly } : {}),
  };
}
