/** Starting a local server of the Worker, of one of the three kinds (server.ts), and ending what is left. */
import { startMiniflare } from "./miniflare.ts";
import { descendants, type ProcInfo } from "./processes.ts";
import { SERVER_DESCRIPTIONS, type Server, type ServerKind, type ServerOptions, type StartedServer } from "./server.ts";
import type { Workspace } from "./workspace.ts";
import { killRunningWrangler } from "./wrangler-cli.ts";
import { startWranglerDev } from "./wrangler-dev.ts";

export async function startServer(
  kind: ServerKind,
  workspace: Workspace,
  options: ServerOptions = {},
): Promise<Server> {
  const started = await start(kind, workspace, options);
  return { kind, description: SERVER_DESCRIPTIONS[kind], ...started };
}

function start(kind: ServerKind, workspace: Workspace, options: ServerOptions): Promise<StartedServer> {
  switch (kind) {
    case "miniflare-direct":
      return startMiniflare(workspace, kind, true, options);
    case "miniflare":
      return startMiniflare(workspace, kind, false, options);
    case "wrangler-dev":
      return startWranglerDev(workspace);
  }
}

/**
 * Kills what this run started that is still running (a server should leave nothing), a wrangler
 * command under way included; returns what it found.
 */
export function killLeftovers(): ProcInfo[] {
  killRunningWrangler();
  const left = descendants();
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return left;
}
