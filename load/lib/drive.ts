/**
 * Closed-loop load for journeys of several requests (a buyer who reserves, checks out, pays and
 * reads the order): `concurrency` loops, each starting its next journey when its last one ends,
 * until `durationSeconds` have passed (journeys under way then are finished and counted). Each
 * journey's latency, and each of its steps', goes into an HDR histogram (hdr-histogram-js does the
 * percentiles). Requests use Node's fetch (undici, keep-alive connections).
 */
import { Trend } from "./latency.ts";
import type { Measurement } from "./measure.ts";

export interface StepOptions {
  body?: string;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
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
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  const journeys = new Trend();
  const stepTrends = new Map<string, Trend>();
  const statusCodes: Record<string, number> = {};
  const failures: string[] = [];
  let paid = 0;
  let failed = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;

  const steps: Steps = {
    async call<T>(name: string, method: string, path: string, step: StepOptions): Promise<T> {
      const headers: Record<string, string> = { ...step.headers };
      if (step.token) headers.Authorization = `Bearer ${step.token}`;
      if (step.body !== undefined) headers["Content-Type"] ??= "application/json";
      const started = performance.now();
      const res = await fetch(new URL(path, options.baseUrl), {
        method,
        headers,
        ...(step.body === undefined ? {} : { body: step.body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let trend = stepTrends.get(name);
      if (!trend) {
        trend = new Trend();
        stepTrends.set(name, trend);
      }
      trend.record(performance.now() - started);
      statusCodes[res.status] = (statusCodes[res.status] ?? 0) + 1;
      if (res.status < 200 || res.status > 299) non2xx++;
      if (res.status !== step.expect) {
        throw new JourneyFailure(`${name}: expected ${step.expect}, got ${res.status} ${text.slice(0, 300)}`);
      }
      return (text ? JSON.parse(text) : null) as T;
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
    steps: Object.fromEntries([...stepTrends].map(([name, t]) => [name, summary(t)])),
    failures,
  };
  return result;
}
