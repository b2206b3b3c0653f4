/**
 * The load suite's engine, in the manner of k6: virtual users (VUs) that each run iterations in a closed
 * loop, started along a linear ramp; an open-loop executor that starts work at a fixed rate; a barrier
 * that releases VUs at the same instant; and the metrics every run reports. Requests go through the
 * harnesses' HTTP client (common/http.ts), given these metrics: it records every request's latency and
 * status under its name; a status outside the request's expected ones, a 5xx or a network error fails it.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Http, httpClient, RequestMetrics } from "../common/http.ts";
import { Trend } from "../common/latency.ts";
import { type CpuWindow, cpuWindow } from "../serve/processes.ts";

export interface Check {
  pass: number;
  fail: number;
}

export class Metrics extends RequestMetrics {
  readonly iterationDuration = new Trend();
  readonly checks = new Map<string, Check>();
  iterations = 0;
  /** Iterations that threw (an unexpected answer the scenario could not go on from). */
  iterationsInterrupted = 0;
  vusMax = 0;
  /** CPU used while the load ran: this process's, and its child processes' (a local server's workerd). */
  cpu: CpuWindow | undefined;
  readonly #startedAt = performance.now();
  readonly #cpu = cpuWindow();
  #endedAt: number | undefined;

  /** Milliseconds since the metrics were made (the scenario's measured part starts then). */
  elapsedMs(): number {
    return (this.#endedAt ?? performance.now()) - this.#startedAt;
  }

  end(): void {
    if (this.#endedAt !== undefined) return;
    this.#endedAt = performance.now();
    this.cpu = this.#cpu();
  }

  /** k6's `check`: counts a pass or a fail under `name` and returns `ok`. */
  check(name: string, ok: boolean, detail?: string): boolean {
    const c = this.checks.get(name) ?? { pass: 0, fail: 0 };
    if (ok) c.pass++;
    else {
      c.fail++;
      this.sample(`check failed: ${name}${detail ? `: ${detail}` : ""}`);
    }
    this.checks.set(name, c);
    return ok;
  }

  get checksPassed(): number {
    return [...this.checks.values()].reduce((n, c) => n + c.pass, 0);
  }

  get checksFailed(): number {
    return [...this.checks.values()].reduce((n, c) => n + c.fail, 0);
  }
}

/** The measured part of a scenario starts here: fresh metrics, and a client for `baseUrl` that records in them. */
export function measured(baseUrl: string): { metrics: Metrics; http: Http } {
  const metrics = new Metrics();
  return { metrics, http: httpClient(baseUrl, { metrics }) };
}

export interface VuOptions {
  vus: number;
  /** VU `i` starts at `i × rampSeconds / vus` (0: all at once). */
  rampSeconds?: number;
  /** No iteration starts after this many seconds (those under way finish); none: until every VU is done. */
  durationSeconds?: number;
  /** At most this many iterations per VU. */
  iterationsPerVu?: number;
  /** One iteration of VU `vu` (0-based), its `i`th; `"done"` ends this VU. */
  iteration(vu: number, i: number): Promise<"done" | undefined>;
}

/** k6's ramping-vus executor, closed loop: each VU starts its next iteration when its last one ends. */
export async function runVus(metrics: Metrics, options: VuOptions): Promise<void> {
  const startedAt = performance.now();
  const rampMs = (options.rampSeconds ?? 0) * 1000;
  const deadline = options.durationSeconds === undefined ? Infinity : startedAt + options.durationSeconds * 1000;
  const maxIterations = options.iterationsPerVu ?? Infinity;
  let active = 0;
  const vu = async (index: number) => {
    const startAt = startedAt + (rampMs * index) / options.vus;
    const wait = startAt - performance.now();
    if (wait > 0) await sleep(wait);
    active++;
    metrics.vusMax = Math.max(metrics.vusMax, active);
    try {
      for (let i = 0; i < maxIterations && performance.now() < deadline; i++) {
        const started = performance.now();
        let outcome: "done" | undefined;
        try {
          outcome = await options.iteration(index, i);
          metrics.iterations++;
          metrics.iterationDuration.record(performance.now() - started);
        } catch (error) {
          metrics.iterationsInterrupted++;
          metrics.sample(`iteration: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (outcome === "done") break;
      }
    } finally {
      active--;
    }
  };
  await Promise.all(Array.from({ length: options.vus }, (_, i) => vu(i)));
  metrics.end();
}

/**
 * k6's constant-arrival-rate executor, open loop: `run(item)` starts for each item at `rate` a second,
 * whether or not the earlier ones have answered. `vusMax` is the most in flight at once.
 */
export async function runArrivals<T>(
  metrics: Metrics,
  options: { rate: number; items: readonly T[]; run(item: T, i: number): Promise<void> },
): Promise<void> {
  const startedAt = performance.now();
  let inFlight = 0;
  const started: Promise<void>[] = [];
  for (const [i, item] of options.items.entries()) {
    const wait = startedAt + (i * 1000) / options.rate - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight++;
    metrics.vusMax = Math.max(metrics.vusMax, inFlight);
    const t0 = performance.now();
    started.push(
      options.run(item, i).then(
        () => {
          inFlight--;
          metrics.iterations++;
          metrics.iterationDuration.record(performance.now() - t0);
        },
        (error: unknown) => {
          inFlight--;
          metrics.iterationsInterrupted++;
          metrics.sample(`iteration: ${error instanceof Error ? error.message : String(error)}`);
        },
      ),
    );
  }
  await Promise.all(started);
  metrics.end();
}

/**
 * Releases all `parties` together once the last one arrives, in a random order (so that the first to
 * arrive is not always the first to go), then resets for the next round.
 */
export class Barrier {
  readonly #parties: number;
  #waiting: (() => void)[] = [];

  constructor(parties: number) {
    this.#parties = parties;
  }

  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#waiting.length === this.#parties) {
        const release = this.#waiting;
        this.#waiting = [];
        for (const r of shuffled(release)) r();
      }
    });
  }
}

/** A copy of `items` in random order (Fisher–Yates). */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
