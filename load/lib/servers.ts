/**
 * Local servers of the Worker for the benchmark. Each one gets a fresh state directory and explicit
 * bindings (random secrets, the `[vars]` of wrangler.toml), never the developer's `.dev.vars` or
 * `.wrangler/state`, and is shut down with every process it started.
 *
 * - `miniflare-direct`: the bundle that `wrangler deploy` would upload, served by Miniflare's
 *   programmatic API on a socket bound straight to the Worker (`unsafeDirectSockets`). The leanest
 *   local server: workerd only; this Node process takes no part in a request.
 * - `miniflare`: the same, through Miniflare's default entry socket (its `core:entry` worker in
 *   front of the Worker, which `dispatchFetch` and `mf.ready` use), request logging off.
 * - `wrangler-dev`: `wrangler dev`, as `npm start` runs it (wrangler's own build, its proxy worker in
 *   a second workerd process, request logging on).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { descendants, freePort, HOST, isAlive, waitForExit } from "./processes.ts";

export const SERVER_KINDS = ["miniflare-direct", "miniflare", "wrangler-dev"] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const SERVER_DESCRIPTIONS: Record<ServerKind, string> = {
  "miniflare-direct":
    "Miniflare API, `wrangler deploy --dry-run` bundle, socket bound directly to the Worker (no entry worker)",
  miniflare: "Miniflare API, `wrangler deploy --dry-run` bundle, Miniflare's default entry socket",
  "wrangler-dev": "`wrangler dev --ip 127.0.0.1` (what `npm start` runs): proxy worker + dev bundle",
};

export interface Server {
  kind: ServerKind;
  description: string;
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Values given to the Worker for wrangler.toml's required secrets (ADMIN_TOKEN among them). */
  secrets: Record<string, string>;
  startupMs: number;
  /** workerd's DevTools inspector, when asked for (Miniflare servers only). */
  inspectorPort?: number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Open workerd's inspector (for `--profile`). */
  inspector?: boolean;
}

const require = createRequire(import.meta.url);
const WRANGLER = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const STARTUP_TIMEOUT_MS = 60_000;
/** For the build and the migrations, which take seconds. */
const COMMAND_TIMEOUT_MS = 120_000;

/** What the servers need to know about the Worker, read from wrangler.toml. */
export interface WorkerConfig {
  name: string;
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, unknown>;
  requiredSecrets: string[];
  d1: { binding: string; databaseId: string; migrationsDir: string }[];
  durableObjects: { binding: string; className: string; sqlite: boolean }[];
}

/** The fields of wrangler's parsed config this file reads. */
interface WranglerConfig {
  name?: string;
  main?: string;
  compatibility_date?: string;
  compatibility_flags?: string[];
  vars?: Record<string, unknown>;
  secrets?: { required?: string[] };
  d1_databases?: { binding: string; database_id?: string; database_name?: string; migrations_dir?: string }[];
  durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
  migrations?: { new_sqlite_classes?: string[] }[];
  [key: string]: unknown;
}

/** Binding kinds the Miniflare servers do not map yet: add them here when the Worker gains one. */
const UNMAPPED_BINDINGS = [
  "kv_namespaces",
  "r2_buckets",
  "services",
  "workflows",
  "hyperdrive",
  "vectorize",
  "analytics_engine_datasets",
  "send_email",
];

export async function readWorkerConfig(root: string): Promise<WorkerConfig> {
  // The specifier is a variable so that TypeScript does not load wrangler's own (large) type graph.
  const specifier = "wrangler";
  const wrangler = (await import(specifier)) as {
    unstable_readConfig(args: { config?: string }, options?: { hideWarnings?: boolean }): WranglerConfig;
  };
  const configPath = path.join(root, "wrangler.toml");
  const c = wrangler.unstable_readConfig({ config: configPath }, { hideWarnings: true });
  const queues = c.queues as { producers?: unknown[]; consumers?: unknown[] } | undefined;
  const unmapped = [
    ...UNMAPPED_BINDINGS.filter((key) => isSet(c[key])),
    ...(isSet(queues?.producers) || isSet(queues?.consumers) ? ["queues"] : []),
  ];
  if (unmapped.length > 0) {
    throw new Error(`wrangler.toml has ${unmapped.join(", ")}: map them in startMiniflare (load/lib/servers.ts)`);
  }
  if (!c.main || !c.compatibility_date) throw new Error("wrangler.toml must set main and compatibility_date");
  const sqliteClasses = new Set((c.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  return {
    name: c.name ?? "worker",
    main: path.resolve(root, c.main),
    compatibilityDate: c.compatibility_date,
    compatibilityFlags: c.compatibility_flags ?? [],
    vars: { ...(c.vars ?? {}) },
    requiredSecrets: c.secrets?.required ?? [],
    d1: (c.d1_databases ?? []).map((d) => ({
      binding: d.binding,
      databaseId: d.database_id ?? d.database_name ?? d.binding,
      migrationsDir: path.resolve(root, d.migrations_dir ?? "migrations"),
    })),
    durableObjects: (c.durable_objects?.bindings ?? []).map((b) => {
      if (b.script_name) throw new Error(`Durable Object ${b.name} lives in another Worker: not supported here`);
      return { binding: b.name, className: b.class_name, sqlite: sqliteClasses.has(b.class_name) };
    }),
  };
}

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === "object") return Object.keys(value).length > 0;
  return value !== undefined && value !== null && value !== false;
}

