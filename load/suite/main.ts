/**
 * `npm run load [-- <scenario>...] [--url <base>] [--token …] [--webhook-secret …] [--smoke]`: the load
 * and race suite. Without --url it serves the Worker locally (load/serve's miniflare-direct
 * server: the deploy bundle, the Stripe simulator, fresh state and secrets) and stops it, with every
 * process it started, at the end. Each scenario runs on its own fresh event, then the event's verify
 * checks are read; a k6-style summary is printed and load/results/load-<scenario>-<timestamp>.json
 * written. Besides each scenario's own thresholds, every scenario must show no failed check, no
 * interrupted iteration, no 5xx and no network error. Exit status 1 if any threshold or verify check
 * failed, or a process was left running. See `--help`.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { scenarioContext } from "../common/context.ts";
import { fileStamp, gitInfo, machineInfo, RESULTS_DIR, textTable, writeResults } from "../common/report.ts";
import type { ProcInfo } from "../serve/processes.ts";
import type { Server } from "../serve/server.ts";
import { killLeftovers, startServer } from "../serve/start.ts";
import { Workspace } from "../serve/workspace.ts";
import { verifyEvent } from "./checks.ts";
import { SUITE } from "./scenarios/index.ts";
import { formatReport, type ScenarioReport, summarise } from "./summary.ts";
import { correctness, decides, type SuiteContext, type SuiteScenario } from "./thresholds.ts";

const ROOT = path.join(import.meta.dirname, "..", "..");

const HELP = `npm run load [-- [scenario...] [options]]

  scenario                 one or more of: ${SUITE.map((s) => s.name).join(", ")} (default: all, in that order)
  --url <base>             run against this service instead of starting one locally (traffic goes only there)
  --token <token>          its organiser token                      (default: $ADMIN_TOKEN)
  --webhook-secret <whsec> its STRIPE_WEBHOOK_SECRET, to sign Stripe's webhooks
                           (default: $STRIPE_WEBHOOK_SECRET; needed by the scenarios that pay)
  --smoke                  the scaled-down version (npm run load:smoke, in CI): less load, the same
                           thresholds; timing ones are reported but only correctness decides

Scenarios:
${SUITE.map((s) => `  ${s.name.padEnd(15)} ${s.description}`).join("\n")}
`;

const log = (message: string) => console.error(message);

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      "webhook-secret": { type: "string" },
      smoke: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const names = positionals.flatMap((p) => p.split(",")).filter(Boolean);
  const scenarios = names.length === 0 ? [...SUITE] : names.map((n) => SUITE.find((s) => s.name === n) ?? n);
  const unknown = scenarios.filter((s) => typeof s === "string");
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(", ")}\n\n${HELP}`);
    process.exit(2);
  }
  return {
    scenarios: scenarios as SuiteScenario[],
    url: values.url,
    token: values.token ?? process.env.ADMIN_TOKEN,
    webhookSecret: values["webhook-secret"] ?? process.env.STRIPE_WEBHOOK_SECRET,
    smoke: values.smoke ?? false,
  };
}

type Options = ReturnType<typeof options>;

/** `local`: the service is this run's own child process (its CPU is measured). */
async function runScenario(scenario: SuiteScenario, ctx: SuiteContext, local: boolean): Promise<ScenarioReport> {
  const startedAt = new Date();
  const report: ScenarioReport = {
    scenario: scenario.name,
    description: scenario.description,
    smoke: ctx.smoke,
    baseUrl: ctx.baseUrl,
    eventId: null,
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    wallSeconds: 0,
    settings: {},
    summary: null,
    facts: {},
    thresholds: [],
    verify: null,
    samples: [],
    ok: false,
  };
  log(`\n▶ ${scenario.name}${ctx.smoke ? " (smoke)" : ""}: ${scenario.description}`);
  try {
    if (scenario.pays && !ctx.webhookSecret) {
      throw new Error("it pays with signed webhooks: pass --webhook-secret or set STRIPE_WEBHOOK_SECRET");
    }
    const outcome = await scenario.run(ctx);
    Object.assign(report, {
      eventId: outcome.eventId,
      settings: outcome.settings,
      summary: summarise(outcome.metrics, local),
      facts: outcome.facts,
      thresholds: [...correctness(outcome.metrics), ...outcome.thresholds],
      samples: outcome.metrics.samples,
    });
    report.verify = await verifyEvent(ctx, outcome.eventId);
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  }
  const finishedAt = new Date();
  report.finishedAt = finishedAt.toISOString();
  report.wallSeconds = Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10;
  report.ok =
    report.error === undefined &&
    report.thresholds.every((t) => t.ok || !decides(t, ctx.smoke)) &&
    report.verify?.ok === true &&
    report.verify.checks.every((c) => c.ok);
  return report;
}

