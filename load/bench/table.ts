/**
 * The benchmark's results: one per server and route, as written to load/results/bench-<timestamp>.json,
 * and the table printed at the end.
 */
import { textTable } from "../common/report.ts";
import type { CpuWindow } from "../serve/processes.ts";
import type { Measurement } from "./measure.ts";
import type { ProfileSummary } from "./profile.ts";

export interface Result extends Measurement, CpuWindow {
  server: string;
  scenario: string;
  method: string;
  path: string;
  /** `connections` (autocannon's) or `buyers` (journeys, each one request at a time). */
  concurrency: "connections" | "buyers";
  connections: number;
  /** This route's req/s over the same server's healthz req/s. */
  ratioToBaseline: number | null;
  /** Whatever the scenario's `after` hook reported. */
  extra?: Record<string, unknown>;
  /** With `--profile`: the CPU profiles taken while this route was measured. */
  profiles?: ProfileSummary[];
}

export interface ServerRecord {
  kind: string;
  description: string;
  url?: string;
  /** The `[vars]` of wrangler.toml this run overrode (the Stripe simulator's). */
  vars?: Record<string, string>;
  /** Start to first healthy answer, D1 migrations included. */
  startupMs?: number;
  error?: string;
}

const fixed = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);

export function formatTable(results: Result[]): string {
  const header = [
    "server",
    "route",
    "conc",
    "secs",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "non-2xx",
    "errors",
    "÷ healthz",
    "server CPU",
    "bench CPU",
  ];
  const rows = results.map((r) => [
    r.server,
    r.scenario,
    `${r.connections}${r.concurrency === "buyers" ? " b" : ""}`,
    `${fixed(r.durationSeconds, 1)}${r.stoppedEarly ? "*" : ""}`,
    fixed(r.requestsPerSec),
    fixed(r.latencyMs.p50),
    fixed(r.latencyMs.p90),
    fixed(r.latencyMs.p99),
    String(r.non2xx),
    String(r.errors),
    fixed(r.ratioToBaseline, 2),
    r.serverCpuPercent === null ? "–" : `${fixed(r.serverCpuPercent)}%`,
    `${fixed(r.benchCpuPercent)}%`,
  ]);
  const notes = [
    ...(results.some((r) => r.concurrency === "buyers")
      ? [
          "b: buyers, each on one journey at a time; for journeys req/s is journeys/s and the latencies are whole journeys",
        ]
      : []),
    ...(results.some((r) => r.stoppedEarly)
      ? ["*: stopped early, every prepared request sent; rate over the seconds run"]
      : []),
  ];
  return [...textTable(header, rows, [0, 1]), ...notes].join("\n");
}
