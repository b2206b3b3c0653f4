/**
 * What a drop's queue must keep out, each request timed under its own name and each answer a check:
 * a bot (one client address) that joins the queue again and again and reserves without a pass, and
 * reservations from fresh addresses with no pass, a forged one (a real pass's payload altered, its
 * MAC kept) or something that is no pass at all. None may be let through to a tier.
 */
import { reservationBody } from "../common/buyers.ts";
import { clientHeader, nextAddress } from "../common/clients.ts";
import type { LoadEvent } from "../common/events.ts";
import type { Http } from "../common/http.ts";
import { ADMISSION_HEADER, forgedPass, joinQueue } from "../common/queue.ts";
import type { Metrics } from "./engine.ts";

const LIMITED = "429 RATE_LIMITED";

/** Runs `run(i)` for every i below `n`, `concurrency` at a time. */
async function pool(n: number, concurrency: number, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) await run(i);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

const limitedForRequests = (status: number, body: unknown) =>
  status === 429 && (body as { reason?: unknown } | null)?.reason === "requests";

/** `n` joins from the bot's `address`, `concurrency` at a time (`bot join`): each 201, or 429 (requests). */
export function botJoins(
  http: Http,
  metrics: Metrics,
  eventId: string,
  address: string,
  n: number,
  concurrency: number,
): Promise<void> {
  const headers = clientHeader(address);
  return pool(n, concurrency, async () => {
    const r = await joinQueue(http, eventId, headers, { name: "bot join", expect: [201, LIMITED] });
    const ok = r.status === 201 || limitedForRequests(r.status, r.body);
    metrics.check("bot join: 201, or 429 RATE_LIMITED (requests)", ok, `${r.status} ${r.body?.code ?? ""}`);
  });
}

/**
 * `n` reservations of one ticket without a pass from the bot's `address`, `concurrency` at a time
 * (`bot reserve`): each 403 ADMISSION_REQUIRED, or 429 (requests).
 */
export function botReservations(
  http: Http,
  metrics: Metrics,
  event: LoadEvent,
  address: string,
  n: number,
  concurrency: number,
): Promise<void> {
  const headers = clientHeader(address);
  return pool(n, concurrency, async () => {
    const r = await http.request<{ code?: string }>("bot reserve", "POST", `/v1/events/${event.id}/reservations`, {
      raw: reservationBody(event),
      headers,
      expect: ["403 ADMISSION_REQUIRED", LIMITED],
    });
    const ok = (r.status === 403 && r.ok) || limitedForRequests(r.status, r.body);
    metrics.check("bot reserve: 403 ADMISSION_REQUIRED, or 429 (requests)", ok, `${r.status} ${r.body?.code ?? ""}`);
  });
}

export const PASSLESS_KINDS = ["no pass", "forged pass", "not a pass"] as const;

/**
 * `n` reservations, each from a fresh address (so no rate limit hides the answer), `concurrency` at
 * a time, in turn with no pass (`reserve, no pass`: 403 ADMISSION_REQUIRED), `realPass` forged
 * (`reserve, forged pass`: 403 ADMISSION_INVALID) and a string that is no pass (`reserve, not a
 * pass`: 403 ADMISSION_INVALID).
 */
export function passlessReservations(
  http: Http,
  metrics: Metrics,
  event: LoadEvent,
  realPass: string,
  n: number,
  concurrency: number,
): Promise<void> {
  const forged = forgedPass(realPass);
  return pool(n, concurrency, async (i) => {
    const kind = PASSLESS_KINDS[i % PASSLESS_KINDS.length] as (typeof PASSLESS_KINDS)[number];
    const pass = kind === "no pass" ? undefined : kind === "forged pass" ? forged : "adm_not-a-pass";
    const expected = kind === "no pass" ? "403 ADMISSION_REQUIRED" : "403 ADMISSION_INVALID";
    const r = await http.request<{ code?: string }>(`reserve, ${kind}`, "POST", `/v1/events/${event.id}/reservations`, {
      raw: reservationBody(event),
      headers: { ...clientHeader(nextAddress("buyer")), ...(pass === undefined ? {} : { [ADMISSION_HEADER]: pass }) },
      expect: [expected],
    });
    metrics.check(`reserve, ${kind}: ${expected}`, r.ok, `${r.status} ${r.body?.code ?? ""}`);
  });
}