async function runSuite(opts: Options, server: Server | undefined): Promise<ScenarioReport[]> {
  const baseUrl = server?.url ?? (opts.url as string);
  const adminToken = server?.secrets.ADMIN_TOKEN ?? opts.token;
  const webhookSecret = server?.secrets.STRIPE_WEBHOOK_SECRET ?? opts.webhookSecret ?? "";
  if (!adminToken) throw new Error("no organiser token: pass --token or set ADMIN_TOKEN");
  const reports: ScenarioReport[] = [];
  for (const scenario of opts.scenarios) {
    // A fresh context (and so a fresh event) per scenario.
    const ctx: SuiteContext = {
      ...scenarioContext({ baseUrl, adminToken, webhookSecret, log }),
      smoke: opts.smoke,
    };
    const report = await runScenario(scenario, ctx, server !== undefined);
    reports.push(report);
    console.log(formatReport(report));
    const file = await writeResults(
      path.join(
        RESULTS_DIR,
        `load-${scenario.name}${opts.smoke ? "-smoke" : ""}-${fileStamp(new Date(report.startedAt))}.json`,
      ),
      { ...report, machine: machineInfo(), git: gitInfo(ROOT), server: server ? server.description : "remote" },
    );
    console.log(`  results: ${path.relative(process.cwd(), file)}`);
  }
  return reports;
}

function overview(reports: ScenarioReport[], seconds: number): string {
  const rows = reports.map((r) => {
    const s = r.summary;
    const failed = r.thresholds.filter((t) => !t.ok).length;
    const verify = r.verify ? (r.verify.checks.every((c) => c.ok) ? "ok" : "FAIL") : "–";
    return [
      `${r.ok ? "✓" : "✗"} ${r.scenario}`,
      s ? String(s.httpReqsPerSecond) : "–",
      s ? String(s.httpReqDurationMs.p50) : "–",
      s ? String(s.httpReqDurationMs.p95) : "–",
      s ? String(s.httpReqDurationMs.p99) : "–",
      `${r.thresholds.length - failed}/${r.thresholds.length}`,
      verify,
    ];
  });
  const header = ["scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "thresholds", "verify"];
  const passed = reports.filter((r) => r.ok).length;
  return [
    "",
    ...textTable(header, rows, [0]),
    `\n${passed} of ${reports.length} scenarios passed in ${seconds.toFixed(0)}s`,
  ].join("\n");
}

async function main(): Promise<number> {
  const opts = options();
  const startedAt = performance.now();
  let workspace: Workspace | undefined;
  let server: Server | undefined;
  // On Ctrl-C, Miniflare's own SIGINT handler (added once the server starts, after this one) exits at
  // once, so an interrupt cleans up synchronously: every process this run started, then the workspace.
  const interrupt = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping the service and cleaning up`);
    killLeftovers();
    if (workspace) rmSync(workspace.dir, { recursive: true, force: true, maxRetries: 3 });
    process.exit(130);
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  let reports: ScenarioReport[];
  let stray: ProcInfo[];
  try {
    if (opts.url) {
      const res = await fetch(new URL("/healthz", opts.url), { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${opts.url}/healthz answered ${res.status}`);
      log(`load: ${opts.scenarios.map((s) => s.name).join(", ")} against ${opts.url}`);
    } else {
      log("load: building the Worker and starting it locally (miniflare-direct, Stripe simulator)");
      workspace = await Workspace.create(ROOT);
      server = await startServer("miniflare-direct", workspace);
      log(`  up at ${server.url} in ${(server.startupMs / 1000).toFixed(1)}s`);
    }
    reports = await runSuite(opts, server);
  } finally {
    await server?.stop().catch((e: unknown) => log(`stopping the server: ${String(e)}`));
    stray = killLeftovers();
    for (const p of stray) log(`✘ process left running: ${p.pid} ${p.name}; killed`);
    await workspace?.dispose().catch(() => undefined);
  }

  console.log(overview(reports, (performance.now() - startedAt) / 1000));
  return reports.every((r) => r.ok) && stray.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
