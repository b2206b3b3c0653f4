/**
 * One POST of a message to an endpoint, signed as the Standard Webhooks specification says (with its
 * reference library, `standardwebhooks`): `webhook-id` (the message id, the same on every attempt),
 * `webhook-timestamp` (this attempt's Unix seconds) and `webhook-signature` (`v1,` + base64 of the
 * HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the secret's bytes). Redirects are not followed
 * (a 3xx is a failed attempt): the URL was checked, where it redirects to was not.
 */
import { Webhook } from "standardwebhooks";
import { ATTEMPT_TIMEOUT_MS } from "./schedule";

export interface AttemptResult {
  delivered: boolean;
  /** The endpoint's HTTP status; null when it gave none (a network fault, no answer in time). */
  status: number | null;
  /** What went wrong (the start of the endpoint's answer to a refusal); null when delivered. */
  error: string | null;
}

const MAX_ERROR = 200;

export function signedHeaders(secret: string, messageId: string, payload: string, at: number) {
  return {
    "content-type": "application/json",
    "user-agent": "boxoffice-webhooks/1",
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(at / 1000)),
    "webhook-signature": new Webhook(secret).sign(messageId, new Date(at), payload),
  };
}

export async function post(
  url: string,
  secret: string,
  messageId: string,
  payload: string,
  at: number,
): Promise<AttemptResult> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: signedHeaders(secret, messageId, payload, at),
      body: payload,
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return { delivered: true, status: res.status, error: null };
    }
    const text = await firstBytes(res, MAX_ERROR);
    return { delivered: false, status: res.status, error: `answered ${res.status}${text ? `: ${text}` : ""}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    const error_ = timedOut ? `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s` : `request failed: ${String(error)}`;
    return { delivered: false, status: null, error: error_.slice(0, MAX_ERROR) };
  }
}

/** The start of an answer's body as text, reading no more than it needs (a receiver may send a lot). */
async function firstBytes(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // What came is enough for an error message.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(bytes).slice(0, max);
}
