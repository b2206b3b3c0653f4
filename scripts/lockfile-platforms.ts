/**
 * `npm run lockfile:platforms`: records other platforms' optional binaries in package-lock.json.
 *
 * The registry this project is developed against serves some packages' binaries for Linux only
 * (e.g. workerd and Biome for macOS and Windows answer 404), so `npm install` here leaves them out
 * of the lockfile, and `npm ci` then refuses the lockfile as out of sync. This adds each missing one
 * as an optional entry for its platform (read from its name): npm skips it on other platforms and
 * fetches it where it applies. Run after changing dependencies; it changes nothing when none is missing.
 */
import { readFileSync, writeFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8")) as { packages: Record<string, LockEntry> };
const packages = lock.packages;

/** Where node would find `name` from the package at `from`: the nearest node_modules up the tree. */
function resolves(from: string, name: string): boolean {
  let base = from;
  for (;;) {
    if (packages[`${base ? `${base}/` : ""}node_modules/${name}`]) return true;
    if (!base) return false;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut >= 0 ? base.slice(0, cut) : "";
  }
}

function platformOf(name: string): Record<string, string[]> {
  const parts = name.split("/").at(-1)?.split("-") ?? [];
  const os = parts.includes("darwin")
    ? "darwin"
    : parts.includes("windows") || parts.includes("win32")
      ? "win32"
      : parts.includes("android")
        ? "android"
        : "linux";
  const cpu = parts.includes("arm64") ? "arm64" : "x64";
  return { os: [os], cpu: [cpu], ...(parts.includes("musl") ? { libc: ["musl"] } : {}) };
}

const added: string[] = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolves(path, name)) continue;
    const at = `${path ? `${path}/` : ""}node_modules/${name}`;
    packages[at] = { version, dev: entry.dev, optional: true, ...platformOf(name) };
    added.push(`${at}@${version}`);
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  added.length ? `recorded ${added.length} optional platform packages:\n  ${added.join("\n  ")}` : "nothing missing",
);
