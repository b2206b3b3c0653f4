/**
 * `--profile`: V8 CPU profiles of the Worker's isolates while a route is measured, taken through
 * workerd's inspector (Chrome DevTools protocol). Each profile is written as a .cpuprofile file
 * (open it in Chrome DevTools › Performance) and summarised: the functions with the most samples of
 * their own, and with the most samples anywhere on their stack. Profiling slows the Worker down, so
 * the figures of a profiled run are not comparable with those of a plain one.
 */
import { writeFile } from "node:fs/promises";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileSummary {
  target: string;
  file: string;
  samples: number;
  /** Samples outside `(idle)`: the isolate was running. */
  busySamples: number;
  /** Shares of the busy samples, in %. */
  topSelf: { fn: string; percent: number }[];
  topInclusive: { fn: string; percent: number }[];
}

interface Session {
  target: string;
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): void;
}

function connect(url: string, target: string): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const pending = new Map<number, (value: unknown) => void>();
    let nextId = 0;
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
      if (message.id !== undefined) {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      }
    };
    ws.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
    ws.onopen = () =>
      resolve({
        target,
        call: <T>(method: string, params: Record<string, unknown> = {}) =>
          new Promise<T>((done) => {
            const id = ++nextId;
            pending.set(id, done as (value: unknown) => void);
            ws.send(JSON.stringify({ id, method, params }));
          }),
        close: () => ws.close(),
      });
  });
}

/** Worker isolates worth profiling: the Worker itself (with its Durable Objects) and the D1 simulator. */
const PROFILED = /^(core:user:|d1:)/;

/** Starts profiling; the returned function stops, writes `<filePrefix>-<target>.cpuprofile` files and summarises. */
export async function startProfiling(
  inspectorPort: number,
  filePrefix: string,
  intervalMicros = 500,
): Promise<() => Promise<ProfileSummary[]>> {
  const res = await fetch(`http://127.0.0.1:${inspectorPort}/json/list`);
  const targets = ((await res.json()) as { id: string; webSocketDebuggerUrl: string }[]).filter((t) =>
    PROFILED.test(t.id),
  );
  const sessions = await Promise.all(targets.map((t) => connect(t.webSocketDebuggerUrl, t.id)));
  for (const s of sessions) {
    await s.call("Profiler.enable");
    await s.call("Profiler.setSamplingInterval", { interval: intervalMicros });
    await s.call("Profiler.start");
  }
  return async () => {
    const summaries: ProfileSummary[] = [];
    for (const s of sessions) {
      const { profile } = await s.call<{ profile: CpuProfile }>("Profiler.stop");
      s.close();
      const file = `${filePrefix}-${s.target.replace(/[^\w.-]+/g, "_").replace(/_+$/, "")}.cpuprofile`;
      await writeFile(file, JSON.stringify(profile));
      summaries.push({ target: s.target, file, ...summarise(profile) });
    }
    return summaries;
  };
}

function summarise(profile: CpuProfile, top = 15) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const name = (n: ProfileNode) => {
    const file = n.callFrame.url.split("/").pop() ?? "";
    return `${n.callFrame.functionName || "(anonymous)"}${file ? ` ${file}:${n.callFrame.lineNumber + 1}` : ""}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const sample of profile.samples) {
    const node = byId.get(sample);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    busy++;
    const key = name(node);
    self.set(key, (self.get(key) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id);
      if (!n || n.callFrame.functionName === "(root)") continue;
      const k = name(n);
      if (!seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
      }
    }
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, n]) => ({ fn, percent: busy ? Math.round((1000 * n) / busy) / 10 : 0 }));
  return { samples: profile.samples.length, busySamples: busy, topSelf: ranked(self), topInclusive: ranked(inclusive) };
}
