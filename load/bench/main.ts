/**
 * `npm run bench`: serves the Worker locally, once per server kind, and measures each scenario at a
 * fixed concurrency (`GET /healthz`, the floor, then reservations on one large tier, signed Stripe
 * webhooks fulfilled, buyers' whole reservation-to-paid journeys, and door check-ins, real and forged,
 * from 32 scanners); then, where PostgreSQL is installed, the Postgres peers (peers.ts) on the same
 * reservations. Prints a table and the ratios, and writes load/results/bench-<timestamp>.json. See `--help`.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { scenarioContext } from "../common/context.ts";
import { fileStamp, gitInfo, machineInfo, RESULTS_DIR, softwareVersions, writeResults } from "../common/report.ts";
import { cpuWindow, round } from "../serve/processes.ts";
import { SERVER_DESCRIPTIONS, SERVER_KINDS, type Server, type ServerKind } from "../serve/server.ts";
import { killLeftovers, startServer } from "../serve/start.ts";
import { Workspace } from "../serve/workspace.ts";
import { comparisons, formatComparison, formatPeerRatio, PEER_REFERENCE, peerRatios } from "./compare.ts";
import { PEER_SCENARIOS, type PeerSession, peersDir, startPeers } from "./peers.ts";
import { INSTALL_HINT } from "./postgres.ts";
import { startProfiling } from "./profile.ts";
import { MAX_HOLDS } from "./scenarios/flatness.ts";
import { BASELINE, DEFAULT_SCENARIOS, GROUPS, SCENARIOS } from "./scenarios/index.ts";
import { formatTable, type Result, type ServerRecord } from "./table.ts";

const ROOT = path.join(import.meta.dirname, "..", "..");
/**
 * Measured seconds, by server and scenario, where the default would take the run past ~4 minutes:
 * webhooks on wrangler-dev, whose pending orders are prepared (off the clock, at ~35/s there) before
 * it starts. An explicit --seconds (or BENCH_SECONDS) applies to every route instead.
 */
const SHORTER_BY_DEFAULT: Partial<Record<ServerKind, Record<string, number>>> = { "wrangler-dev": { webhooks: 5 } };
function exceptions(table: Partial<Record<string, Record<string, number>>>): string {
  return Object.entries(table)
    .flatMap(([server, byScenario]) =>
      Object.entries(byScenario ?? {}).map(([name, n]) => `${n}s for ${name} on ${server}`),
    )
    .join(", ");
}
/** The issue's aim, for the route it is about. */
const AIM = { scenario: "reservations", minRatio: 0.5, maxP99Ms: 100 };

const peersDirHint = "../shared/peers/postgres";
const HELP = `npm run bench [-- options]

  --seconds N       measured seconds per route            (BENCH_SECONDS, default 10; ${exceptions(SHORTER_BY_DEFAULT)})
  --warmup N        warm-up seconds before each route     (BENCH_WARMUP_SECONDS, default 2)
  --connections N   concurrent connections                (BENCH_CONNECTIONS, default 64; not for
                    checkins and checkins-forged: always 32 scanners)
  --buyers N        concurrent buyers, in journeys        (BENCH_BUYERS, default 16)
  --servers LIST    comma-separated, in order             (BENCH_SERVERS, default ${SERVER_KINDS.join(",")})
  --scenarios LIST  comma-separated; healthz always runs  (BENCH_SCENARIOS, default ${DEFAULT_SCENARIOS.join(",")})
                    available: ${Object.keys(SCENARIOS).join(", ")};
                    pairs: ${Object.entries(GROUPS)
                      .map(([g, names]) => `${g} (${names.join(" then ")})`)
                      .join(", ")}
  --holds N         active holds flatness-n measures at   (BENCH_HOLDS, default 100000, at most ${MAX_HOLDS};
                    prepared off the clock, ~2.5 min for 100,000 here)
  --no-peers        skip the Postgres peers               (BENCH_PEERS=0; by default, where PostgreSQL is
                    installed, ${peersDirHint}/server.mjs runs reservations (and flatness)
                    as the rows postgres-seeds and postgres-guarded; install: \`${INSTALL_HINT}\`)
  --keep-state      keep the temp dir (bundle, state, server logs) and print its path
  --profile         also take V8 CPU profiles of the Worker and D1 isolates during each measured route
                    (Miniflare servers only) into load/results/*.cpuprofile; slows the Worker down,
                    so a profiled run's figures are not comparable with a plain run's
`;

