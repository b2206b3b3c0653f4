/**
 * The Postgres peers' database (../shared/peers/postgres/ describes its set-up): the machine's
 * PostgreSQL cluster, found with Debian's `pg_lsclusters`, started when it is stopped (and stopped
 * again by `close()`, so the machine is left as found), its `peer` role and database created when
 * missing (as the peers' README does, as root), its schema loaded (which resets the peers' tables),
 * and SQL run through `psql`. Where something is missing, a one-line note says what and how to fix it:
 * the peers are extra rows, never a reason for the bench to fail. One bench run at a time uses them (a
 * lock file in the temp dir): another would reset the tables, or stop the cluster, under it.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { isAlive } from "../serve/processes.ts";

const exec = promisify(execFile);

export const INSTALL_HINT = "apt-get install -y postgresql";
/** The role, password and database that server.mjs connects with (on 127.0.0.1). */
const PEER = "peer";
const LOCK = path.join(tmpdir(), "boxoffice-bench-postgres-peers.lock");

/** Takes the lock (a stale one, whose process is gone, is taken over); or the pid that holds it. */
function lock(): number | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: "wx" });
      return undefined;
    } catch {
      const holder = Number(readFileSync(LOCK, { encoding: "utf8", flag: "a+" }));
      if (holder > 0 && holder !== process.pid && isAlive(holder)) return holder;
      rmSync(LOCK, { force: true });
    }
  }
  return undefined;
}

function unlock(): void {
  try {
    if (readFileSync(LOCK, "utf8") === String(process.pid)) rmSync(LOCK, { force: true });
  } catch {
    // not held
  }
}

interface Cluster {
  version: string;
  name: string;
  port: number;
  online: boolean;
  dataDir: string;
}

export type Opened = { db: PeerDatabase; note?: undefined } | { db?: undefined; note: string };

const message = (error: unknown) =>
  error instanceof Error
    ? (((error as { stderr?: string }).stderr ?? "").trim() || error.message).split("\n")[0]
    : String(error);

/** The clusters `pg_lsclusters` lists (none when PostgreSQL's Debian tools are not installed). */
async function clusters(): Promise<Cluster[] | null> {
  let out: string;
  try {
    out = (await exec("pg_lsclusters", ["-h"])).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  // Ver Cluster Port Status Owner Data-directory Log-file
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/))
    .map(([version = "", name = "", port = "", status = "", , dataDir = ""]) => ({
      version,
      name,
      port: Number(port),
      online: status.startsWith("online"),
      dataDir,
    }));
}

export class PeerDatabase {
  readonly cluster: Cluster;
  /** Whether this run started the cluster (and so stops it). */
  readonly started: boolean;
  serverVersion = "";

  constructor(cluster: Cluster, started: boolean) {
    this.cluster = cluster;
    this.started = started;
  }

  /** What server.mjs needs besides its own defaults (it connects to 127.0.0.1 as `peer`). */
  get env(): Record<string, string> {
    return { PGPORT: String(this.cluster.port), PGPASSWORD: PEER };
  }

  get label(): string {
    return `PostgreSQL ${this.serverVersion || this.cluster.version} (cluster ${this.cluster.version}/${this.cluster.name}, port ${this.cluster.port})`;
  }

  /** Runs SQL (or a file of it, `-f`) as `peer`; returns psql's unaligned, tuples-only output. */
  async psql(sql: string, file = false): Promise<string> {
    const args = ["-h", "127.0.0.1", "-p", String(this.cluster.port), "-U", PEER, "-d", PEER];
    const { stdout } = await exec("psql", [...args, "-v", "ON_ERROR_STOP=1", "-qtAX", file ? "-f" : "-c", sql], {
      env: { ...process.env, PGPASSWORD: PEER, PGOPTIONS: "-c client_min_messages=warning" },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  }

  /** A new tier of `capacity` tickets; its id. */
  async createTier(capacity: number): Promise<string> {
    return this.psql(`INSERT INTO ticket_tiers (total_quantity) VALUES (${Math.trunc(capacity)}) RETURNING id`);
  }

  /** The cluster's main process, whose children (the backends) do the peers' work. */
  async postmasterPid(): Promise<number | undefined> {
    const { version, name, dataDir } = this.cluster;
    for (const file of [`/var/run/postgresql/${version}-${name}.pid`, `${dataDir}/postmaster.pid`]) {
      const pid = Number((await readFile(file, "utf8").catch(() => "")).split("\n")[0]);
      if (pid > 0) return pid;
    }
    return undefined;
  }

  /** Stops the cluster if this run started it, and lets another run use the peers. */
  async close(): Promise<void> {
    if (this.started) await exec("pg_ctlcluster", [this.cluster.version, this.cluster.name, "stop"]).catch(() => {});
    unlock();
  }
}

/** As the postgres superuser, through the local socket (peer authentication: needs root). */
async function asPostgres(cluster: Cluster, command: string, args: string[]): Promise<string> {
  const { stdout } = await exec("runuser", ["-u", "postgres", "--", command, "-p", String(cluster.port), ...args], {
    cwd: "/",
  });
  return stdout.trim();
}

async function ensurePeerRole(db: PeerDatabase): Promise<string | undefined> {
  try {
    await db.psql("SELECT 1");
    return undefined;
  } catch (error) {
    if (process.getuid?.() !== 0) {
      return `cannot log in as "${PEER}" (${message(error)}); create the role and database as ../shared/peers/postgres/README.md says`;
    }
  }
  const c = db.cluster;
  const sql = (q: string) => asPostgres(c, "psql", ["-v", "ON_ERROR_STOP=1", "-qtAXc", q]);
  if (!(await sql(`SELECT 1 FROM pg_roles WHERE rolname = '${PEER}'`))) {
    await sql(`CREATE ROLE ${PEER} LOGIN PASSWORD '${PEER}' SUPERUSER`);
  }
  if (!(await sql(`SELECT 1 FROM pg_database WHERE datname = '${PEER}'`))) {
    await asPostgres(c, "createdb", ["-O", PEER, PEER]);
  }
  await db.psql("SELECT 1");
  return undefined;
}

/**
 * The peers' database, ready: the cluster up, the role and database there, `schemaFile` loaded. Or a
 * note saying why not (nothing is left started then).
 */
export async function openPeerDatabase(schemaFile: string): Promise<Opened> {
  const found = await clusters();
  if (found === null) return { note: `PostgreSQL is not installed (install it with \`${INSTALL_HINT}\`)` };
  const cluster = found.find((c) => c.online) ?? found[0];
  if (!cluster) return { note: "PostgreSQL is installed but has no cluster (pg_createcluster <version> main)" };
  const holder = lock();
  if (holder) return { note: `another bench run (pid ${holder}) is measuring the Postgres peers` };
  let db: PeerDatabase | undefined;
  try {
    if (!cluster.online) await exec("pg_ctlcluster", [cluster.version, cluster.name, "start"]);
    db = new PeerDatabase({ ...cluster, online: true }, !cluster.online);
    const problem = await ensurePeerRole(db);
    if (problem) {
      await db.close();
      return { note: problem };
    }
    await db.psql(schemaFile, true);
    db.serverVersion = await db.psql("SHOW server_version");
    return { db };
  } catch (error) {
    await db?.close();
    unlock();
    return { note: `the Postgres cluster ${cluster.version}/${cluster.name} could not be set up: ${message(error)}` };
  }
}
