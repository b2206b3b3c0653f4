import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { generateTicketSigningKey } from "./ticket-key.ts";

/**
 * Local-only values for `wrangler dev`. Adding a default is one line here: `npm start` appends
 * missing keys to an existing `.dev.vars` and never touches values a developer has set.
 */
export const DEV_DEFAULTS: Readonly<Record<string, string>> = {
  ADMIN_TOKEN: "dev-admin-token",
  ALLOWED_ORIGINS: "*",
  // Random per checkout: it keys derived ids and encrypted idempotency replays.
  APP_SECRET: randomBytes(32).toString("base64url"),
  // A fresh Ed25519 private JWK, on one line; single-quoted so that dotenv takes the JSON literally.
  TICKET_SIGNING_KEY: `'${generateTicketSigningKey()}'`,
  // No Stripe account needed: checkout pages, payments and refunds come from the local simulator.
  STRIPE_MODE: "simulator",
  STRIPE_SECRET_KEY: "sk_test_simulator",
  STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64url")}`,
  // The bot check stays off until a TURNSTILE_SECRET_KEY is added here; then only Turnstile's dummy
  // token XXXX.DUMMY.TOKEN.XXXX passes, with no network call.
  TURNSTILE_MODE: "simulator",
  // Webhook endpoints may also be http://127.0.0.1:<port> or http://localhost:<port>: a receiver on this
  // machine. Private addresses stay refused.
  WEBHOOK_ALLOW_LOCAL: "true",
  // No mail leaves the machine: the ticket e-mails are kept for GET /dev/mail (the Worker's links point at
  // this server: `npm start` passes PUBLIC_ORIGIN itself).
  MAIL_MODE: "simulator",
  MAIL_FROM: "tickets@boxoffice.localhost",
};

const HEADER = "# Local settings for `wrangler dev`, written by `npm start`. Edit freely; it is gitignored.\n";

// dotenv's own line grammar, which wrangler uses to read `.dev.vars` (minus its `${VAR}` expansion),
// so the admin token we send is the one the Worker sees even when it is quoted or commented.
const LINE =
  /^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?$/gm;

export function readDevVars(file: string): Map<string, string> {
  const vars = new Map<string, string>();
  if (!existsSync(file)) return vars;
  const text = readFileSync(file, "utf8").replace(/\r\n?/g, "\n");
  for (const [, key = "", raw = ""] of text.matchAll(LINE)) {
    const value = raw.trim();
    const unquoted = value.replace(/^(['"`])([\s\S]*)\1$/, "$2");
    vars.set(key, value.startsWith('"') ? unquoted.replaceAll("\\n", "\n").replaceAll("\\r", "\r") : unquoted);
  }
  return vars;
}

/** Creates `file` or appends the defaults it lacks; returns the keys that were added. */
export function ensureDevVars(file: string, defaults = DEV_DEFAULTS): string[] {
  const present = readDevVars(file);
  const missing = Object.keys(defaults).filter((key) => !present.has(key));
  if (missing.length === 0) return [];
  const lines = missing.map((key) => `${key}=${defaults[key]}\n`).join("");
  if (!existsSync(file)) {
    writeFileSync(file, HEADER + lines);
  } else {
    const current = readFileSync(file, "utf8");
    appendFileSync(file, (current === "" || current.endsWith("\n") ? "" : "\n") + lines);
  }
  return missing;
}
