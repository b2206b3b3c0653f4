/**
 * `npm start`: local development in one command. Writes `.dev.vars` defaults, applies the local D1
 * migrations, runs `wrangler dev`, seeds a demo event and prints how to try the API.
 */
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { banner } from "./lib/banner.ts";
import { ensureDemoEvent, ensureDropEvent } from "./lib/demo-event.ts";
import { ensureDevVars, readDevVars } from "./lib/dev-vars.ts";

const ROOT = join(import.meta.dirname, "..");
const HOST = "127.0.0.1";
const PORT = Number(process.env.PORT || 8787);
const BASE_URL = `http://${HOST}:${PORT}`;
const STARTUP_TIMEOUT_MS = 60_000;
// Run wrangler's entry point with this Node: no shell and no `.cmd` shim on Windows, and the pid we
// signal is wrangler's own.
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

const report = (message: string) => console.error(`\n✘ npm start: ${message}`);

function fail(message: string, code = 1): never {
  report(message);
  process.exit(code);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
      .once("error", () => resolve(false))
      .listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

async function waitForHealth(deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${BASE_URL}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(500);
  }
  return false;
}

if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65_535) fail(`PORT must be a port number, not "${process.env.PORT}"`);

const devVarsFile = join(ROOT, ".dev.vars");
const added = ensureDevVars(devVarsFile);
if (added.length > 0) console.log(`Added development defaults to .dev.vars: ${added.join(", ")}`);
const adminToken = readDevVars(devVarsFile).get("ADMIN_TOKEN") || fail(".dev.vars sets no ADMIN_TOKEN");

// `d1 migrations apply` has no --yes flag: it asks for confirmation when stdin and stdout are both
// TTYs and CI is unset, and answers "yes" by itself otherwise. We break both conditions, so that
// neither a terminal nor CI=false in the environment can leave it waiting for an answer.
const migrate = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local"], {
  cwd: ROOT,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) fail("applying the local D1 migrations failed", migrate.status || 1);

// Another server on the port would answer /healthz in wrangler's place until wrangler gave up. Checking
// right before wrangler starts leaves only the seconds it takes to bind for someone else to take it.
if (!(await portIsFree(PORT))) fail(`port ${PORT} on ${HOST} is already in use; try PORT=<another port> npm start`);

// No stdin for wrangler: given a TTY it puts the terminal in raw mode for its hotkeys, which turns
// Ctrl-C into a keypress we never see, and its "clear console" key would wipe the banner.
// The simulator's checkout pages are served by this same server, and the ticket e-mails link to it.
const devArgs = [
  "dev",
  "--ip",
  HOST,
  "--port",
  String(PORT),
  "--var",
  `SIMULATOR_ORIGIN:${BASE_URL}`,
  "--var",
  `PUBLIC_ORIGIN:${BASE_URL}`,
];
// CLOUDFLARE_CF_FETCH_ENABLED=false (read by wrangler's Miniflare): a placeholder `request.cf` instead
// of fetching one from Cloudflare, which offline prints a DNS error and its stack on every (re)start.
const dev = spawn(process.execPath, [WRANGLER, ...devArgs], {
  cwd: ROOT,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});
let exitCodeOnceStopped: number | undefined;
/** Stops wrangler, which takes its workerd processes down with it, then exits with `code`. */
function stop(code: number, signal: NodeJS.Signals = "SIGTERM"): void {
  exitCodeOnceStopped ??= code;
  dev.kill(signal);
}
dev.on("error", (error) => fail(`could not run wrangler: ${error.message}`));
dev.on("exit", (code, signal) => {
  if (exitCodeOnceStopped !== undefined) process.exit(exitCodeOnceStopped);
  fail(`wrangler dev stopped (${signal ?? `exit code ${code}`})`, code ?? 1);
});
process.on("SIGINT", () => stop(0, "SIGINT"));
process.on("SIGTERM", () => stop(0, "SIGTERM"));

if (!(await waitForHealth(Date.now() + STARTUP_TIMEOUT_MS))) {
  report(`${BASE_URL}/healthz did not answer 200 within ${STARTUP_TIMEOUT_MS / 1000} s; see wrangler's output above`);
  stop(1);
} else {
  try {
    const event = await ensureDemoEvent(BASE_URL, adminToken, join(ROOT, ".wrangler", "demo-event.json"));
    const drop = await ensureDropEvent(BASE_URL, adminToken, join(ROOT, ".wrangler", "drop-event.json"));
    console.log(banner(BASE_URL, adminToken, event, drop));
  } catch (error) {
    report(error instanceof Error ? error.message : String(error));
    stop(1);
  }
}
