/**
 * Running the project's own wrangler CLI (the build, the D1 migrations, `wrangler dev`) in a clean
 * environment: no telemetry, logs in the run's temp dir, no binding values from our environment.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { killGroup, tail } from "./processes.ts";
import type { WorkerConfig } from "./worker-config.ts";

const require = createRequire(import.meta.url);
export const WRANGLER = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
/** For the build and the migrations, which take seconds. */
const COMMAND_TIMEOUT_MS = 120_000;

/** Where wrangler runs (a Workspace is one): the project root, the run's temp dir and the Worker's config. */
export interface WranglerSite {
  root: string;
  dir: string;
  config: Pick<WorkerConfig, "requiredSecrets" | "vars">;
}

/**
 * Env for wrangler: no telemetry, a placeholder `request.cf` in `wrangler dev` (no fetch from Cloudflare:
 * like `miniflare.ts`'s `cf: false`), and nothing from our environment shadowing the Worker's bindings.
 */
export function wranglerEnv(workspace: WranglerSite, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: path.join(workspace.dir, "wrangler-logs"),
    ...extra,
  };
  for (const name of [...workspace.config.requiredSecrets, ...Object.keys(workspace.config.vars)]) delete env[name];
  return env;
}

/** The process groups of the wrangler commands under way (each runs in its own, detached). */
const running = new Set<number>();

/** Kills every wrangler command under way with all it started (on an interrupt: Ctrl-C does not reach them). */
export function killRunningWrangler(): void {
  for (const pgid of running) killGroup(pgid);
}

/** Runs a wrangler command to completion, its output to `logFile`; throws with the log's tail on failure. */
export async function runWrangler(
  workspace: WranglerSite,
  args: string[],
  logFile: string,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const fd = openSync(logFile, "a");
  let timer: NodeJS.Timeout | undefined;
  let pgid: number | undefined;
  try {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: workspace.root,
      // No stdin: `d1 migrations apply` then answers its confirmation prompt by itself.
      stdio: ["ignore", fd, fd],
      env: wranglerEnv(workspace, extraEnv),
      // Its own process group, so that a hung command can be ended with everything it started.
      detached: true,
    });
    pgid = child.pid;
    if (pgid !== undefined) running.add(pgid);
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
    if (pgid !== undefined) running.delete(pgid);
    closeSync(fd);
  }
}
