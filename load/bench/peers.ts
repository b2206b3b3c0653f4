/**
 * The Postgres peers as extra rows of `npm run bench` (issue 12, aim 1): what an organiser would run
 * instead, ../shared/peers/postgres/server.mjs (node:http + a `pg` pool of 20) in front of the
 * machine's PostgreSQL, measured after the Worker's servers have stopped, with the same autocannon
 * settings (connections, warm-up, seconds) as boxoffice's reservations:
 *
 * - `postgres-seeds`: `POST /tiers/:tierId/holds`, the seeds' design (advisory lock, counter-sync trigger);
 * - `postgres-guarded`: `POST /tiers/:tierId/holds-fast`, one guarded `UPDATE … WHERE available >= n`.
 *
 * Each gets `reservations` (a fresh 1,000,000-ticket tier, warmed up on, as boxoffice's row is) and,
 * when the flatness scenarios run, `flatness-0` (warmed up on another tier, measured on a fresh one)
 * and `flatness-n` (that tier once its active holds are filled up to `--holds`, off the clock, by one
 * INSERT … generate_series; for the seeds' design with its trigger off during the fill and the counter
 * set after, which leaves what that many reservations would have left).
 *
 * The shared folder is read-only (in CI too) and has no node_modules of its own: server.mjs is copied
 * into the run's temp dir beside a link to our node_modules (`pg` is our devDependency at the peers'
 * version; ESM imports ignore NODE_PATH).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { copyFile, mkdir, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { nextAddress } from "../common/clients.ts";
import { cpuWindow, freePort, HOST, reapStragglers, round, waitForHealthy } from "../serve/processes.ts";
import { measure, type RequestSpec } from "./measure.ts";
import { openPeerDatabase, type PeerDatabase } from "./postgres.ts";
import type { Result, ServerRecord } from "./table.ts";

/** The scenarios a peer has a row for: the names of boxoffice's rows they stand beside. */
export const PEER_SCENARIOS = ["reservations", "flatness-0", "flatness-n"];
const CAPACITY = 1_000_000;

interface Peer {
  server: "postgres-seeds" | "postgres-guarded";
  /** For the ratios: `boxoffice ÷ seeds`. */
  short: string;
  route: "holds" | "holds-fast";
  description: string;
  /** SQL counting the tier's active holds. */
  countHolds(tier: string): string;
  /** SQL adding `n` active holds of one ticket to the tier, as that many reservations would have. */
  addHolds(tier: string, n: number): string;
}

const insertHolds = (table: string, tier: string, n: number) =>
  `INSERT INTO ${table} (tier_id, quantity, expires_at) SELECT '${tier}', 1, now() + interval '1 hour' FROM generate_series(1, ${n});`;

export const PEERS: Peer[] = [
  {
    server: "postgres-seeds",
    short: "seeds",
    route: "holds",
    description:
      "Postgres peer, the seeds' design: POST /tiers/:tierId/holds (advisory lock + counter-sync trigger), server.mjs",
    countHolds: (tier) => `SELECT count(*) FROM ticket_holds WHERE tier_id = '${tier}' AND status = 'active'`,
    addHolds: (tier, n) =>
      [
        "BEGIN;",
        "ALTER TABLE ticket_holds DISABLE TRIGGER trg_sync_reserved_quantity;",
        insertHolds("ticket_holds", tier, n),
        "ALTER TABLE ticket_holds ENABLE TRIGGER trg_sync_reserved_quantity;",
        `UPDATE ticket_tiers t SET reserved_quantity = (SELECT COALESCE(SUM(quantity), 0) FROM ticket_holds h
           WHERE h.tier_id = t.id AND h.status = 'active') WHERE id = '${tier}';`,
        "COMMIT;",
      ].join("\n"),
  },
  {
    server: "postgres-guarded",
    short: "guarded",
    route: "holds-fast",
    description:
      "Postgres peer, guarded UPDATE: POST /tiers/:tierId/holds-fast (one UPDATE … WHERE available >= n + insert), server.mjs",
    countHolds: (tier) => `SELECT count(*) FROM fast_holds WHERE tier_id = '${tier}'`,
    addHolds: (tier, n) =>
      [
        "BEGIN;",
        insertHolds("fast_holds", tier, n),
        `UPDATE ticket_tiers SET reserved_quantity = reserved_quantity + ${n} WHERE id = '${tier}';`,
        "COMMIT;",
      ].join("\n"),
  },
];

export interface PeerSettings {
  scenarios: string[];
  seconds: number;
  warmupSeconds: number;
  connections: number;
  holds: number;
}

export interface PeerSession {
  /** Measures each peer on each of PEER_SCENARIOS that `settings.scenarios` names. */
  bench(settings: PeerSettings): Promise<Result[]>;
  servers: ServerRecord[];
  /** Stops the peer server, and the cluster if this run started it. Safe to call twice. */
  stop(): Promise<void>;
}

export type StartedPeers = { session: PeerSession; note?: undefined } | { session?: undefined; note: string };

/** The peers' folder: ../shared/peers/postgres beside the project, or BENCH_PEERS_DIR. */
export const peersDir = (root: string) =>
  process.env.BENCH_PEERS_DIR || path.join(root, "..", "shared", "peers", "postgres");

