/**
 * The shop page's script: the queue's waiting page, the tiers with live availability and their quantity
 * and seat pickers, the hold with its countdown, and checkout, each step one call of the public API
 * (docs/api.md) made from the buyer's browser. Every refusal is told in words a buyer understands;
 * server text only ever reaches the page through `textContent`.
 *
 * Served like the door page's script (see src/pages/scan/browser.ts for why): view.ts puts the function's
 * own source in the page and calls it with the sources of the three it builds on (words.ts,
 * tiers/browser.ts, queue/browser.ts). So it stands alone: no imports but types, nothing from this
 * module's scope at run time.
 *
 * What it keeps in sessionStorage (this tab only, gone when it closes): the queue entry (its session id,
 * id, token and, once admitted, the pass), so that a reload keeps the place; and the purchase (the
 * reservation and its token, then the order id, order token and checkout URL), so that a reload keeps the
 * hold and the return from checkout finds the order. The return URLs given to checkout carry only the
 * reservation id (`/e/<event>?paid=<reservation>`, `?canceled=`): the payment page sees them, so they
 * never carry a token, and the order's id is not known until checkout answers.
 */

import type { waitingRoom } from "./queue/browser";
import type { Item, ShopEvent, TierAvailability, tierPicker } from "./tiers/browser";
import type { Problem, shopWords } from "./words";

interface Reservation {
  id: string;
  status: "active" | "checkout" | "completed" | "released" | "expired";
  items: Item[];
  expiresAt: string;
  extensionsRemaining: number;
  token?: string;
}

interface CheckoutAnswer {
  orderId: string;
  orderToken: string;
  status: string;
  checkoutUrl?: string | null;
}

/** What this tab keeps of its purchase: the hold, then the order that checkout opened. */
interface Purchase {
  reservation: Reservation;
  token: string;
  orderId?: string;
  orderToken?: string;
  checkoutUrl?: string;
  /** Kept before checkout is asked for: a reload before its answer asks again (the same order comes back). */
  buyer?: { email: string; name: string };
}

/** An answer of the API: its body when it succeeded (null for a 304), else its problem. */
export interface Answer<T> {
  status: number;
  body: T | null;
  problem: Problem | null;
  etag: string | null;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** The queue's admission pass (`Boxoffice-Admission`). */
  pass?: string | undefined;
  key?: string;
  etag?: string | undefined;
}

/** One call of the API; throws only when no answer came (no connection, a timeout). */
export type Call = <T>(method: string, path: string, opts?: CallOptions) => Promise<Answer<T>>;

/** Shows a problem or news above everything, with the one thing to do about it, if any. */
export type Say = (text: string, action?: { label: string; run: () => void }, kind?: "error" | "info") => void;

