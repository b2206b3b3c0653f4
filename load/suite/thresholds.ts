/**
 * What a suite scenario is (it sets up its own fresh event, runs its load and returns its metrics and
 * thresholds; the runner adds the correctness ones every scenario must meet, calls verify and
 * reports), and the thresholds it can state: latency percentiles read from the engine's histograms,
 * error rates, and exact counts.
 */
import type { ScenarioContext } from "../common/context.ts";
import type { Metrics } from "./engine.ts";

export interface SuiteContext extends ScenarioContext {
  /** The scaled-down version (`--smoke`): fewer VUs and less work, the same correctness thresholds. */
  smoke: boolean;
}

export interface Threshold {
  /** k6-like, e.g. `http_req_duration{name:reserve} p(95) < 500 ms` or `paid orders = 50`. */
  name: string;
  ok: boolean;
  actual: string;
  /**
   * A latency threshold. `--smoke` (what CI runs, on shared and noisy machines) reports these but does
   * not fail on them: CI proves correctness; latency is judged by the full run.
   */
  timing?: true;
}

/** Whether a threshold decides the run: every one in a full run, only correctness in a smoke run. */
export const decides = (t: Threshold, smoke: boolean) => !(smoke && t.timing);

export interface Outcome {
  eventId: string;
  /** The scenario's parameters as run (VUs, capacity, rates...). */
  settings: Record<string, unknown>;
  metrics: Metrics;
  thresholds: Threshold[];
  /** Figures to report besides the thresholds (sell-out time, counts read back from the service). */
  facts: Record<string, unknown>;
}

export interface SuiteScenario {
  name: string;
  /** One line: what it does and what passes. */
  description: string;
  /** It pays orders with signed webhooks, so it needs the webhook secret. */
  pays: boolean;
  run(ctx: SuiteContext): Promise<Outcome>;
}

/** `p(pct)` of one request name's latency (all requests when `name` is null) below `ms`. */
export function latencyBelow(metrics: Metrics, name: string | null, pct: 50 | 90 | 95 | 99, ms: number): Threshold {
  const trend = name === null ? metrics.all : metrics.requests.get(name)?.latency;
  const summary = trend?.summary();
  const key = `p${pct}` as const;
  const actual = summary && summary.count > 0 ? summary[key] : null;
  return {
    name: `http_req_duration${name === null ? "" : `{name:${name}}`} p(${pct}) < ${ms} ms`,
    ok: actual !== null && actual < ms,
    actual: actual === null ? "no requests" : `${actual} ms`,
    timing: true,
  };
}

/** The share of failed requests (unexpected status or no response) below `max` (0.01 = 1 %). */
export function failedRateBelow(metrics: Metrics, max: number): Threshold {
  const total = metrics.httpReqs;
  const rate = total === 0 ? 1 : metrics.httpFailed / total;
  return {
    name: `http_req_failed rate < ${max * 100}%`,
    ok: total > 0 && rate < max,
    actual: `${(rate * 100).toFixed(2)}% (${metrics.httpFailed} of ${total})`,
  };
}

export function exactly(name: string, actual: number, expected: number): Threshold {
  return { name: `${name} = ${expected}`, ok: actual === expected, actual: String(actual) };
}

export function atMost(name: string, actual: number, max: number): Threshold {
  return { name: `${name} <= ${max}`, ok: actual <= max, actual: String(actual) };
}

export function atLeast(name: string, actual: number, min: number): Threshold {
  return { name: `${name} >= ${min}`, ok: actual >= min, actual: String(actual) };
}

/**
 * What every run must show, whatever its scenario (the runner adds these): no failed check, no
 * iteration cut short by an answer it could not go on from, no 5xx and no network error.
 */
export function correctness(metrics: Metrics): Threshold[] {
  return [
    exactly("checks failed", metrics.checksFailed, 0),
    exactly("iterations interrupted", metrics.iterationsInterrupted, 0),
    exactly("responses 5xx", metrics.serverErrors, 0),
    exactly("network errors", metrics.networkErrors, 0),
  ];
}
