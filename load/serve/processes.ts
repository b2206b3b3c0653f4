/**
 * Small process helpers for the benchmark: a free loopback port, waiting for a server to answer,
 * the processes this run started (read from /proc, so Linux only; elsewhere the lists are empty and
 * CPU figures are omitted) and ending them, and the CPU time they use while a measurement runs.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const HOST = "127.0.0.1";

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no port was assigned"))));
    });
  });
}

const STARTUP_TIMEOUT_MS = 60_000;

/** Polls `url`/healthz until it answers 200; gives up early, with the log's tail, if `child` exits. */
export async function waitForHealthy(url: string, child?: ChildProcess, logFile?: string): Promise<void> {
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

/** The last lines of a process's log, for an error message. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The executable name (`comm`), e.g. `workerd` or `node`. */
  name: string;
  /** User + system CPU time, in clock ticks. */
  ticks: number;
  /** `R`, `S`, ... or `Z` for a zombie (exited, not yet reaped). */
  state: string;
}

const hasProc = (() => {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The name is in parentheses and may itself contain spaces or parentheses.
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    return {
      pid,
      ppid: Number(fields[1]),
      name: stat.slice(open + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]),
      state: fields[0] ?? "",
    };
  } catch {
    return null; // gone meanwhile
  }
}

/** Every live descendant of `root` (children, their children, ...), not `root` itself. */
export function descendants(root: number = process.pid): ProcInfo[] {
  if (!hasProc) return [];
  const all: ProcInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info && info.state !== "Z") all.push(info);
  }
  const found: ProcInfo[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const p of all) {
      if (p.ppid === parent) {
        found.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return found;
}

/** Waits until none of `pids` is alive (or the time is up); returns the ones still alive. */
export async function waitForExit(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  return alive;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!hasProc) return true;
  const info = readProc(pid);
  return info !== null && info.state !== "Z";
}

/** Kills, by pid, whatever the server left behind (it should leave nothing). */
export async function reapStragglers(pids: number[], label: string): Promise<void> {
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

export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // the group is gone
  }
}

export interface CpuWindow {
  /** CPU used by the server's processes (children of this run), in % of one core. */
  serverCpuPercent: number | null;
  /** CPU used by this Node process (autocannon, plus Miniflare's host side when it runs here). */
  benchCpuPercent: number;
}

/** The live descendants of each of `roots`, each process once. */
function descendantsOf(roots: number[]): ProcInfo[] {
  return [...new Map(roots.flatMap((r) => descendants(r)).map((p) => [p.pid, p])).values()];
}

/**
 * Starts counting CPU time; call the returned function at the end of the window. The server's
 * processes are the descendants of `roots`: this run's children, and for a server this run did not
 * start (a database cluster), its main process's.
 */
export function cpuWindow(roots: number[] = [process.pid]): () => CpuWindow {
  const startedAt = performance.now();
  const self = process.cpuUsage();
  const before = new Map(descendantsOf(roots).map((p) => [p.pid, p.ticks]));
  return () => {
    const seconds = (performance.now() - startedAt) / 1000;
    const selfUsage = process.cpuUsage(self);
    let ticks = 0;
    for (const p of descendantsOf(roots)) ticks += p.ticks - (before.get(p.pid) ?? p.ticks);
    return {
      serverCpuPercent: hasProc ? round((100 * ticks) / clockTicks() / seconds) : null,
      benchCpuPercent: round((selfUsage.user + selfUsage.system) / 1e4 / seconds),
    };
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
