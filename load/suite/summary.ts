/**
 * The suite's report of one scenario: the figures (k6's names: vus_max, iterations, http_reqs,
 * http_req_duration per request name, http_req_failed, checks), its thresholds and the event's verify
 * checks, as the JSON written to load/results/ and as a k6-style text summary.
 */
import type { Percentiles } from "../common/latency.ts";
import { round } from "../serve/processes.ts";
import type { Verify } from "./checks.ts";
import type { Metrics } from "./engine.ts";
import { decides, type Threshold } from "./thresholds.ts";

export interface ScenarioReport {
  scenario: string;
  description: string;
  smoke: boolean;
  baseUrl: string;
  eventId: string | null;
  startedAt: string;
  finishedAt: string;
  /** Wall time of the whole scenario, set-up and read-backs included. */
  wallSeconds: number;
  settings: Record<string, unknown>;
  summary: ReturnType<typeof summarise> | null;
  facts: Record<string, unknown>;
  thresholds: Threshold[];
  verify: Verify | null;
  /** Set when the scenario could not run to the end (set-up failed, no webhook secret...). */
  error?: string;
  /** The first few failed requests and checks. */
  samples: string[];
  ok: boolean;
}

/** The measured figures of a scenario. */
export function summarise(metrics: Metrics, local: boolean) {
  const seconds = metrics.elapsedMs() / 1000;
  const byName = Object.fromEntries(
    [...metrics.requests].map(([name, s]) => {
      const count = Object.values(s.statuses).reduce((a, b) => a + b, 0);
      return [name, { count, failed: s.failed, statuses: s.statuses, latencyMs: s.latency.summary() }];
    }),
  );
  return {
    durationSeconds: round(seconds, 2),
    vusMax: metrics.vusMax,
    iterations: metrics.iterations,
    iterationsInterrupted: metrics.iterationsInterrupted,
    iterationsPerSecond: round(metrics.iterations / seconds),
    iterationDurationMs: metrics.iterationDuration.summary(),
    httpReqs: metrics.httpReqs,
    httpReqsPerSecond: round(metrics.httpReqs / seconds),
    httpReqFailed: metrics.httpFailed,
    http5xx: metrics.serverErrors,
    networkErrors: metrics.networkErrors,
    httpReqDurationMs: metrics.all.summary(),
    requests: byName,
    checks: { passed: metrics.checksPassed, failed: metrics.checksFailed, byName: Object.fromEntries(metrics.checks) },
    /** In % of one core; the server's is null when it is not a local child process (--url). */
    cpu: {
      server: local ? (metrics.cpu?.serverCpuPercent ?? null) : null,
      client: metrics.cpu?.benchCpuPercent ?? null,
    },
  };
}

const DOTS = 34;
const label = (name: string, indent = 2) =>
  `${" ".repeat(indent)}${name} ${".".repeat(Math.max(2, DOTS - name.length - indent))}:`;
const ms = (n: number) => (n >= 1000 ? `${round(n / 1000, 2)}s` : `${round(n, 1)}ms`);
const trend = (p: Percentiles) =>
  `avg=${ms(p.avg)} min=${ms(p.min)} med=${ms(p.p50)} p(90)=${ms(p.p90)} p(95)=${ms(p.p95)} p(99)=${ms(p.p99)} max=${ms(p.max)}`;

/** Nested facts as `a=1 b.c=2`, for one line. */
function flat(value: unknown, prefix = ""): string[] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flat(v, prefix ? `${prefix}.${k}` : k));
  }
  return [`${prefix}=${Array.isArray(value) ? JSON.stringify(value) : String(value)}`];
}