/** The page's script, given the functions it builds on (the page passes their source). */
export function shopMain(
  makeWords: typeof shopWords,
  makePicker: typeof tierPicker,
  makeWaitingRoom: typeof waitingRoom,
): void {
  /**
   * Availability is polled this often while the tiers are shown. The answer may be up to a second old
   * (the API's cache), so a change shows within that second, this interval and a round trip: under 2 s.
   */
  const POLL_MS = 800;
  const HIDDEN_POLL_MS = 10_000;
  const RETRY_MS = 5_000;
  const TIMEOUT_MS = 15_000;

  const $ = (id: string) => document.getElementById(id) as HTMLElement;
  const event = JSON.parse($("event-data").textContent || "{}") as ShopEvent;
  const PURCHASE_KEY = `boxoffice.shop.${event.id}.purchase`;
  const tiers = new Map(event.tiers.map((t) => [t.id, t]));
  const tierName = (id: string | undefined) => (id && tiers.get(id)?.name) || "this tier";

  const w = makeWords(event.currency, tierName);

  // ---- The API ----

  /** The server's clock minus this one, where they differ by more than the Date header's resolution. */
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;

  const call: Call = async <T>(method: string, path: string, opts: CallOptions = {}): Promise<Answer<T>> => {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.pass) headers["Boxoffice-Admission"] = opts.pass;
    if (opts.key) headers["Idempotency-Key"] = opts.key;
    if (opts.etag) headers["If-None-Match"] = opts.etag;
    const res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const date = Date.parse(res.headers.get("Date") ?? "");
    if (Number.isFinite(date)) {
      const offset = date + 500 - Date.now();
      clockOffset = Math.abs(offset) > 1500 ? offset : 0;
    }
    const json: unknown = res.status === 304 ? null : await res.json().catch(() => null);
    const ok = res.ok || res.status === 304;
    const problem = ok ? null : ({ ...(json && typeof json === "object" ? json : {}), status: res.status } as Problem);
    if (problem && problem.retryAfter === undefined && res.headers.has("Retry-After")) {
      problem.retryAfter = Number(res.headers.get("Retry-After")) || undefined;
    }
    return { status: res.status, body: ok ? (json as T) : null, problem, etag: res.headers.get("ETag") };
  };

  function stored<T>(key: string): T | null {
    try {
      return JSON.parse(sessionStorage.getItem(key) ?? "null") as T | null;
    } catch {
      return null;
    }
  }
  function store(key: string, value: unknown): void {
    try {
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage refused (a private mode): the purchase lasts as long as the page.
    }
  }

  /** A random key; `crypto.randomUUID` needs a secure context, which a LAN address is not. */
  const randomKey = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

  // ---- The screen ----

  type View = "waiting" | "choose" | "hold" | "leaving" | "none";
  let view: View = "none";

  /** Shows one step; moving to another takes the focus to its heading, for keyboards and screen readers. */
  function show(next: View): void {
    const moved = next !== view;
    view = next;
    for (const id of ["waiting", "choose", "hold", "leaving"]) $(id).hidden = id !== next;
    if (next === "choose") {
      if (moved) startPolling();
    } else stopPolling();
    if (next !== "hold") stopCountdown();
    if (next !== "waiting") queue.stop();
    if (moved) document.querySelector<HTMLElement>(`#${next} h2`)?.focus();
  }

  const say: Say = (text, action, kind = "error") => {
    $("notice").hidden = false;
    $("notice").dataset.kind = kind;
    $("notice-text").textContent = text;
    const button = $("notice-action") as HTMLButtonElement;
    button.hidden = !action;
    button.onclick = action
      ? () => {
          clearNotice();
          action.run();
        }
      : null;
    if (action) button.textContent = action.label;
    // Above everything, so it is scrolled to: a buyer at the foot of a seat map would not see it.
    $("notice").scrollIntoView({ block: "nearest" });
    // With no step shown, the notice's action is the one thing to do.
    if (action && view === "none") button.focus();
  };
  function clearNotice(): void {
    $("notice").hidden = true;
    $("notice-text").textContent = "";
  }

  async function busy(button: HTMLButtonElement, label: string, work: () => Promise<void>): Promise<void> {
    if (button.disabled) return;
    // A new attempt: the last one's problem no longer stands.
    clearNotice();
    const was = button.textContent;
    button.disabled = true;
    button.textContent = label;
    try {
      await work();
    } finally {
      button.disabled = false;
      if (button.textContent === label) button.textContent = was;
    }
  }

  // ---- The tiers ----

  const picker = makePicker(event, w, $("tiers"), updateTotal);

  function updateTotal(): void {
    const items = picker.chosen();
    const count = picker.countOf(items);
    $("total").textContent = count
      ? `${w.plural(count, "ticket")} · ${w.price(picker.totalOf(items))}`
      : "No tickets chosen";
  }

  // ---- Live availability ----

  let etag: string | null = null;
  let pollRound = 0;
  let pollTimer = 0;

  function startPolling(): void {
    const round = ++pollRound;
    clearTimeout(pollTimer);
    pollAvailability(round);
  }
  function stopPolling(): void {
    pollRound++;
    clearTimeout(pollTimer);
  }

  async function pollAvailability(round: number): Promise<void> {
    let wait = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    try {
      const a = await call<{ tiers: TierAvailability[] }>("GET", `/v1/events/${event.id}/availability`, {
        etag: etag ?? undefined,
      });
      if (round !== pollRound) return;
      if (a.problem) {
        wait = Math.max(wait, (a.problem.retryAfter ?? RETRY_MS / 1000) * 1000);
        $("live").textContent = `Live availability is paused: ${w.problem(a.problem)}`;
      } else {
        if (a.body) etag = a.etag;
        const lost = a.body ? picker.render(a.body.tiers) : picker.settle();
        if (lost.length) say(w.seatsTaken(lost));
        $("live").textContent = "";
      }
    } catch {
      if (round !== pollRound) return;
      wait = RETRY_MS;
      $("live").textContent = "Connection lost: availability may be out of date. Retrying…";
    }
    pollTimer = setTimeout(() => pollAvailability(round), wait);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && view === "choose") startPolling();
  });

  // ---- Reserving ----

  /**
   * An attempt that got no answer, or a 5xx (which the API does not store), is retried with its key, so
   * that it converges on what the first did and cannot hold twice; any other answer ends the attempt.
   */
  let pending: { body: string; key: string } | null = null;

  async function reserve(): Promise<void> {
    const items = picker.chosen();
    if (!items.length) {
      say("Choose at least one ticket first.");
      return;
    }
    const body = JSON.stringify(items);
    if (pending?.body !== body) pending = { body, key: randomKey() };
    let a: Answer<Reservation>;
    try {
      a = await call<Reservation>("POST", `/v1/events/${event.id}/reservations`, {
        body: { items },
        key: pending.key,
        pass: queue.pass(),
      });
    } catch {
      say(w.offline);
      return;
    }
    if (a.status < 500) pending = null;
    if (a.body?.token) {
      clearNotice();
      hold({ reservation: a.body, token: a.body.token });
      return;
    }
    const p = a.problem as Problem;
    if (p.code === "SEAT_UNAVAILABLE") {
      picker.markTaken(p.tierId ?? "", p.seats ?? []);
      etag = null;
      startPolling();
    }
    if (p.code === "SOLD_OUT") startPolling();
    if (p.code === "ADMISSION_REQUIRED") {
      say(w.problem(p), undefined, "info");
      wait(false);
      return;
    }
    if (p.code === "ADMISSION_INVALID") {
      say(w.problem(p), { label: "Join the queue again", run: () => wait(true) });
      return;
    }
    say(w.problem(p));
  }

  $("choose-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("reserve") as HTMLButtonElement, "Reserving…", reserve);
  });

  // ---- The hold ----

  let purchase: Purchase | null = null;
  let countdownTimer = 0;
  let warned = false;

  function hold(p: Purchase, note = ""): void {
    purchase = p;
    store(PURCHASE_KEY, p);
    const r = p.reservation;
    const paying = r.status === "checkout";
    const items = r.items.map((i) =>
      i.seats?.length
        ? `${tierName(i.tierId)}: ${i.seats.length === 1 ? "seat" : "seats"} ${w.listed(i.seats)}`
        : `${i.quantity} × ${tierName(i.tierId)}`,
    );
    $("held-items").replaceChildren(
      ...items.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      }),
    );
    const total = picker.totalOf(r.items);
    $("hold-total").textContent = `Total: ${w.price(total)}`;
    $("hold-note").textContent = note;
    renderExtend();
    // Once checkout has started the hold can no longer change: only the way back to payment is left.
    $("release").hidden = paying;
    $("checkout-form").hidden = paying;
    $("return-pay").hidden = !paying;
    $("pay").textContent = total === 0 ? "Get my tickets" : `Pay ${w.money(total)}`;
    show("hold");
    warned = false;
    startCountdown();
  }

  /** A reservation across tiers takes the shortest extension of its tiers. */
  function extensionSeconds(r: Reservation): number {
    return Math.min(...r.items.map((i) => tiers.get(i.tierId)?.extensionSeconds ?? 0));
  }

  function renderExtend(): void {
    const r = (purchase as Purchase).reservation;
    const button = $("extend") as HTMLButtonElement;
    button.hidden = r.status !== "active" || r.extensionsRemaining <= 0;
    button.textContent = `Add ${w.duration(extensionSeconds(r))} (${r.extensionsRemaining} left)`;
  }

  function startCountdown(): void {
    stopCountdown();
    tick();
    countdownTimer = setInterval(tick, 250);
  }
  function stopCountdown(): void {
    clearInterval(countdownTimer);
  }

  function tick(): void {
    if (!purchase) return;
    const left = Math.max(0, Math.ceil((Date.parse(purchase.reservation.expiresAt) - now()) / 1000));
    $("countdown").textContent = w.countdown(left);
    if (left === 60 && !warned) {
      warned = true;
      $("hold-note").textContent = "One minute left on your hold.";
    }
    if (left === 0) expired();
  }

  function forgetPurchase(): void {
    purchase = null;
    store(PURCHASE_KEY, null);
    stopCountdown();
  }

  function startAgain(): void {
    clearNotice();
    picker.reset();
    begin();
  }

  function expired(): void {
    forgetPurchase();
    show("none");
    say(w.expired, { label: "Start again", run: startAgain });
  }

  $("extend").addEventListener("click", () =>
    busy($("extend") as HTMLButtonElement, "Adding time…", async () => {
      const p = purchase as Purchase;
      let a: Answer<Reservation>;
      try {
        a = await call<Reservation>("POST", `/v1/reservations/${p.reservation.id}/extend`, { token: p.token });
      } catch {
        say(w.offline);
        return;
      }
      if (a.body) {
        clearNotice();
        const added = extensionSeconds(a.body);
        hold({ ...p, reservation: a.body }, `${w.duration(added)} added.`);
        // The last extension takes its button away: the focus goes back to the hold.
        if ($("extend").hidden) $("hold-title").focus();
        return;
      }
      const problem = a.problem as Problem;
      if (problem.code === "RESERVATION_EXPIRED") {
        expired();
        return;
      }
      if (problem.code === "EXTENSION_LIMIT") {
        p.reservation.extensionsRemaining = 0;
        renderExtend();
      }
      say(w.problem(problem));
    }),
  );

  $("release").addEventListener("click", () =>
    busy($("release") as HTMLButtonElement, "Releasing…", async () => {
      const p = purchase as Purchase;
      let a: Answer<Reservation>;
      try {
        a = await call<Reservation>("DELETE", `/v1/reservations/${p.reservation.id}`, { token: p.token });
      } catch {
        say(w.offline);
        return;
      }
      const code = a.problem?.code;
      if (a.body || code === "RESERVATION_EXPIRED" || code === "RESERVATION_NOT_ACTIVE") {
        forgetPurchase();
        startAgain();
        return;
      }
      say(w.problem(a.problem as Problem));
    }),
  );

  // ---- Checkout ----

  const ticketsUrl = (orderId: string, orderToken: string) =>
    `/tickets/${encodeURIComponent(orderId)}?t=${encodeURIComponent(orderToken)}`;

  async function checkout(): Promise<void> {
    const p = purchase as Purchase;
    const email = ($("email") as HTMLInputElement).value.trim();
    const name = ($("name") as HTMLInputElement).value.trim();
    const back = (what: string) => `${location.origin}/e/${event.id}?${what}=${encodeURIComponent(p.reservation.id)}`;
    purchase = { ...p, buyer: { email, name } };
    store(PURCHASE_KEY, purchase);
    let a: Answer<CheckoutAnswer>;
    try {
      a = await call<CheckoutAnswer>("POST", `/v1/reservations/${p.reservation.id}/checkout`, {
        token: p.token,
        body: { email, ...(name ? { name } : {}), successUrl: back("paid"), cancelUrl: back("canceled") },
      });
    } catch {
      say(w.offline);
      return;
    }
    const c = a.body;
    if (c?.status === "paid") {
      // A free order, paid at once: its tickets page is ready.
      forgetPurchase();
      location.assign(ticketsUrl(c.orderId, c.orderToken));
      return;
    }
    if (c?.checkoutUrl) {
      const paying: Purchase = {
        ...p,
        reservation: { ...p.reservation, status: "checkout" },
        orderId: c.orderId,
        orderToken: c.orderToken,
        checkoutUrl: c.checkoutUrl,
      };
      purchase = paying;
      store(PURCHASE_KEY, paying);
      show("leaving");
      location.assign(c.checkoutUrl);
      return;
    }
    const problem = a.problem ?? { status: a.status };
    if (problem.code === "RESERVATION_EXPIRED") {
      expired();
      return;
    }
    if (problem.code === "SOLD_OUT" || problem.code === "SEAT_UNAVAILABLE") {
      forgetPurchase();
      show("none");
      say(w.problem(problem), { label: "Start again", run: startAgain });
      return;
    }
    say(w.problem(problem));
    if (problem.code === "INVALID_INPUT" && problem.errors?.[0]?.path === "email") $("email").focus();
  }

  $("return-pay").addEventListener("click", () => {
    if (purchase?.checkoutUrl) location.assign(purchase.checkoutUrl);
  });
  $("checkout-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("pay") as HTMLButtonElement, "Opening payment…", checkout);
  });

  /** A purchase this tab kept, read again: the hold as it stands now, or where it ended. */
  async function resume(p: Purchase, canceled: boolean): Promise<void> {
    let a: Answer<Reservation>;
    try {
      a = await call<Reservation>("GET", `/v1/reservations/${p.reservation.id}`, { token: p.token });
    } catch {
      hold(p);
      say(w.offline);
      return;
    }
    const r = a.body;
    const problem = a.problem ?? { status: a.status };
    if (!r && (problem.code === "RATE_LIMITED" || problem.status >= 500)) {
      // Not an answer about the hold: show it as this tab kept it.
      hold(p);
      say(w.problem(problem));
      return;
    }
    if (!r) {
      forgetPurchase();
      begin();
      return;
    }
    if (r.status === "active") {
      hold({ ...p, reservation: r });
      return;
    }
    if (r.status === "checkout" && p.checkoutUrl) {
      hold(
        { ...p, reservation: r },
        canceled
          ? "You left the payment page: nothing was paid. Your tickets stay held until the time runs out."
          : "You have started paying for these tickets.",
      );
      return;
    }
    if (r.status === "checkout" && !p.checkoutUrl && p.buyer) {
      // Reloaded while checkout was being opened: ask again, which answers the same order and payment page.
      purchase = { ...p, reservation: r };
      ($("email") as HTMLInputElement).value = p.buyer.email;
      ($("name") as HTMLInputElement).value = p.buyer.name;
      await checkout();
      return;
    }
    if (r.status === "completed" && p.orderId && p.orderToken) {
      forgetPurchase();
      location.replace(ticketsUrl(p.orderId, p.orderToken));
      return;
    }
    forgetPurchase();
    if (r.status === "expired") {
      show("none");
      say(w.expired, { label: "Start again", run: startAgain });
      return;
    }
    begin();
  }

  // ---- The queue's waiting page ----

  const queue = makeWaitingRoom({
    eventId: event.id,
    opensAt: () => event.queue?.opensAt ?? null,
    w,
    call,
    say,
    now,
    admitted: () => {
      clearNotice();
      choose();
    },
    ended: () => show("none"),
    removed: () => {
      // The organiser removed the queue: the event sells without one now.
      event.queue = null;
      begin();
    },
  });

  function wait(fresh: boolean): void {
    show("waiting");
    queue.join(fresh);
  }

  // ---- Start ----

  function choose(): void {
    const turn = $("turn");
    const until = queue.passExpiresAt();
    turn.hidden = !(event.queue && queue.passValid() && until);
    if (until) turn.textContent = `It is your turn. Reserve your tickets before ${w.moment(until)}.`;
    show("choose");
  }

  function begin(): void {
    if (event.queue && !queue.passValid()) wait(false);
    else choose();
  }

  updateTotal();
  const asked = new URLSearchParams(location.search);
  const paid = asked.get("paid");
  const canceled = asked.get("canceled");
  // Read once: a reload of the page should not answer the return from checkout again.
  if (paid || canceled) history.replaceState(null, "", location.pathname);
  purchase = stored<Purchase>(PURCHASE_KEY);
  if (paid && purchase?.reservation.id === paid && purchase.orderId && purchase.orderToken) {
    const link = ticketsUrl(purchase.orderId, purchase.orderToken);
    forgetPurchase();
    location.replace(link);
  } else if (paid) {
    say(
      "Your payment went through, but this tab no longer has the link to your tickets: it is kept only in the tab you bought them in.",
      undefined,
      "info",
    );
    begin();
  } else if (purchase) {
    resume(purchase, purchase.reservation.id === canceled);
  } else {
    begin();
  }
}
