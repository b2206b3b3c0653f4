/**
 * Secrets the Worker runs without (wrangler.toml's `[secrets] required` lists the others; `wrangler
 * types` generates only those). Set with `wrangler secret put NAME`, or locally in `.dev.vars`.
 */
interface Env {
  /** Turns the bot check on (API.md, "Drops"): Cloudflare Turnstile's secret key for siteverify. */
  TURNSTILE_SECRET_KEY?: string;
}
