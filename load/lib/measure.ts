/**
 * One load measurement: a thin wrapper over autocannon (it does the load generation, the latency
 * histogram and the percentiles), plus the check that every response had the expected status.
 */
import autocannon from "autocannon";

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
}

export interface MeasureOptions {
  baseUrl: string;
  request: RequestSpec;
  connections: number;
  durationSeconds: number;
  /** Seconds to wait for one response before autocannon counts a timeout. */
  timeoutSeconds?: number;
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
  durationSeconds: number;
}

export async function measure(options: MeasureOptions): Promise<Measurement> {
  const { request } = options;
  const { perRequest } = request;
  const result = await autocannon({
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
    timeout: options.timeoutSeconds ?? 10,
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requestsPerSec: result.requests.average,
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
    durationSeconds: result.duration,
  };
}
