/**
 * The shop's waiting page, for an event that sells through its queue (docs/api.md, "Drops"): it joins the
 * queue, shows the place and the estimated wait, looks again after `pollAfterSeconds` (which the API
 * spreads so that a crowd does not poll in waves), and hands the admission pass to the shop once the
 * entry is admitted. The entry is kept in sessionStorage under a session id made here, so that a reload,
 * or a join whose answer was lost, finds the same entry and keeps the place.
 *
 * It runs in the browser: the page's script (../browser.ts) gets `waitingRoom`'s own source and calls it
 * once, so it stands alone like the script (see src/pages/scan/browser.ts): no imports, nothing from this
 * module's scope at run time. It is in this folder of its own because only files named `browser.ts` are
 * checked against the DOM (tsconfig.browser.json).
 */
import type { Answer, Call, Say } from "../browser";
import type { ShopWords } from "../words";

interface QueueEntry {
  id: string;
  status: "waiting" | "admitted" | "expired";
  position: number;
  estimatedWaitSeconds: number;
  pollAfterSeconds: number;
  pass?: string;
  passExpiresAt?: string;
  token?: string;
}

/** What this tab keeps of its entry. */
interface Kept {
  sessionId: string;
  id?: string;
  token?: string;
  pass?: string;
  passExpiresAt?: string;
}

export interface WaitingRoomParts {
  eventId: string;
  /** The queue's opening, while the event has a queue. */
  opensAt: () => string | null;
  w: ShopWords;
  call: Call;
  say: Say;
  /** The server's clock. */
  now: () => number;
  /** The entry is admitted: its pass is ready. */
  admitted: () => void;
  /** The entry can no longer be admitted (the notice says why and offers to join again). */
  ended: () => void;
  /** The event no longer has a queue. */
  removed: () => void;
}

export type WaitingRoom = ReturnType<typeof waitingRoom>;

export function waitingRoom(parts: WaitingRoomParts) {
  const RETRY_MS = 5_000;
  const KEY = `boxoffice.shop.${parts.eventId}.queue`;
  const { w, call, say } = parts;
  const $ = (id: string) => document.getElementById(id) as HTMLElement;

  function read(): Kept | null {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Kept | null;
    } catch {
      return null;
    }
  }
  let kept = read();
  const save = () => {
    try {
      sessionStorage.setItem(KEY, JSON.stringify(kept));
    } catch {
      // Storage refused (a private mode): the place lasts as long as the page.
    }
  };

  /** A random session id; `crypto.randomUUID` needs a secure context, which a LAN address is not. */
  const sessionId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

  const passValid = () => Boolean(kept?.pass && Date.parse(kept.passExpiresAt ?? "") > parts.now());

  let timer = 0;
  /** Each join starts a round: an answer to an earlier round, or after `stop`, is dropped. */
  let round = 0;

  function stop(): void {
    round++;
    clearTimeout(timer);
  }

  /** Joins (a new place at the back when `fresh`, else the entry this tab keeps), then follows it. */
  function join(fresh: boolean): void {
    stop();
    if (fresh || !kept || (kept.pass && !passValid())) kept = { sessionId: sessionId() };
    delete kept.pass;
    delete kept.passExpiresAt;
    save();
    $("queue-status").textContent = "Joining the queue…";
    $("queue-position").textContent = "…";
    $("queue-wait").textContent = "…";
    follow(round);
  }

  async function follow(mine: number): Promise<void> {
    const k = kept as Kept;
    const again = (ms: number) => {
      timer = setTimeout(() => follow(mine), ms);
    };
    let a: Answer<QueueEntry>;
    try {
      a =
        k.id && k.token
          ? await call<QueueEntry>("GET", `/v1/queue/${k.id}`, { token: k.token })
          : await call<QueueEntry>("POST", `/v1/events/${parts.eventId}/queue`, { body: { sessionId: k.sessionId } });
    } catch {
      if (mine !== round) return;
      $("queue-status").textContent = "Connection lost: you keep your place. Retrying…";
      again(RETRY_MS);
      return;
    }
    if (mine !== round) return;
    if (a.body) {
      entered(a.body, again);
      return;
    }
    const p = a.problem ?? { status: a.status };
    if (p.code === "UNAUTHORIZED") {
      // The kept token is no longer accepted: the same session id joins the same entry again.
      delete k.id;
      delete k.token;
      save();
      again(1000);
    } else if (p.code === "NOT_FOUND" && !k.id) {
      parts.removed();
    } else if (p.code === "RATE_LIMITED" || p.status >= 500) {
      $("queue-status").textContent = `${w.problem(p)} You keep your place: this page tries again by itself.`;
      again((p.retryAfter ?? RETRY_MS / 1000) * 1000);
    } else {
      parts.ended();
      say(w.problem(p), { label: "Try again", run: () => join(false) });
    }
  }

  function entered(entry: QueueEntry, again: (ms: number) => void): void {
    const k = kept as Kept;
    if (entry.token) {
      k.id = entry.id;
      k.token = entry.token;
    }
    if (entry.status === "admitted" && entry.pass) {
      k.pass = entry.pass;
      k.passExpiresAt = entry.passExpiresAt;
      save();
      stop();
      parts.admitted();
      return;
    }
    save();
    if (entry.status === "expired") {
      stop();
      parts.ended();
      say("Your turn came, but its time to reserve ran out.", {
        label: "Join the queue again",
        run: () => join(true),
      });
      return;
    }
    const opensAt = parts.opensAt();
    const early = opensAt !== null && Date.parse(opensAt) > parts.now();
    // Before the draw the API's place is an estimate.
    $("queue-position").textContent = early ? `about ${entry.position}` : String(entry.position);
    $("queue-wait").textContent = w.duration(entry.estimatedWaitSeconds);
    $("queue-status").textContent =
      early && opensAt
        ? `The sale opens at ${w.moment(opensAt)}. Everyone who joins before then gets a place drawn at random, so there is no need to hurry.`
        : "Waiting for your turn…";
    again(entry.pollAfterSeconds * 1000);
  }

  return {
    join,
    stop,
    passValid,
    /** The pass to send with a reservation, while the entry holds one. */
    pass: () => (passValid() ? kept?.pass : undefined),
    passExpiresAt: () => kept?.passExpiresAt ?? null,
  };
}