/** Sets up the database and starts server.mjs; or a note saying why the peers are skipped. */
export async function startPeers(root: string, workDir: string, log: (m: string) => void): Promise<StartedPeers> {
  const dir = peersDir(root);
  const script = path.join(dir, "server.mjs");
  const schema = path.join(dir, "schema.sql");
  if (!existsSync(script) || !existsSync(schema)) return { note: `no Postgres peers at ${dir}` };
  try {
    createRequire(path.join(root, "package.json")).resolve("pg");
  } catch {
    return { note: "the peers' `pg` client is not installed (it is a devDependency: npm ci)" };
  }
  const opened = await openPeerDatabase(schema);
  if (!opened.db) return { note: opened.note };
  const db = opened.db;
  log(`  ${db.label}${db.started ? ", started for this run" : ", already running"}; schema loaded`);

  let child: ChildProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child?.pid !== undefined && child.exitCode === null) {
      child.kill("SIGTERM");
      await reapStragglers([child.pid], "the Postgres peer server");
    }
    await db.close();
  };
  try {
    const work = path.join(workDir, "postgres-peer");
    await mkdir(work, { recursive: true });
    await copyFile(script, path.join(work, "server.mjs"));
    await symlink(path.join(root, "node_modules"), path.join(work, "node_modules"), "dir");
    const port = await freePort();
    const logFile = path.join(workDir, "postgres-peer.log");
    const out = openSync(logFile, "a");
    child = spawn(process.execPath, [path.join(work, "server.mjs")], {
      cwd: work,
      env: { ...process.env, ...db.env, PORT: String(port) },
      stdio: ["ignore", out, out],
    });
    const url = `http://${HOST}:${port}`;
    await waitForHealthy(url, child, logFile);
    log(`  peer server up at ${url}`);
    const postmaster = await db.postmasterPid();
    const roots = [process.pid, ...(postmaster ? [postmaster] : [])];
    const servers = PEERS.map((p) => ({ kind: p.server, description: `${p.description}; ${db.label}`, url }));
    return { session: { servers, stop, bench: (settings) => benchAll(db, url, roots, settings, log) } };
  } catch (error) {
    await stop();
    return { note: `the Postgres peer server did not start: ${error instanceof Error ? error.message : error}` };
  }
}

async function benchAll(
  db: PeerDatabase,
  baseUrl: string,
  roots: number[],
  settings: PeerSettings,
  log: (m: string) => void,
): Promise<Result[]> {
  const results: Result[] = [];
  const wanted = (s: string) => settings.scenarios.includes(s);
  const holdsOf = async (peer: Peer, tier: string) => Number(await db.psql(peer.countHolds(tier)));

  /** Warm-up on `warmTier`, then the measured phase on `tier`, as one row. */
  const row = async (peer: Peer, scenario: string, warmTier: string, tier: string) => {
    const request = (t: string): RequestSpec => ({
      method: "POST",
      path: `/tiers/${t}/${peer.route}`,
      expectStatus: 201,
      // A peer limits no client, but boxoffice's reservations send an address each: the same work
      // for autocannon keeps the two rows' rates comparable.
      client: () => nextAddress("buyer"),
    });
    const phase = { baseUrl, connections: settings.connections };
    if (settings.warmupSeconds > 0) {
      await measure({ ...phase, request: request(warmTier), durationSeconds: settings.warmupSeconds });
    }
    const activeHoldsAtStart = await holdsOf(peer, tier);
    const cpu = cpuWindow(roots);
    const m = await measure({ ...phase, request: request(tier), durationSeconds: settings.seconds });
    const cpuUsed = cpu();
    const activeHoldsAfterRun = await holdsOf(peer, tier);
    const result: Result = {
      server: peer.server,
      scenario,
      method: "POST",
      path: `/tiers/:tierId/${peer.route}`,
      concurrency: "connections",
      connections: settings.connections,
      ...m,
      requestsPerSec: round(m.requestsPerSec),
      ...cpuUsed,
      ratioToBaseline: null,
      extra: { activeHoldsAtStart, activeHoldsAfterRun },
    };
    results.push(result);
    log(
      `  ${peer.server} ${scenario}: ${result.requestsPerSec.toFixed(0)} req/s  p50 ${m.latencyMs.p50} ms  ` +
        `p99 ${m.latencyMs.p99} ms  (${activeHoldsAtStart} active holds at the start)` +
        (m.unexpected || m.errors ? `  ✘ ${m.unexpected} not 201, ${m.errors} errors` : ""),
    );
  };

  for (const peer of PEERS) {
    if (wanted("reservations")) {
      const tier = await db.createTier(CAPACITY);
      await row(peer, "reservations", tier, tier);
    }
    if (wanted("flatness-0") || wanted("flatness-n")) {
      const [warm, tier] = [await db.createTier(CAPACITY), await db.createTier(CAPACITY)];
      if (wanted("flatness-0")) await row(peer, "flatness-0", warm, tier);
      if (wanted("flatness-n")) {
        const missing = settings.holds - (await holdsOf(peer, tier));
        const started = performance.now();
        if (missing > 0) {
          await db.psql(peer.addHolds(tier, missing));
          await db.psql("ANALYZE ticket_holds; ANALYZE fast_holds;");
        }
        log(
          `  ${peer.server}: ${settings.holds} active holds on its tier (${Math.max(missing, 0)} added by SQL in ${((performance.now() - started) / 1000).toFixed(1)}s)`,
        );
        await row(peer, "flatness-n", tier, tier);
      }
    }
  }
  return results;
}
