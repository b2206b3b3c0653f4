/**
 * The `miniflare-direct` and `miniflare` servers: the bundle `wrangler deploy` would upload, served
 * by Miniflare's programmatic API with the bindings of wrangler.toml and D1 migrated up front.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { descendants, freePort, HOST, reapStragglers, waitForHealthy } from "./processes.ts";
import type { ServerKind, ServerOptions, StartedServer } from "./server.ts";
import { benchVars, makeSecrets } from "./worker-config.ts";
import type { Workspace } from "./workspace.ts";

/** `direct`: serve on a socket bound straight to the Worker instead of Miniflare's entry worker. */
export async function startMiniflare(
  workspace: Workspace,
  kind: ServerKind,
  direct: boolean,
  options: ServerOptions,
): Promise<StartedServer> {
  const { config } = workspace;
  const script = await workspace.bundle();
  const state = await mkdtemp(path.join(workspace.dir, `${kind}-state-`));
  const secrets = makeSecrets(config);
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import("miniflare");
  const inspectorPort = options.inspector ? await freePort() : undefined;
  // The serving socket's port is chosen up front: the Worker is told its own URL (SIMULATOR_ORIGIN).
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const vars = benchVars(url);
  const startedAt = performance.now();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: HOST,
      port: direct ? 0 : port,
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
      bindings: { ...(config.vars as Record<string, string>), ...vars, ...secrets },
      d1Databases: Object.fromEntries(config.d1.map((d) => [d.binding, d.databaseId])),
      durableObjects: Object.fromEntries(
        config.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }]),
      ),
      ratelimits: Object.fromEntries(
        config.ratelimits.map((r) => [
          r.binding,
          { namespace_id: r.namespaceId, simple: { limit: r.limit, period: r.period } },
        ]),
      ),
      queueProducers: Object.fromEntries(config.queueProducers.map((q) => [q.binding, q.queue])),
      queueConsumers: Object.fromEntries(
        config.queueConsumers.map((q) => [
          q.queue,
          { maxBatchSize: q.maxBatchSize, maxBatchTimeout: q.maxBatchTimeout, maxRetries: q.maxRetries },
        ]),
      ),
      // Simulated by Miniflare (nothing leaves the machine); the bench's MAIL_MODE=simulator never calls it.
      email: { send_email: config.sendEmail },
      ...(direct ? { unsafeDirectSockets: [{ host: HOST, port }] } : {}),
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
    const served = (direct ? await mf.unsafeGetDirectURL() : entryUrl).origin;
    if (served !== url) throw new Error(`Miniflare serves at ${served}, not at ${url} as asked`);
    await waitForHealthy(url);
    return {
      url,
      secrets,
      vars,
      startupMs: Math.round(performance.now() - startedAt),
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
