/**
 * The `wrangler-dev` server: `wrangler dev` as `npm start` runs it, but on a free port, with its own
 * state directory (migrated by `wrangler d1 migrations apply`) and the run's secrets in an env file.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { descendants, freePort, HOST, isAlive, killGroup, reapStragglers, waitForHealthy } from "./processes.ts";
import type { StartedServer } from "./server.ts";
import { benchVars, makeSecrets } from "./worker-config.ts";
import type { Workspace } from "./workspace.ts";
import { runWrangler, WRANGLER, wranglerEnv } from "./wrangler-cli.ts";

export async function startWranglerDev(workspace: Workspace): Promise<StartedServer> {
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
  const url = `http://${HOST}:${port}`;
  const vars = benchVars(url);
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
      // As `npm start` passes SIMULATOR_ORIGIN: vars on the command line override wrangler.toml's.
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
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
  try {
    await waitForHealthy(url, child, logFile);
    return { url, secrets, vars, startupMs: Math.round(performance.now() - startedAt), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
