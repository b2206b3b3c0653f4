/**
 * A buyer's measured steps in an event's drop queue (common/queue.ts), each outcome a check: joining
 * (timed as `join`), then polling its entry (timed as `poll`), each poll after the `pollAfterSeconds`
 * the last answer asked for, until it is admitted with a pass.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Http } from "../common/http.ts";
import { joinQueue, pollEntry, type QueueEntry } from "../common/queue.ts";
import type { Metrics } from "./engine.ts";

export type Joined = QueueEntry & { token: string };

export interface Admitted {
  entry: QueueEntry;
  pass: string;
  /** Epoch ms: the service's admission time plus the pass's lifetime. */
  passExpiresAt: number;
  polls: number;
}

/** Joins the queue from `headers`' client: the new entry (201, waiting, with its token), or null. */
export async function join(
  http: Http,
  metrics: Metrics,
  eventId: string,
  headers: Record<string, string>,
): Promise<Joined | null> {
  const r = await joinQueue(http, eventId, headers);
  const ok = r.ok && r.body.status === "waiting" && typeof r.body.token === "string" && r.body.pollAfterSeconds >= 1;
  const detail = `${r.status} ${r.body?.code ?? `${r.body?.status} pollAfter ${r.body?.pollAfterSeconds}`}`;
  return metrics.check("join: 201 waiting, with a token", ok, detail) ? (r.body as Joined) : null;
}

/**
 * Polls `entry` from `headers`' client, each time after the `pollAfterSeconds` it was told, until it
 * is admitted: its pass, or null on any other answer (a failed check) or when the next poll would
 * come after `deadline` (a `performance.now()`; a failed check too: every buyer is to be admitted).
 */
export async function awaitAdmission(
  http: Http,
  metrics: Metrics,
  entry: Joined,
  headers: Record<string, string>,
  deadline: number,
): Promise<Admitted | null> {
  let after = entry.pollAfterSeconds;
  for (let polls = 1; ; polls++) {
    if (performance.now() + after * 1000 > deadline) {
      metrics.check("admitted before the scenario's deadline", false, `entry ${entry.id}`);
      return null;
    }
    await sleep(after * 1000);
    const r = await pollEntry(http, entry, headers);
    const e = r.body;
    const waiting = r.ok && e.status === "waiting" && e.position >= 1 && e.pollAfterSeconds >= 1;
    const admitted = r.ok && e.status === "admitted" && typeof e.pass === "string" && e.passExpiresAt !== undefined;
    const detail = `${r.status} ${e?.status} position ${e?.position} pollAfter ${e?.pollAfterSeconds}`;
    if (!metrics.check("poll: 200 waiting, or admitted with a pass", waiting || admitted, detail)) return null;
    if (admitted) {
      return { entry: e, pass: e.pass as string, passExpiresAt: Date.parse(e.passExpiresAt as string), polls };
    }
    after = e.pollAfterSeconds;
  }
}
