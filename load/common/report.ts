/**
 * The harnesses' reporting: what both write with their figures to load/results/ (the machine, the
 * versions that ran, the commit), the writing of the JSON file, and the text tables they print.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    node: process.version,
  };
}

/** Where both harnesses write their JSON (and the bench its CPU profiles): load/results/. */
export const RESULTS_DIR = path.join(import.meta.dirname, "..", "results");

/** A time as it goes into a result file's name: `2026-11-22T05-46-30-567Z`. */
export const fileStamp = (d: Date) => d.toISOString().replace(/[:.]/g, "-");

const require = createRequire(import.meta.url);

function versionOf(pkg: string, from?: string): string | null {
  try {
    const file = require.resolve(`${pkg}/package.json`, from ? { paths: [from] } : undefined);
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The versions that matter, each as the package that actually runs resolves it. */
export function softwareVersions() {
  const wranglerDir = path.dirname(require.resolve("wrangler/package.json"));
  const miniflareDir = path.dirname(require.resolve("miniflare/package.json"));
  return {
    wrangler: versionOf("wrangler"),
    miniflare: versionOf("miniflare"),
    miniflareOfWrangler: versionOf("miniflare", wranglerDir),
    workerd: versionOf("workerd", miniflareDir),
    autocannon: versionOf("autocannon"),
  };
}

export function gitInfo(root: string) {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    return { commit: git("rev-parse", "HEAD"), dirty: git("status", "--porcelain").length > 0 };
  } catch {
    return null;
  }
}

export async function writeResults(file: string, data: unknown): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * `rows` under `header` in columns two spaces apart, a rule under the header: the `left` columns
 * aligned left, the others right. One string a line.
 */
export function textTable(header: string[], rows: string[][], left: readonly number[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)];
}
