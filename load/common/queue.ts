/**
 * An event's drop queue as a buyer's client sees it (../shared/API.md, "Drops"): the settings an event
 * sells through, a queue entry, joining and polling it, and the admission pass a reservation shows.
 * Every call is sent from the buyer's own address (`CF-Connecting-IP`, clients.ts): joins and polls
 * are buyer routes, limited per client.
 */
import type { Expected, Http, Reply } from "./http.ts";

/** `POST /v1/events` `queue`: the event sells through a queue from its creation on. */
export interface QueueSettings {
  /** ISO time the queue opens: who joined before it is placed in a random order then. */
  opensAt: string;
  admitPerMinute: number;
  /** How long a pass is valid (default 900). */
  passSeconds?: number;
  /** Reservations a pass may create (default 3). */
  passReservations?: number;
}

/** The API's default `passReservations`. */
export const DEFAULT_PASS_RESERVATIONS = 3;

export interface QueueEntry {
  id: string;
  eventId: string;
  status: "waiting" | "admitted" | "expired";
  position: number;
  estimatedWaitSeconds: number;
  pollAfterSeconds: number;
  pass?: string;
  /** ISO; the admission time plus `passSeconds`. */
  passExpiresAt?: string;
  /** Only in the join's answer. */
  token?: string;
}

/** The header a reservation on a queued event shows its pass in. */
export const ADMISSION_HEADER = "Boxoffice-Admission";

/** `POST /v1/events/:eventId/queue` from `headers`' client, timed as `name`. */
export function joinQueue(
  http: Http,
  eventId: string,
  headers: Record<string, string>,
  options: { name?: string; sessionId?: string; expect?: readonly Expected[] } = {},
): Promise<Reply<QueueEntry & { code?: string }>> {
  return http.request(options.name ?? "join", "POST", `/v1/events/${eventId}/queue`, {
    body: options.sessionId === undefined ? {} : { sessionId: options.sessionId },
    headers,
    expect: options.expect ?? [201],
  });
}

/** `GET /v1/queue/:entryId` with the entry's token, timed as `poll`. */
export function pollEntry(
  http: Http,
  entry: { id: string; token: string },
  headers: Record<string, string>,
): Promise<Reply<QueueEntry>> {
  return http.request("poll", "GET", `/v1/queue/${entry.id}`, { token: entry.token, headers, expect: [200] });
}

/**
 * A pass as forged from a real one: its payload (event, generation, entry, expiry, reservations)
 * changed, here to allow 10 reservations and last an hour longer, its MAC kept. The service must
 * refuse it (`403 ADMISSION_INVALID`).
 */
export function forgedPass(pass: string): string {
  const match = /^adm_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(pass);
  if (!match) return `${pass}x`;
  const [, payload, mac] = match as unknown as [string, string, string];
  const fields = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown[];
  const [eventId, generation, entryId, expiresAt] = fields;
  const changed = [eventId, generation, entryId, Number(expiresAt) + 3_600_000, 10];
  return `adm_${Buffer.from(JSON.stringify(changed)).toString("base64url")}.${mac}`;
}