/**
 * One benchmark run's working area: a temp directory for the bundle, the state directories and the
 * server logs, removed by `dispose()` (kept when `keep` is set, for a look afterwards).
 */
export class Workspace {
  readonly root: string;
  readonly dir: string;
  readonly config: WorkerConfig;
  readonly keep: boolean;
  #bundle: Promise<string> | undefined;

  private constructor(root: string, dir: string, config: WorkerConfig, keep: boolean) {
    this.root = root;
    this.dir = dir;
    this.config = config;
    this.keep = keep;
  }

  static async create(root: string, keep = false): Promise<Workspace> {
    const config = await readWorkerConfig(root);
    const dir = await mkdtemp(path.join(tmpdir(), "boxoffice-bench-"));
    return new Workspace(root, dir, config, keep);
  }

  /** The Worker as `wrangler deploy` would upload it (built once per run). Returns the entry file. */
  bundle(): Promise<string> {
    this.#bundle ??= (async () => {
      const outDir = path.join(this.dir, "bundle");
      await runWrangler(this, ["deploy", "--dry-run", "--outdir", outDir], path.join(this.dir, "build.log"));
      const expected = path.join(outDir, `${path.basename(this.config.main, path.extname(this.config.main))}.js`);
      if (existsSync(expected)) return expected;
      const scripts = readdirSync(outDir).filter((f) => /\.m?js$/.test(f));
      if (scripts.length !== 1) throw new Error(`cannot tell the entry module among ${scripts.join(", ")}`);
      return path.join(outDir, scripts[0] as string);
    })();
    return this.#bundle;
  }

  async dispose(): Promise<void> {
    if (!this.keep) await rm(this.dir, { recursive: true, force: true });
  }
}

export function startServer(kind: ServerKind, workspace: Workspace, options: ServerOptions = {}): Promise<Server> {
  switch (kind) {
    case "miniflare-direct":
      return startMiniflare(workspace, kind, true, options);
    case "miniflare":
      return startMiniflare(workspace, kind, false, options);
    case "wrangler-dev":
      return startWranglerDev(workspace);
  }
}

function makeSecrets(config: WorkerConfig): Record<string, string> {
  return Object.fromEntries(
    config.requiredSecrets.map((name) => [name, `bench-${name.toLowerCase()}-${randomBytes(12).toString("hex")}`]),
  );
}

/** Env for wrangler: no telemetry, and nothing from our environment shadowing the Worker's bindings. */
function wranglerEnv(workspace: Workspace, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_PATH: path.join(workspace.dir, "wrangler-logs"),
    ...extra,
  };
  for (const name of [...workspace.config.requiredSecrets, ...Object.keys(workspace.config.vars)]) delete env[name];
  return env;
}

