/** The benchmark's outputs: the table printed at the end and the JSON file in load/results/. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Measurement } from "./measure.ts";
import type { CpuWindow } from "./processes.ts";
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

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    node: process.version,
  };
}

const require = createRequire(import.meta.url);

function versionOf(pkg: string, from?: string): string | null {
  try {
    const file = require.resolve(`${pkg}/package.json`, from ? { paths: [from] } : undefined);
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The versions that matter, each as the package that actually runs resolves it. */
export function softwareVersions() {
  const wranglerDir = path.dirname(require.resolve("wrangler/package.json"));
  const miniflareDir = path.dirname(require.resolve("miniflare/package.json"));
  return {
    wrangler: versionOf("wrangler"),
    miniflare: versionOf("miniflare"),
    miniflareOfWrangler: versionOf("miniflare", wranglerDir),
    workerd: versionOf("workerd", miniflareDir),
    autocannon: versionOf("autocannon"),
  };
}

export function gitInfo(root: string) {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    return { commit: git("rev-parse", "HEAD"), dirty: git("status", "--porcelain").length > 0 };
  } catch {
    return null;
  }
}

export async function writeResults(file: string, data: unknown): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const left = new Set([0, 1]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
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
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line), ...notes].join("\n");
}
