/**
 * Closed-loop load for journeys of several requests (a buyer who reserves, checks out, pays and
 * reads the order): `concurrency` loops, each starting its next journey when its last one ends,
 * until `durationSeconds` have passed (journeys under way then are finished and counted). Each
 * journey's latency, and each of its steps', goes into an HDR histogram (hdr-histogram-js does the
 * percentiles). Requests go through the harnesses' HTTP client (common/http.ts), which times the steps.
 */
import { httpClient, RequestMetrics, type RequestOptions } from "../common/http.ts";
import { Trend } from "../common/latency.ts";
import type { Measurement } from "./measure.ts";

export interface StepOptions extends Omit<RequestOptions, "expect"> {
  /** The status this step must answer; any other fails the journey. */
  expect: number;
}

export interface Steps {
  /** One request of the journey, timed under `name`; returns the parsed JSON body. */
  call<T>(name: string, method: string, path: string, options: StepOptions): Promise<T>;
  /** Fails the journey (e.g. the order does not read paid). */
  fail(reason: string): never;
}

export interface DriveOptions {
  baseUrl: string;
  concurrency: number;
  durationSeconds: number;
  /** Seconds to wait for one response before the journey counts as a timeout. */
  timeoutSeconds?: number;
  journey(steps: Steps): Promise<void>;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export interface DriveResult extends Measurement {
  /** Latency of each step (ms), over the completed journeys and the failed ones' completed steps. */
  steps: Record<string, LatencySummary>;
  /** The first few failures, for a diagnosis. */
  failures: string[];
}

/** A journey that got a wrong status or a wrong answer (not a connection error). */
class JourneyFailure extends Error {}

/** The summary the benchmark reports (its JSON's shape since the first runs: `mean`, no p95). */
function summary(t: Trend): LatencySummary {
  const { count, p50, p90, p99, avg, max } = t.summary();
  return { count, p50, p90, p99, mean: avg, max };
}

export async function drive(options: DriveOptions): Promise<DriveResult> {
  const journeys = new Trend();
  const metrics = new RequestMetrics();
  const http = httpClient(options.baseUrl, { metrics, timeoutSeconds: options.timeoutSeconds ?? 10 });
  const failures: string[] = [];
  let paid = 0;
  let failed = 0;
  let errors = 0;
  let timeouts = 0;

  const steps: Steps = {
    async call<T>(name: string, method: string, path: string, step: StepOptions): Promise<T> {
      const reply = await http.request<T>(name, method, path, step);
      // No response: the journey counts as an error (a timeout when it is one), not as failed.
      if (reply.error !== undefined) throw reply.error;
      if (!reply.ok) {
        throw new JourneyFailure(`${name}: expected ${step.expect}, got ${reply.status} ${reply.text.slice(0, 300)}`);
      }
      return reply.body;
    },
    fail(reason: string): never {
      throw new JourneyFailure(reason);
    },
  };

  const startedAt = performance.now();
  const deadline = startedAt + options.durationSeconds * 1000;
  const buyer = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        await options.journey(steps);
        journeys.record(performance.now() - started);
        paid++;
      } catch (error) {
        if (error instanceof JourneyFailure) {
          failed++;
        } else {
          errors++;
          if (error instanceof Error && error.name === "TimeoutError") timeouts++;
        }
        if (failures.length < 5) failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, buyer));
  const seconds = (performance.now() - startedAt) / 1000;

  // The responses of every step, by status (network errors are counted as the journeys' errors).
  const statusCodes: Record<string, number> = {};
  for (const stats of metrics.requests.values()) {
    for (const [status, n] of Object.entries(stats.statuses)) {
      if (status !== "error") statusCodes[status] = (statusCodes[status] ?? 0) + n;
    }
  }
  const non2xx = Object.entries(statusCodes)
    .filter(([status]) => Number(status) < 200 || Number(status) > 299)
    .reduce((n, [, count]) => n + count, 0);
  const latency = summary(journeys);
  const result: DriveResult = {
    requestsPerSec: paid / seconds,
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, mean: latency.mean, max: latency.max },
    total: paid + failed,
    non2xx,
    unexpected: failed,
    errors,
    timeouts,
    statusCodes,
    durationSeconds: Math.round(seconds * 100) / 100,
    steps: Object.fromEntries(
      [...metrics.requests]
        .filter(([, s]) => s.latency.summary().count > 0)
        .map(([name, s]) => [name, summary(s.latency)]),
    ),
    failures,
  };
  return result;
}