/** Runs a wrangler command to completion, its output to `logFile`; throws with the log's tail on failure. */
async function runWrangler(
  workspace: Workspace,
  args: string[],
  logFile: string,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const fd = openSync(logFile, "a");
  let timer: NodeJS.Timeout | undefined;
  try {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: workspace.root,
      // No stdin: `d1 migrations apply` then answers its confirmation prompt by itself.
      stdio: ["ignore", fd, fd],
      env: wranglerEnv(workspace, extraEnv),
      // Its own process group, so that a hung command can be ended with everything it started.
      detached: true,
    });
    const code = await new Promise<number | string | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (c, signal) => resolve(c ?? signal));
      timer = setTimeout(() => {
        if (child.pid !== undefined) killGroup(child.pid);
      }, COMMAND_TIMEOUT_MS);
    });
    if (code !== 0) throw new Error(`wrangler ${args.join(" ")} ended with ${code}\n${tail(logFile)}`);
  } finally {
    clearTimeout(timer);
    closeSync(fd);
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // the group is gone
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitForHealthy(url: string, child?: ChildProcess, logFile?: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(
        `the server exited (${child.exitCode ?? child.signalCode}) before answering\n${logFile ? tail(logFile) : ""}`,
      );
    }
    try {
      const res = await fetch(new URL("/healthz", url), { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${url}/healthz did not answer 200 within ${STARTUP_TIMEOUT_MS / 1000}s`);
}

/** Kills, by pid, whatever the server left behind (it should leave nothing). */
async function reapStragglers(pids: number[], label: string): Promise<void> {
  const left = await waitForExit(pids, 10_000);
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (left.length > 0) console.error(`warning: ${label} left ${left.length} process(es) running; killed ${left}`);
}

// ---- Miniflare ---------------------------------------------------------------------------------

async function startMiniflare(
  workspace: Workspace,
  kind: ServerKind,
  direct: boolean,
  options: ServerOptions,
): Promise<Server> {
  const { config } = workspace;
  const script = await workspace.bundle();
  const state = await mkdtemp(path.join(workspace.dir, `${kind}-state-`));
  const secrets = makeSecrets(config);
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import("miniflare");
  const inspectorPort = options.inspector ? await freePort() : undefined;
  const startedAt = performance.now();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: HOST,
      port: 0,
      log: new Log(LogLevel.WARN),
      logRequests: false,
      // A placeholder `request.cf` instead of fetching a real one from Cloudflare.
      cf: false,
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      resourcePersistencePath: state,
      name: config.name,
      modules: true,
      scriptPath: script,
      modulesRoot: path.dirname(script),
      compatibilityDate: config.compatibilityDate,
      compatibilityFlags: config.compatibilityFlags,
      bindings: { ...(config.vars as Record<string, string>), ...secrets },
      d1Databases: Object.fromEntries(config.d1.map((d) => [d.binding, d.databaseId])),
      durableObjects: Object.fromEntries(
        config.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }]),
      ),
      ...(direct ? { unsafeDirectSockets: [{ host: HOST, port: 0 }] } : {}),
    }),
  );
  const stop = async () => {
    const pids = descendants().map((p) => p.pid);
    await mf.dispose();
    await reapStragglers(pids, kind);
    if (!workspace.keep) await rm(state, { recursive: true, force: true });
  };
  try {
    const entryUrl = await mf.ready;
    for (const d of config.d1) await applyMigrations(await mf.getD1Database(d.binding), d.migrationsDir);
    const url = (direct ? await mf.unsafeGetDirectURL() : entryUrl).origin;
    await waitForHealthy(url);
    return {
      kind,
      description: SERVER_DESCRIPTIONS[kind],
      url,
      secrets,
      startupMs: since(startedAt),
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface D1Like {
  prepare(sql: string): unknown;
  batch(statements: never[]): Promise<unknown>;
}

/** Applies every migration file in order, each as one batch (drizzle-kit separates statements). */
async function applyMigrations(db: D1Like, dir: string): Promise<void> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) {
    const statements = readFileSync(path.join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s)) as never[]);
  }
}

// ---- wrangler dev ------------------------------------------------------------------------------

async function startWranglerDev(workspace: Workspace): Promise<Server> {
  const kind = "wrangler-dev";
  const { config } = workspace;
  const state = await mkdtemp(path.join(workspace.dir, `${kind}-state-`));
  const secrets = makeSecrets(config);
  // Given --env-file, wrangler reads that file instead of the project's .dev.vars.
  const envFile = path.join(state, "bench.env");
  await writeFile(
    envFile,
    Object.entries(secrets)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
    { mode: 0o600 },
  );
  const logFile = path.join(workspace.dir, `${kind}.log`);
  const startedAt = performance.now();
  for (const d of config.d1) {
    await runWrangler(workspace, ["d1", "migrations", "apply", d.binding, "--local", "--persist-to", state], logFile, {
      CI: "true",
    });
  }
  const port = await freePort();
  const inspectorPort = await freePort();
  const fd = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--ip",
      HOST,
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      state,
      "--env-file",
      envFile,
    ],
    // Its own process group, so that nothing it starts can outlive stop().
    { cwd: workspace.root, detached: true, stdio: ["ignore", fd, fd], env: wranglerEnv(workspace) },
  );
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error("wrangler dev did not start");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async () => {
    const pids = [pid, ...descendants(pid).map((p) => p.pid)];
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
    }
    // Anything still in wrangler's process group (it shares the group id `pid`).
    if (pids.some(isAlive)) killGroup(pid);
    await reapStragglers(pids, kind);
    if (!workspace.keep) await rm(state, { recursive: true, force: true });
  };
  const url = `http://${HOST}:${port}`;
  try {
    await waitForHealthy(url, child, logFile);
    return { kind, description: SERVER_DESCRIPTIONS[kind], url, secrets, startupMs: since(startedAt), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const since = (t0: number) => Math.round(performance.now() - t0);