/** The k6-style text summary. */
export function formatReport(r: ScenarioReport): string {
  const lines: string[] = [];
  lines.push(`\n█ ${r.scenario}: ${r.smoke ? `smoke, scaled down from: ${r.description}` : r.description}`);
  lines.push(`  event ${r.eventId ?? "–"} at ${r.baseUrl}; ${flat(r.settings).join(" ")}`);
  const s = r.summary;
  if (s) {
    lines.push("");
    for (const [name, c] of Object.entries(s.checks.byName)) {
      const total = c.pass + c.fail;
      lines.push(`  ${c.fail === 0 ? "✓" : "✗"} ${name}`);
      if (c.fail > 0) lines.push(`   ↳  ${round((100 * c.pass) / total, 0)}% — ✓ ${c.pass} / ✗ ${c.fail}`);
    }
    const checks = s.checks.passed + s.checks.failed;
    lines.push("");
    lines.push(
      `${label("checks")} ${checks ? `${round((100 * s.checks.passed) / checks, 2).toFixed(2)}%` : "–"} ✓ ${s.checks.passed} ✗ ${s.checks.failed}`,
    );
    lines.push(`${label("http_req_duration")} ${trend(s.httpReqDurationMs)}`);
    for (const [name, q] of Object.entries(s.requests)) {
      lines.push(`${label(`{ name:${name} }`, 4)} ${trend(q.latencyMs)}`);
    }
    const failedPct = s.httpReqs ? round((100 * s.httpReqFailed) / s.httpReqs, 2).toFixed(2) : "0.00";
    lines.push(
      `${label("http_req_failed")} ${failedPct}% ${s.httpReqFailed} of ${s.httpReqs} (5xx ${s.http5xx}, network errors ${s.networkErrors})`,
    );
    lines.push(`${label("http_reqs")} ${s.httpReqs} ${s.httpReqsPerSecond}/s`);
    for (const [name, q] of Object.entries(s.requests)) {
      const statuses = Object.entries(q.statuses)
        .map(([code, n]) => `${code}×${n}`)
        .join(" ");
      lines.push(`${label(`{ name:${name} }`, 4)} ${q.count} ${statuses}`);
    }
    lines.push(`${label("iteration_duration")} ${trend(s.iterationDurationMs)}`);
    lines.push(
      `${label("iterations")} ${s.iterations} ${s.iterationsPerSecond}/s${s.iterationsInterrupted ? ` (${s.iterationsInterrupted} interrupted)` : ""}`,
    );
    lines.push(`${label("vus_max")} ${s.vusMax} (the most active at once)`);
    lines.push(
      `${label("cpu")} server ${s.cpu.server === null ? "–" : `${s.cpu.server}%`}, load generator ${s.cpu.client ?? "–"}% (of one core)`,
    );
    lines.push(`${label("duration")} ${s.durationSeconds}s measured, ${r.wallSeconds}s with set-up and checks`);
  }
  if (Object.keys(r.facts).length > 0) lines.push(`\n  facts: ${flat(r.facts).join(" ")}`);
  if (r.thresholds.length > 0) {
    lines.push("\n  thresholds");
    for (const t of r.thresholds) {
      const note = t.ok || decides(t, r.smoke) ? "" : " — timing, reported but not enforced in --smoke";
      lines.push(`  ${t.ok ? "✓" : "✗"} ${t.name} (actual ${t.actual})${note}`);
    }
  }
  if (r.verify) {
    lines.push("\n  verify (GET /v1/events/:id/verify)");
    for (const c of r.verify.checks) lines.push(`  ${c.ok ? "✓" : "✗"} ${c.name} (${c.detail})`);
  }
  if (r.error) lines.push(`\n  ✗ error: ${r.error}`);
  if (r.samples.length > 0) {
    lines.push("\n  first failures:");
    for (const m of r.samples) lines.push(`    ${m}`);
  }
  const failedThresholds = r.thresholds.filter((t) => !t.ok).length;
  const failedChecks = r.verify?.checks.filter((c) => !c.ok).length ?? 0;
  lines.push(
    r.ok
      ? `\n  ✓ ${r.scenario} passed`
      : `\n  ✗ ${r.scenario} FAILED: ${failedThresholds} threshold(s), ${failedChecks} verify check(s)${r.error ? ", error" : ""}`,
  );
  return lines.join("\n");
}
