/**
 * The Chromium the browser tests drive, and how they start it.
 *
 * Which browser: `CHROMIUM_PATH` when it is set (Debian's `/usr/bin/chromium`, say), or else the headless
 * Chromium that the `@sparticuz/chromium` devDependency ships inside its npm package (Linux x64 only), so
 * that `npm install` is all a machine needs. A system Chromium is not picked up by itself: every machine
 * runs the same pinned build unless someone asks for another.
 *
 * Where it lives: the package holds a Brotli-compressed binary that its `executablePath()` unpacks into
 * `os.tmpdir()`, reusing `/tmp/chromium` if that exists, complete or not, and writing it in place, so two
 * runs at once could start a half-written browser. Here it runs in a child process with `TMPDIR` set to
 * a fresh folder, which is then renamed to one named after the package's version: a run finds that
 * folder complete or absent, whichever run renames first wins, and the others use the winner's.
 *
 * How it starts: with our own flags, not the package's `args`, which are made for AWS Lambda:
 * `--single-process` breaks the second browser context a test opens, and `--disable-web-security`
 * would weaken what the page's Content-Security-Policy tests check.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type Browser, chromium } from "playwright-core";

const PACKAGE = "@sparticuz/chromium";
/** An unpacking folder this old was left by a run that died: nothing writes to it any more. */
const STALE_MS = 10 * 60_000;

/**
 * Playwright adds `--headless`; `--no-sandbox` because tests may run as root; without the networking
 * flags Chromium keeps trying Google's hosts, which a closed network refuses.
 */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumPath(), headless: true, args: FLAGS });
}

export async function chromiumPath(): Promise<string> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`${PACKAGE} ships Chromium for Linux x64 only: set CHROMIUM_PATH to a Chromium on this machine`);
  }
  const entry = createRequire(import.meta.url).resolve(PACKAGE); // <package>/build/index.js
  const { version } = JSON.parse(readFileSync(path.join(entry, "..", "..", "package.json"), "utf8")) as {
    version: string;
  };
  const dir = path.join(tmpdir(), `boxoffice-chromium-${version}`);
  const executable = path.join(dir, "chromium");
  if (existsSync(executable)) return executable;

  removeStaleUnpacking(dir);
  const staging = await mkdtemp(`${dir}.unpacking-`);
  try {
    const unpack = `import chromium from ${JSON.stringify(pathToFileURL(entry).href)};\nawait chromium.executablePath();`;
    await promisify(execFile)(process.execPath, ["--input-type=module", "--eval", unpack], {
      env: { ...process.env, TMPDIR: staging },
    });
    // mkdtemp and the package make both private; other users of the machine may run the tests too.
    chmodSync(staging, 0o755);
    chmodSync(path.join(staging, "chromium"), 0o755);
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!existsSync(executable)) throw error; // else another run got there first
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return executable;
}

function removeStaleUnpacking(dir: string): void {
  const prefix = `${path.basename(dir)}.unpacking-`;
  for (const name of readdirSync(path.dirname(dir))) {
    const leftover = path.join(path.dirname(dir), name);
    try {
      if (name.startsWith(prefix) && Date.now() - statSync(leftover).mtimeMs > STALE_MS) {
        rmSync(leftover, { recursive: true, force: true });
      }
    } catch {
      // Gone already, or another run's: either way not ours to worry about.
    }
  }
}
