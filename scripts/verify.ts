/**
 * `npm run verify -- --url <base> --event <id> [--token <admin token>]`: runs the event's inventory
 * checks (GET /v1/events/:id/verify), prints each one, and exits 1 if any fails (2 if it could not
 * ask). The token defaults to $ADMIN_TOKEN, then to the ADMIN_TOKEN of `.dev.vars` (what `npm start`
 * wrote), so on a local service `--event` is all it needs.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { readDevVars } from "./lib/dev-vars.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const USAGE = "usage: npm run verify -- --event <eventId> [--url http://127.0.0.1:8787] [--token <admin token>]";

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    event: { type: "string" },
    token: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.event) fail(USAGE);
const token =
  values.token ??
  process.env.ADMIN_TOKEN ??
  readDevVars(path.join(import.meta.dirname, "..", ".dev.vars")).get("ADMIN_TOKEN") ??
  fail("No admin token: pass --token, set ADMIN_TOKEN, or run `npm start` once to write .dev.vars");

const url = new URL(`/v1/events/${encodeURIComponent(values.event)}/verify`, values.url);
let res: Response;
try {
  res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
} catch (error) {
  fail(`Could not reach ${url.origin}: ${(error as Error).message}`);
}
const body = (await res.json().catch(() => null)) as { ok?: boolean; checks?: Check[]; detail?: string } | null;
if (!res.ok || !body?.checks) fail(`${url} answered ${res.status}: ${body?.detail ?? "no checks"}`);

for (const check of body.checks) console.log(`${check.ok ? "✓" : "✗"} ${check.name} (${check.detail})`);
const failed = body.checks.filter((c) => !c.ok).length;
console.log(
  failed === 0 ? `\nall ${body.checks.length} checks pass` : `\n${failed} of ${body.checks.length} checks FAIL`,
);
process.exit(failed === 0 ? 0 : 1);
