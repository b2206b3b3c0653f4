/**
 * The bot check (API.md, "Drops"): on while `TURNSTILE_SECRET_KEY` is set. `TURNSTILE_MODE=simulator`
 * accepts Turnstile's documented dummy token and nothing else, with no network call; otherwise the
 * token goes to Cloudflare's siteverify with the client's address. A token siteverify refuses is
 * `403 BOT_CHECK_FAILED`; siteverify itself failing is a server fault (500), not the buyer's.
 */
import { ApiError } from "../../lib/errors";

/** Cloudflare's documented dummy response token (developers.cloudflare.com/turnstile/troubleshooting/testing/). */
export const DUMMY_TURNSTILE_TOKEN = "XXXX.DUMMY.TOKEN.XXXX";
export const SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";
const TIMEOUT_MS = 10_000;

const failed = (detail: string, errorCodes?: string[]) =>
  new ApiError("BOT_CHECK_FAILED", detail, errorCodes ? { errorCodes } : {});

/**
 * `verifyKey`: siteverify's idempotency key, the same on a retry of one request (so a token it accepted
 * is accepted again, not refused as redeemed); null for a request that cannot be retried as such.
 */
export async function requireHuman(
  env: Env,
  token: string | undefined,
  remoteIp: string | null,
  verifyKey: string | null,
): Promise<void> {
  const secret = env.TURNSTILE_SECRET_KEY;
  if (!secret) return;
  if (!token) throw failed("This request needs a turnstileToken from the Turnstile challenge");
  if (env.TURNSTILE_MODE === "simulator") {
    if (token !== DUMMY_TURNSTILE_TOKEN) throw failed("The Turnstile token did not verify");
    return;
  }
  const form = new FormData();
  form.set("secret", secret);
  form.set("response", token);
  if (remoteIp !== null) form.set("remoteip", remoteIp);
  if (verifyKey !== null) form.set("idempotency_key", verifyKey);
  const res = await fetch(SITEVERIFY_URL, { method: "POST", body: form, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`Turnstile siteverify answered ${res.status}`);
  const outcome = (await res.json()) as { success?: boolean; "error-codes"?: string[] };
  if (outcome.success !== true) throw failed("The Turnstile token did not verify", outcome["error-codes"] ?? []);
}