function settingsFromArgs() {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      buyers: { type: "string" },
      servers: { type: "string" },
      scenarios: { type: "string" },
      holds: { type: "string" },
      peers: { type: "boolean" },
      "keep-state": { type: "boolean" },
      profile: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowNegative: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, not "${raw}"`);
    return n;
  };
  const list = (raw: string | undefined, fallback: readonly string[]) =>
    raw
      ? raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [...fallback];

  const servers = list(values.servers ?? process.env.BENCH_SERVERS, SERVER_KINDS);
  for (const s of servers) {
    if (!(SERVER_KINDS as readonly string[]).includes(s)) {
      throw new Error(`unknown server "${s}"; known: ${SERVER_KINDS.join(", ")}`);
    }
  }
  const scenarios = [
    ...new Set(
      list(values.scenarios ?? process.env.BENCH_SCENARIOS, DEFAULT_SCENARIOS).flatMap((s) => GROUPS[s] ?? [s]),
    ),
  ].filter((s) => s !== BASELINE);
  for (const s of scenarios) {
    if (!SCENARIOS[s]) {
      throw new Error(
        `unknown scenario "${s}"; known: ${[...Object.keys(SCENARIOS), ...Object.keys(GROUPS)].join(", ")}`,
      );
    }
  }
  const holds = Math.round(number("--holds", values.holds ?? process.env.BENCH_HOLDS, 100_000, 1));
  if (holds > MAX_HOLDS) throw new Error(`--holds must be at most ${MAX_HOLDS}, not ${holds}`);
  const peersEnv = process.env.BENCH_PEERS;
  const peers =
    values.peers ?? (peersEnv === undefined || peersEnv === "" ? true : !/^(0|false|no|off)$/i.test(peersEnv));
  return {
    durationSeconds: number("--seconds", values.seconds ?? process.env.BENCH_SECONDS, 10, 1),
    /** The exceptions to durationSeconds (none when --seconds was given). */
    shorterSeconds: (values.seconds ?? process.env.BENCH_SECONDS) ? {} : SHORTER_BY_DEFAULT,
    warmupSeconds: number("--warmup", values.warmup ?? process.env.BENCH_WARMUP_SECONDS, 2, 0),
    connections: Math.round(number("--connections", values.connections ?? process.env.BENCH_CONNECTIONS, 64, 1)),
    buyers: Math.round(number("--buyers", values.buyers ?? process.env.BENCH_BUYERS, 16, 1)),
    servers: servers as ServerKind[],
    // The baseline runs first on every server: every other route is compared with it.
    scenarios: [BASELINE, ...scenarios],
    holds,
    peers,
    keepState: values["keep-state"] ?? false,
    profile: values.profile ?? false,
  };
}

const log = (message: string) => console.error(message);

type Settings = ReturnType<typeof settingsFromArgs>;

async function benchServer(server: Server, settings: Settings, results: Result[], runId: string): Promise<boolean> {
  const adminToken = server.secrets.ADMIN_TOKEN;
  const webhookSecret = server.secrets.STRIPE_WEBHOOK_SECRET;
  if (!adminToken || !webhookSecret)
    throw new Error("wrangler.toml declares no ADMIN_TOKEN or STRIPE_WEBHOOK_SECRET secret");
  const ctx = scenarioContext({ baseUrl: server.url, adminToken, webhookSecret, log });
  let clean = true;
  for (const name of settings.scenarios) {
    const scenario = SCENARIOS[name];
    if (!scenario) continue;
    const connections =
      scenario.connections ?? (scenario.concurrency === "buyers" ? settings.buyers : settings.connections);
    const seconds = settings.shorterSeconds[server.kind]?.[name] ?? settings.durationSeconds;
    const options = { holds: settings.holds };
    if (settings.warmupSeconds > 0) {
      const warmup = { kind: "warmup", seconds: settings.warmupSeconds, connections, options } as const;
      await (await scenario.prepare(ctx, warmup)).run();
    }
    const load = await scenario.prepare(ctx, { kind: "measure", seconds, connections, options });
    const profiling =
      settings.profile && server.inspectorPort !== undefined
        ? await startProfiling(server.inspectorPort, path.join(RESULTS_DIR, `${runId}-${server.kind}-${name}`))
        : undefined;
    const cpu = cpuWindow();
    const { extra: runExtra, ...m } = await load.run();
    const cpuUsed = cpu();
    const profiles = profiling ? await profiling() : undefined;
    const afterExtra = scenario.after ? await scenario.after(ctx) : undefined;
    const extra = runExtra || afterExtra ? { ...runExtra, ...afterExtra } : undefined;
    const result: Result = {
      server: server.kind,
      scenario: name,
      method: load.method,
      path: load.path,
      concurrency: scenario.concurrency,
      connections,
      ...m,
      requestsPerSec: round(m.requestsPerSec),
      ...cpuUsed,
      ratioToBaseline: null,
      ...(extra ? { extra } : {}),
      ...(profiles ? { profiles } : {}),
    };
    results.push(result);
    const statuses = Object.entries(m.statusCodes)
      .map(([code, n]) => `${n}×${code}`)
      .join(" ");
    const unit = scenario.concurrency === "buyers" ? "journeys/s" : "req/s";
    log(
      `  ${name.padEnd(19)} ${result.requestsPerSec.toFixed(0).padStart(6)} ${unit}  p50 ${m.latencyMs.p50} ms  ` +
        `p99 ${m.latencyMs.p99} ms  [${statuses || "no responses"}]${m.errors ? `  ${m.errors} errors` : ""}` +
        (m.stoppedEarly ? `  (stopped early after ${m.durationSeconds}s: all prepared requests sent)` : ""),
    );
    if (typeof extra?.summary === "string") log(`    ${extra.summary}`);
    for (const p of profiles ?? []) {
      log(`    profile ${p.target} (${p.busySamples} busy samples) → ${path.relative(process.cwd(), p.file)}`);
      for (const f of p.topSelf.slice(0, 6)) log(`      ${f.percent.toFixed(1).padStart(5)}% self  ${f.fn}`);
    }
    if (m.unexpected > 0 || m.errors > 0 || m.total === 0) {
      clean = false;
      const what = scenario.concurrency === "buyers" ? "journey(s) failed" : "response(s) not as expected";
      log(`  ✘ ${name}: ${m.unexpected} ${what}, ${m.errors} connection error(s), ${m.total} in all`);
    }
    const problems = extra?.problems;
    if (Array.isArray(problems) && problems.length > 0) {
      clean = false;
      for (const p of problems) log(`  ✘ ${name}: ${String(p)}`);
    }
  }
  return clean;
}

/**
 * The Postgres peers, after the Worker's servers (when on, and a scenario they stand beside runs):
 * their rows, or a note saying why there are none. `track` is told the running session (for Ctrl-C).
 */
async function benchPeers(
  settings: Settings,
  workDir: string,
  track: (session: PeerSession | undefined) => void,
): Promise<{ results: Result[]; servers: ServerRecord[]; note?: string; ok: boolean }> {
  const none = { results: [], servers: [] };
  const scenarios = settings.scenarios.filter((s) => PEER_SCENARIOS.includes(s));
  if (!settings.peers) return { ...none, note: "Postgres peers skipped (--no-peers or BENCH_PEERS=0)", ok: true };
  if (scenarios.length === 0) return { ...none, ok: true };
  log(`\n▶ Postgres peers (${peersDir(ROOT)}): starting`);
  const { session, note } = await startPeers(ROOT, workDir, log);
  if (!session) {
    log(`  Postgres peers skipped: ${note}`);
    return { ...none, note: `Postgres peers skipped: ${note}`, ok: true };
  }
  track(session);
  try {
    const results = await session.bench({
      scenarios,
      seconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections,
      holds: settings.holds,
    });
    const ok = !results.some((r) => r.unexpected > 0 || r.errors > 0 || r.total === 0);
    return { results, servers: session.servers, ok };
  } catch (error) {
    const failed = `Postgres peers failed: ${error instanceof Error ? error.message : String(error)}`;
    log(`  ✘ ${failed}`);
    return { ...none, servers: session.servers, note: failed, ok: false };
  } finally {
    await session.stop();
    track(undefined);
  }
}

async function main(): Promise<number> {
  const settings = settingsFromArgs();
  const startedAt = new Date();
  const runId = `bench-${fileStamp(startedAt)}`;
  const loadAverageAtStart = os.loadavg().map((n) => round(n, 2));
  log(
    `bench: ${settings.servers.join(", ")} × ${settings.scenarios.join(", ")}; ` +
      `${settings.connections} connections (journeys: ${settings.buyers} buyers), ` +
      `${settings.warmupSeconds}s warm-up + ${settings.durationSeconds}s each`,
  );

  const workspace = await Workspace.create(ROOT, settings.keepState);
  let current: Server | undefined;
  let peers: PeerSession | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping the server and cleaning up`);
    void (async () => {
      await current?.stop().catch(() => undefined);
      await peers?.stop().catch(() => undefined);
      await workspace.dispose().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  const results: Result[] = [];
  const servers: ServerRecord[] = [];
  let ok = true;
  let peerNote: string | undefined;
  try {
    for (const kind of settings.servers) {
      log(`\n▶ ${kind}: starting`);
      const record: ServerRecord = { kind, description: SERVER_DESCRIPTIONS[kind] };
      servers.push(record);
      try {
        current = await startServer(kind, workspace, { inspector: settings.profile });
        Object.assign(record, { url: current.url, vars: current.vars, startupMs: current.startupMs });
        log(`  up at ${current.url} in ${(current.startupMs / 1000).toFixed(1)}s (${current.description})`);
        if (settings.profile && current.inspectorPort === undefined) log("  (no profiles: Miniflare servers only)");
        if (settings.profile) await mkdir(RESULTS_DIR, { recursive: true });
        if (!(await benchServer(current, settings, results, runId))) ok = false;
      } catch (error) {
        ok = false;
        record.error = error instanceof Error ? error.message : String(error);
        log(`  ✘ ${kind}: ${record.error}`);
      } finally {
        await current?.stop();
        current = undefined;
      }
    }
    const peerRun = await benchPeers(settings, workspace.dir, (session) => {
      peers = session;
    });
    results.push(...peerRun.results);
    servers.push(...peerRun.servers);
    peerNote = peerRun.note;
    if (!peerRun.ok) ok = false;
  } finally {
    await workspace.dispose();
  }

  for (const r of results) {
    const baseline = results.find((b) => b.server === r.server && b.scenario === BASELINE);
    r.ratioToBaseline = baseline?.requestsPerSec ? round(r.requestsPerSec / baseline.requestsPerSec, 3) : null;
  }
  // Scenarios measured against another than the baseline, and boxoffice against the Postgres peers.
  const compared = comparisons(results, SCENARIOS, settings.servers);
  const overPeers = peerRatios(results);
  const aim = settings.servers.flatMap((server) => {
    const r = results.find((x) => x.server === server && x.scenario === AIM.scenario);
    if (!r || r.ratioToBaseline === null) return [];
    const ratioMet = r.ratioToBaseline >= AIM.minRatio;
    const p99Met = r.latencyMs.p99 < AIM.maxP99Ms;
    return [{ server, ratio: r.ratioToBaseline, p99Ms: r.latencyMs.p99, ratioMet, p99Met }];
  });

  const stray = killLeftovers();
  if (stray.length > 0) {
    ok = false;
    log(`\n✘ processes left running: ${stray.map((p) => `${p.pid} ${p.name}`).join(", ")}; killing them`);
  }

  const finishedAt = new Date();
  const file = await writeResults(path.join(RESULTS_DIR, `${runId}.json`), {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    machine: {
      ...machineInfo(),
      loadAverage: { start: loadAverageAtStart, end: os.loadavg().map((n) => round(n, 2)) },
    },
    software: softwareVersions(),
    git: gitInfo(ROOT),
    settings: {
      connections: settings.connections,
      buyers: settings.buyers,
      durationSeconds: settings.durationSeconds,
      durationSecondsExceptions: settings.shorterSeconds,
      warmupSeconds: settings.warmupSeconds,
      servers: settings.servers,
      scenarios: settings.scenarios,
      baseline: BASELINE,
      holds: settings.holds,
      peers: settings.peers,
      profiled: settings.profile,
    },
    scenarios: Object.fromEntries(settings.scenarios.map((s) => [s, SCENARIOS[s]?.description])),
    servers,
    results,
    aim: { ...AIM, byServer: aim },
    comparisons: compared,
    peers: { reference: PEER_REFERENCE, ratios: overPeers, ...(peerNote ? { note: peerNote } : {}) },
    notes: [
      "requestsPerSec: autocannon's mean of once-a-second samples; latency percentiles from its histogram (ms).",
      "A run with stoppedEarly ran out of prepared requests (webhooks: one per pending order): its requestsPerSec is responses over the seconds it ran.",
      "webhooks: each request is a new signed checkout.session.completed for its own pending order; a 200 means the order was fulfilled (tickets issued, order paid) before the answer.",
      "Journey scenarios (concurrency: buyers): requestsPerSec is completed journeys per second; latencyMs is whole journeys (HDR histogram); total counts journeys, non2xx their responses; extra.stepLatencyMs splits them by request.",
      "checkins: each request admits a never-scanned ticket (one per request, issued before the phase), at 32 connections whatever --connections says; checkins-forged sends codes whose signature does not verify (400), and comparisons gives its rate over that of checkins.",
      "serverCpuPercent: CPU of the processes this run started (workerd, wrangler), in % of one core.",
      "benchCpuPercent: CPU of the bench process itself (autocannon; Miniflare's host side for miniflare*).",
      "postgres-seeds and postgres-guarded: ../shared/peers/postgres/server.mjs, measured after the Worker's servers with the same connections, warm-up and seconds as reservations; their serverCpuPercent counts server.mjs and the cluster's backends. peers.ratios: boxoffice's reservations req/s (miniflare-direct) over each peer's.",
      "flatness-0 / flatness-n: reservations on one tier, fresh then at --holds active holds (extra.activeHoldsAtStart); comparisons gives n over 0 (req/s).",
      "polling-off / polling-on: reservations on a general-admission tier, alone then while 20 clients poll the event's availability (a 20,000-seat tier); comparisons gives on over off (p99); extra.pollers the polls' rate and latency.",
    ],
  });

  console.log(
    `\n${settings.connections} connections (journeys: ${settings.buyers} buyers), ${settings.durationSeconds}s per route ` +
      (exceptions(settings.shorterSeconds) ? `(${exceptions(settings.shorterSeconds)}) ` : "") +
      `after ${settings.warmupSeconds}s warm-up; ` +
      `${os.cpus().length} CPUs, Node ${process.version}; load average at start ${loadAverageAtStart.join(" ")}\n`,
  );
  console.log(formatTable(results));
  console.log("(server CPU: the processes serving, in % of one core; bench CPU: this process, autocannon included)");
  for (const s of servers) {
    console.log(`${s.error ? "✘" : " "} ${s.kind}: ${s.error ? `failed: ${s.error.split("\n")[0]}` : s.description}`);
  }
  for (const a of aim) {
    console.log(
      `aim on ${a.server}: ${AIM.scenario} ÷ ${BASELINE} = ${a.ratio.toFixed(2)} ` +
        `(≥ ${AIM.minRatio} ${a.ratioMet ? "✓" : "✗"}), p99 ${a.p99Ms} ms (< ${AIM.maxP99Ms} ms ${a.p99Met ? "✓" : "✗"})`,
    );
  }
  for (const c of compared) console.log(formatComparison(c));
  for (const p of overPeers) console.log(formatPeerRatio(p));
  if (peerNote) console.log(peerNote);
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  if (settings.keepState) console.log(`state, bundle and server logs kept in ${workspace.dir}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
