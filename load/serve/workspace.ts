import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readWorkerConfig, type WorkerConfig } from "./worker-config.ts";
import { runWrangler } from "./wrangler-cli.ts";

/**
 * One benchmark run's working area: a temp directory for the bundle, the state directories and the
 * server logs, removed by `dispose()` (kept when `keep` is set, for a look afterwards).
 */
export class Workspace {
  readonly root: string;
  readonly dir: string;
  readonly config: WorkerConfig;
  readonly keep: boolean;
  #bundle: Promise<string> | undefined;

  private constructor(root: string, dir: string, config: WorkerConfig, keep: boolean) {
    this.root = root;
    this.dir = dir;
    this.config = config;
    this.keep = keep;
  }

  static async create(root: string, keep = false): Promise<Workspace> {
    const config = await readWorkerConfig(root);
    const dir = await mkdtemp(path.join(tmpdir(), "boxoffice-bench-"));
    return new Workspace(root, dir, config, keep);
  }

  /** The Worker as `wrangler deploy` would upload it (built once per run). Returns the entry file. */
  bundle(): Promise<string> {
    this.#bundle ??= (async () => {
      const outDir = path.join(this.dir, "bundle");
      await runWrangler(this, ["deploy", "--dry-run", "--outdir", outDir], path.join(this.dir, "build.log"));
      const expected = path.join(outDir, `${path.basename(this.config.main, path.extname(this.config.main))}.js`);
      if (existsSync(expected)) return expected;
      const scripts = readdirSync(outDir).filter((f) => /\.m?js$/.test(f));
      if (scripts.length !== 1) throw new Error(`cannot tell the entry module among ${scripts.join(", ")}`);
      return path.join(outDir, scripts[0] as string);
    })();
    return this.#bundle;
  }

  async dispose(): Promise<void> {
    if (!this.keep) await rm(this.dir, { recursive: true, force: true });
  }
}
