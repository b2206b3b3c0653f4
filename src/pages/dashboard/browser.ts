/**
 * The organiser dashboard's script: the token (asked once, kept in localStorage until "Sign out"), the
 * event picker (the API lists no events, so an id typed or remembered), creating an event with its tiers,
 * the live numbers per tier from the stats route every few seconds, the queue, tier edits, recent orders with
 * refunds, scanners, verify, the audit log and the webhook endpoints. It decides nothing: each action is one
 * call to the public API with the organiser token, and a refusal shows the API's own problem detail. Server
 * text only ever reaches the page through text nodes.
 *
 * It runs in the browser, served by page.ts as `(${dashboardMain.toString()})()`, so, like /scan's
 * browser.ts, the function must stand alone: no imports, nothing from this module's scope at run time.
 */

interface Problem {
  status?: number;
  code?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

interface Tier {
  id: string;
  name: string;
  price: number;
  kind: string;
  capacity: number;
  salesStartAt: string | null;
  salesEndAt: string | null;
}

interface QueueSettings {
  opensAt: string;
  admitPerMinute: number;
  passSeconds: number;
  passReservations: number;
}

interface EventBody {
  id: string;
  name: string;
  startsAt: string;
  currency: string;
  tiers: Tier[];
  queue: QueueSettings | null;
}

interface TierStats {
  tierId: string;
  name: string;
  capacity: number;
  sold: number;
  held: number;
  available: number;
  checkedIn: number;
  grossRevenue: number;
  refundedAmount: number;
}

interface Stats {
  tiers: TierStats[];
  utilization: number;
  queue: {
    waiting: number;
    admitted: number;
    passesUsed: number;
    admitPerMinute: number;
    oldestWaitSeconds: number;
  } | null;
}

interface OrderTicket {
  id: string;
  tierId: string;
  seat?: string;
  status: string;
}

interface Order {
  id: string;
  status: string;
  email: string;
  amount: number;
  currency: string;
  createdAt: string;
  paidAt: string | null;
  refundedAmount: number;
  tickets: OrderTicket[];
}

interface Scanner {
  id: string;
  name: string;
  gate: string | null;
  createdAt: string;
  revokedAt: string | null;
}

interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actor: { type: string; id?: string };
  subject: { type: string; id: string };
  data: unknown;
}

interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  disabledAt: string | null;
}

interface Delivery {
  id: string;
  type: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
}

interface Answer<T> {
  ok: boolean;
  status: number;
  body: T;
  problem: string;
}

type Child = Node | string | number | null | undefined | false;

export function dashboardMain(): void {
  const TOKEN_KEY = "boxoffice.organiser.token";
  const RECENT_KEY = "boxoffice.dashboard.events";
  const REFRESH_MS = 3000;
  const ORDERS_SHOWN = 25;
  const $ = (id: string) => document.getElementById(id) as HTMLElement;
  const field = (id: string) => $(id) as HTMLInputElement;

  function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  function say(id: string, text: string, kind: "ok" | "error" | "" = ""): void {
    const p = $(id);
    p.textContent = text;
    if (kind) p.dataset.kind = kind;
    else delete p.dataset.kind;
  }

  /** The problem's detail and its field errors, as the API wrote them. */
  function problemText(status: number, p: Problem | null): string {
    if (!p || typeof p !== "object") return `The server answered ${status}`;
    const fields = (p.errors || []).map((e) => `${e.path}: ${e.message}`).join("; ");
    return `${p.code ? `${p.code}: ` : ""}${p.detail || `the server answered ${status}`}${fields ? ` (${fields})` : ""}`;
  }

  async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<Answer<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token || localStorage.getItem(TOKEN_KEY)}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
    try {
      const res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const parsed = res.status === 204 ? null : await res.json().catch(() => null);
      return {
        ok: res.ok,
        status: res.status,
        body: parsed as T,
        problem: res.ok ? "" : problemText(res.status, parsed as Problem),
      };
    } catch (e) {
      return { ok: false, status: 0, body: null as T, problem: `No answer from the server (${(e as Error).name})` };
    }
  }

  // Money in the event's currency, from minor units.
  function money(minor: number, currency: string): string {
    try {
      const f = new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() });
      const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
      return f.format(minor / 10 ** digits);
    } catch {
      return `${minor} ${currency}`;
    }
  }
  const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");
  /** A datetime-local input's value (local time) from an instant, and back. */
  function toLocalInput(iso: string | null): string {
    if (!iso) return "";
    const d = new Date(iso);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const fromLocalInput = (value: string) => new Date(value).toISOString();

  // ---- The token ----
  function screen(): void {
    const token = localStorage.getItem(TOKEN_KEY);
    $("signin").hidden = Boolean(token);
    $("app").hidden = !token;
    if (token) {
      renderRecent();
      loadEndpoints();
      const last = recent()[0];
      if (last && !current) openEvent(last.id);
    } else {
      $("token").focus();
    }
  }
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = field("token").value.trim();
    if (!token) return;
    // An organiser-only route that names no event: the token is checked before it is kept.
    const check = await api<unknown>("GET", "/v1/webhook-endpoints", undefined, token);
    if (check.status === 401 || check.status === 403) {
      say("signin-message", `This token is refused: ${check.problem}`, "error");
      return;
    }
    localStorage.setItem(TOKEN_KEY, token);
    field("token").value = "";
    say("signin-message", "");
    screen();
  });
  $("signout").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    closeEvent();
    screen();
  });

  // ---- Recent events ----
  interface Recent {
    id: string;
    name: string;
  }
  function recent(): Recent[] {
    try {
      const list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(list) ? (list as Recent[]) : [];
    } catch {
      return [];
    }
  }
  function remember(event: EventBody): void {
    const list = [{ id: event.id, name: event.name }, ...recent().filter((r) => r.id !== event.id)].slice(0, 10);
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
    renderRecent();
  }
  function renderRecent(): void {
    const select = $("recent") as HTMLSelectElement;
    select.replaceChildren(el("option", { value: "" }, "Choose…"));
    for (const r of recent()) select.append(el("option", { value: r.id }, `${r.name} (${r.id})`));
  }
  $("recent").addEventListener("change", () => {
    const id = ($("recent") as HTMLSelectElement).value;
    if (id) openEvent(id);
  });
  $("open-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = field("event-id").value.trim();
    if (id) openEvent(id);
  });

  // ---- Creating an event ----
  function addTierRow(name = "", price = "0", capacity = "100"): void {
    const n = $("tier-rows").children.length + 1;
    const input = (id: string, label: string, attrs: Record<string, string>, cls = "") =>
      el("div", cls ? { class: cls } : {}, el("label", { for: id }, label), el("input", { id, ...attrs }));
    const row = el(
      "div",
      { class: "tier-row", role: "group", "aria-label": `Tier ${n}` },
      input(`tier-${n}-name`, `Tier ${n} name`, { required: "", maxlength: "200", value: name }, "wide"),
      input(`tier-${n}-price`, "Price (cents)", { type: "number", min: "0", step: "1", required: "", value: price }),
      input(`tier-${n}-capacity`, "Capacity", { type: "number", min: "1", step: "1", value: capacity }),
      input(`tier-${n}-seats`, "Seats (instead)", { placeholder: "A1, A2, A3" }, "wide"),
      el("button", { type: "button", "aria-label": `Remove tier ${n}` }, "Remove"),
    );
    (row.lastElementChild as HTMLElement).addEventListener("click", () => row.remove());
    $("tier-rows").append(row);
  }
  $("add-tier").addEventListener("click", () => addTierRow());
  addTierRow("General admission");

  $("create-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const tiers = [...$("tier-rows").children].map((row) => {
      const value = (suffix: string) => (row.querySelector(`[id$="-${suffix}"]`) as HTMLInputElement).value.trim();
      const seats = value("seats")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      return {
        name: value("name"),
        price: Number(value("price")),
        ...(seats.length > 0 ? { seats } : { capacity: Number(value("capacity")) }),
      };
    });
    const body = {
      name: field("ev-name").value.trim(),
      startsAt: fromLocalInput(field("ev-starts").value),
      currency: field("ev-currency").value.trim(),
      tiers,
    };
    say("create-message", "Creating…");
    const answer = await api<EventBody>("POST", "/v1/events", body);
    if (!answer.ok) {
      say("create-message", answer.problem, "error");
      return;
    }
    say("create-message", `Created ${answer.body.name} (${answer.body.id})`, "ok");
    ($("create") as HTMLDetailsElement).open = false;
    openEvent(answer.body.id);
  });

  // ---- The open event ----
  let current: EventBody | null = null;
  let generation = 0;
  let timer = 0;
  let lastOrders: Order[] = [];

  function closeEvent(): void {
    generation++;
    clearTimeout(timer);
    current = null;
    $("event").hidden = true;
  }

  async function openEvent(id: string): Promise<void> {
    say("open-message", "Opening…");
    const answer = await api<EventBody>("GET", `/v1/events/${encodeURIComponent(id)}`);
    if (!answer.ok) {
      say("open-message", answer.problem, "error");
      return;
    }
    closeEvent();
    current = answer.body;
    const mine = generation;
    remember(current);
    say("open-message", "");
    field("event-id").value = current.id;
    $("event-title").textContent = current.name;
    $("event-code").textContent = current.id;
    $("shop-link").setAttribute("href", `/e/${current.id}`);
    $("event").hidden = false;
    ($("tier-form") as HTMLFormElement).hidden = true;
    $("refund-form").hidden = true;
    $("scanner-new").hidden = true;
    for (const id of ["tier-message", "queue-message", "refund-message", "scanner-message", "verify-result"])
      say(id, "");
    $("verify-checks").replaceChildren();
    renderQueueForm();
    loadScanners();
    loadAudit(null);
    tick(mine);
  }

  async function reloadEvent(): Promise<void> {
    if (!current) return;
    const answer = await api<EventBody>("GET", `/v1/events/${current.id}`);
    if (answer.ok && current && answer.body.id === current.id) current = answer.body;
  }

  /** Stats and the recent orders, now and every REFRESH_MS while this event is open. */
  let loop = 0;
  async function tick(mine: number): Promise<void> {
    clearTimeout(timer);
    const me = ++loop;
    await refresh();
    // One loop at a time: a refresh asked for meanwhile (a click, the tab shown again) carries on instead.
    if (me === loop && mine === generation && !document.hidden) timer = setTimeout(() => tick(mine), REFRESH_MS);
  }

  async function refresh(): Promise<void> {
    const event = current;
    if (!event) return;
    const [stats, orders] = await Promise.all([
      api<Stats>("GET", `/v1/events/${event.id}/stats`),
      api<{ orders: Order[] }>("GET", `/v1/events/${event.id}/orders?limit=${ORDERS_SHOWN}`),
    ]);
    if (event !== current) return;
    if (stats.ok) {
      renderStats(stats.body);
      $("stats-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } else {
      $("stats-updated").textContent = `not updated: ${stats.problem}`;
    }
    if (orders.ok) {
      lastOrders = orders.body.orders;
      renderOrders(lastOrders);
      renderChart(lastOrders);
    }
  }
  $("refresh").addEventListener("click", () => {
    if (current) tick(generation);
  });

  function renderStats(stats: Stats): void {
    const event = current as EventBody;
    const rows = stats.tiers.map((t) => {
      const tier = event.tiers.find((x) => x.id === t.tierId);
      const edit = el("button", { type: "button", "aria-label": `Edit ${t.name}` }, "Edit");
      edit.addEventListener("click", () => editTier(t.tierId));
      const window = tier
        ? `${tier.salesStartAt ? when(tier.salesStartAt) : "open"} – ${tier.salesEndAt ? when(tier.salesEndAt) : "no end"}`
        : "";
      const num = (v: string | number, name: string) => el("td", { class: "num", "data-field": name }, v);
      return el(
        "tr",
        { "data-tier": t.tierId },
        el("th", { scope: "row" }, t.name),
        num(tier ? money(tier.price, event.currency) : "", "price"),
        num(t.capacity, "capacity"),
        num(t.sold, "sold"),
        num(t.held, "held"),
        num(t.available, "available"),
        num(money(t.grossRevenue, event.currency), "revenue"),
        num(money(t.refundedAmount, event.currency), "refunded"),
        num(t.checkedIn, "checkedIn"),
        el("td", {}, window),
        el("td", {}, edit),
      );
    });
    ($("tiers").querySelector("tbody") as HTMLElement).replaceChildren(...rows);
    const sum = (f: (t: TierStats) => number) => stats.tiers.reduce((a, t) => a + f(t), 0);
    $("totals").textContent =
      `Sold ${sum((t) => t.sold)} of ${sum((t) => t.capacity)} (${Math.round(stats.utilization * 100)}%), ` +
      `revenue ${money(
        sum((t) => t.grossRevenue),
        event.currency,
      )} ` +
      `(refunded ${money(
        sum((t) => t.refundedAmount),
        event.currency,
      )}), checked in ${sum((t) => t.checkedIn)}`;
    const q = stats.queue;
    const dl = $("queue-stats");
    if (q) {
      const item = (label: string, value: number) => el("div", {}, el("dt", {}, label), el("dd", {}, value));
      dl.replaceChildren(
        item("Waiting", q.waiting),
        item("Admitted", q.admitted),
        item("Passes used", q.passesUsed),
        item("Admitted per minute", q.admitPerMinute),
        item("Oldest wait (s)", q.oldestWaitSeconds),
      );
    } else {
      dl.replaceChildren();
    }
  }

  // ---- Editing a tier ----
  let editing: string | null = null;
  function editTier(tierId: string): void {
    const tier = current?.tiers.find((t) => t.id === tierId);
    if (!tier) return;
    editing = tierId;
    $("tier-form-title").textContent = `Edit ${tier.name}`;
    field("tf-price").value = String(tier.price);
    field("tf-capacity").value = String(tier.capacity);
    field("tf-capacity").disabled = tier.kind === "seated";
    field("tf-start").value = toLocalInput(tier.salesStartAt);
    field("tf-end").value = toLocalInput(tier.salesEndAt);
    $("tier-form").hidden = false;
    say("tier-message", "");
    $("tf-price").focus();
  }
  $("tf-cancel").addEventListener("click", () => {
    $("tier-form").hidden = true;
  });
  $("tier-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const tier = current?.tiers.find((t) => t.id === editing);
    if (!tier) return;
    const patch: Record<string, unknown> = {};
    const price = Number(field("tf-price").value);
    if (price !== tier.price) patch.price = price;
    if (tier.kind !== "seated") {
      const capacity = Number(field("tf-capacity").value);
      if (capacity !== tier.capacity) patch.capacity = capacity;
    }
    const start = field("tf-start").value;
    const end = field("tf-end").value;
    if (start !== toLocalInput(tier.salesStartAt)) patch.salesStartAt = start ? fromLocalInput(start) : null;
    if (end !== toLocalInput(tier.salesEndAt)) patch.salesEndAt = end ? fromLocalInput(end) : null;
    if (Object.keys(patch).length === 0) {
      say("tier-message", "Nothing changed");
      return;
    }
    const answer = await api<Tier>("PATCH", `/v1/tiers/${tier.id}`, patch);
    if (!answer.ok) {
      say("tier-message", answer.problem, "error");
      return;
    }
    say("tier-message", `Saved ${answer.body.name}`, "ok");
    $("tier-form").hidden = true;
    await reloadEvent();
    await refresh();
  });

  // ---- The queue ----
  function renderQueueForm(): void {
    const q = current?.queue;
    $("queue-now").textContent = q
      ? `This event sells through a queue: it opens ${when(q.opensAt)}, admitting ${q.admitPerMinute} a minute.`
      : "No queue: buyers reserve directly.";
    field("q-opens").value = toLocalInput(q ? q.opensAt : new Date(Date.now() + 10 * 60_000).toISOString());
    if (q) field("q-rate").value = String(q.admitPerMinute);
    ($("q-remove") as HTMLButtonElement).disabled = !q;
  }
  async function patchQueue(queue: unknown): Promise<void> {
    if (!current) return;
    const answer = await api<EventBody>("PATCH", `/v1/events/${current.id}`, { queue });
    if (!answer.ok) {
      say("queue-message", answer.problem, "error");
      return;
    }
    current = answer.body;
    renderQueueForm();
    say("queue-message", queue ? "Queue set" : "Queue removed", "ok");
    refresh();
  }
  $("queue-form").addEventListener("submit", (e) => {
    e.preventDefault();
    patchQueue({ opensAt: fromLocalInput(field("q-opens").value), admitPerMinute: Number(field("q-rate").value) });
  });
  $("q-remove").addEventListener("click", () => patchQueue(null));

  // ---- Orders and refunds ----
  function renderOrders(orders: Order[]): void {
    const rows = orders.map((o) => {
      const refundable = (o.status === "paid" || o.status === "partially_refunded") && o.tickets.some(valid);
      const button = el("button", { type: "button", "aria-label": `Refund order ${o.id}` }, "Refund…");
      (button as HTMLButtonElement).disabled = !refundable;
      button.addEventListener("click", () => startRefund(o.id));
      return el(
        "tr",
        { "data-order": o.id },
        el("td", {}, el("code", {}, o.id)),
        el("td", {}, when(o.createdAt)),
        el("td", { "data-field": "status" }, o.status),
        el("td", {}, o.email),
        el("td", { class: "num" }, o.tickets.length),
        el("td", { class: "num" }, money(o.amount, o.currency)),
        el("td", { class: "num" }, money(o.refundedAmount, o.currency)),
        el("td", {}, button),
      );
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "8" }, "No orders yet")));
    ($("orders").querySelector("tbody") as HTMLElement).replaceChildren(...rows);
  }
  const valid = (t: OrderTicket) => t.status !== "void";

  let refunding: Order | null = null;
  function startRefund(orderId: string): void {
    const order = lastOrders.find((o) => o.id === orderId);
    if (!order || !current) return;
    refunding = order;
    const tierName = (id: string) => current?.tiers.find((t) => t.id === id)?.name || id;
    $("refund-title").textContent = `Refund order ${order.id} (${order.email})`;
    const boxes = order.tickets.filter(valid).map((t) => {
      const id = `refund-${t.id}`;
      return el(
        "div",
        {},
        el("input", { type: "checkbox", id, value: t.id, checked: "" }),
        " ",
        el("label", { for: id, class: "inline" }, `${tierName(t.tierId)}${t.seat ? `, seat ${t.seat}` : ""} (${t.id})`),
      );
    });
    $("refund-tickets").replaceChildren(el("legend", {}, "Tickets to refund"), ...boxes);
    field("refund-reason").value = "";
    $("refund-form").hidden = false;
    say("refund-message", "");
    ($("refund-tickets").querySelector("input") as HTMLElement | null)?.focus();
  }
  $("refund-cancel").addEventListener("click", () => {
    $("refund-form").hidden = true;
  });
  $("refund-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const order = refunding;
    if (!order) return;
    const boxes = [...$("refund-tickets").querySelectorAll("input[type=checkbox]")] as HTMLInputElement[];
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.length === 0) {
      say("refund-message", "Choose at least one ticket", "error");
      return;
    }
    const reason = field("refund-reason").value.trim();
    // Every ticket still valid: the whole order, as the API takes it (no ticketIds).
    const body = {
      ...(chosen.length === boxes.length ? {} : { ticketIds: chosen }),
      ...(reason ? { reason } : {}),
    };
    say("refund-message", "Refunding…");
    const answer = await api<{ id: string; status: string; amount: number; currency: string; ticketIds: string[] }>(
      "POST",
      `/v1/orders/${order.id}/refunds`,
      body,
    );
    if (!answer.ok) {
      say("refund-message", answer.problem, "error");
      return;
    }
    const r = answer.body;
    say(
      "refund-message",
      `Refund ${r.id} ${r.status}: ${money(r.amount, r.currency)} for ${r.ticketIds.length} ticket${r.ticketIds.length === 1 ? "" : "s"}`,
      "ok",
    );
    $("refund-form").hidden = true;
    refresh();
  });

  // ---- Sales over time: tickets per minute from the recent orders ----
  function renderChart(orders: Order[]): void {
    const paid = orders.filter((o) => o.paidAt);
    const chart = $("chart");
    if (paid.length === 0) {
      chart.replaceChildren(el("p", { class: "muted" }, "No sales yet"));
      return;
    }
    const minute = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
    const first = Math.min(...paid.map((o) => minute(o.paidAt as string)));
    const last = Math.max(minute(new Date().toISOString()), first);
    // Since the first sale, one bar a minute: at least 15 bars (so one busy minute is not a wall), at most 60.
    const span = Math.max(15, Math.min(last - first + 1, 60));
    const start = last - span + 1;
    const counts = new Array<number>(span).fill(0);
    for (const o of paid) {
      const i = minute(o.paidAt as string) - start;
      if (i >= 0 && i < span) counts[i] = (counts[i] ?? 0) + o.tickets.length;
    }
    const top = Math.max(...counts, 1);
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${span * 10} 60`);
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "120");
    svg.setAttribute("preserveAspectRatio", "none");
    counts.forEach((n, i) => {
      const bar = document.createElementNS(NS, "rect");
      const h = (n / top) * 56;
      bar.setAttribute("x", String(i * 10 + 1));
      bar.setAttribute("y", String(58 - h));
      bar.setAttribute("width", "8");
      bar.setAttribute("height", String(h));
      bar.setAttribute("fill", "#2f6fed");
      const title = document.createElementNS(NS, "title");
      title.textContent = `${new Date((start + i) * 60_000).toLocaleTimeString()}: ${n}`;
      bar.append(title);
      svg.append(bar);
    });
    const total = counts.reduce((a, b) => a + b, 0);
    chart.setAttribute("aria-label", `Tickets sold per minute: ${total} in the last ${span} minutes shown`);
    chart.replaceChildren(svg, el("p", { class: "muted" }, `${total} tickets, peak ${top} a minute`));
  }

  // ---- A QR code of the new scanner's token, for the door phone's camera ----
  /** Drawn by the Worker (lean-qr, as the tickets page's): the token goes only to the service that issued it. */
  async function qrImage(text: string): Promise<HTMLImageElement | null> {
    try {
      const res = await fetch("/dashboard/qr", {
        method: "POST",
        headers: { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}`, "Content-Type": "application/json" },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(15_000),
      });
      if (!res.ok) return null;
      const img = document.createElement("img");
      img.src = `data:image/svg+xml;base64,${btoa(await res.text())}`;
      img.alt = "QR code of the scanner's token";
      img.width = 264;
      img.height = 264;
      return img;
    } catch {
      return null;
    }
  }

  // ---- Scanners ----
  async function loadScanners(): Promise<void> {
    const event = current;
    if (!event) return;
    const answer = await api<{ scanners: Scanner[] }>("GET", `/v1/events/${event.id}/scanners`);
    if (event !== current) return;
    if (!answer.ok) {
      say("scanner-message", answer.problem, "error");
      return;
    }
    const rows = answer.body.scanners.map((s) => {
      const revoke = el("button", { type: "button", class: "danger", "aria-label": `Revoke ${s.name}` }, "Revoke");
      (revoke as HTMLButtonElement).disabled = Boolean(s.revokedAt);
      revoke.addEventListener("click", async () => {
        const res = await api<null>("DELETE", `/v1/scanners/${s.id}`);
        say("scanner-message", res.ok ? `Revoked ${s.name}` : res.problem, res.ok ? "ok" : "error");
        loadScanners();
      });
      return el(
        "tr",
        { "data-scanner": s.id },
        el("td", {}, s.name),
        el("td", {}, s.gate || "—"),
        el("td", {}, when(s.createdAt)),
        el("td", { "data-field": "status" }, s.revokedAt ? `revoked ${when(s.revokedAt)}` : "active"),
        el("td", {}, revoke),
      );
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "5" }, "No scanners yet")));
    ($("scanners").querySelector("tbody") as HTMLElement).replaceChildren(...rows);
  }
  $("scanner-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!current) return;
    const gate = field("sc-gate").value.trim();
    const answer = await api<Scanner & { token: string }>("POST", `/v1/events/${current.id}/scanners`, {
      name: field("sc-name").value.trim(),
      ...(gate ? { gate } : {}),
    });
    if (!answer.ok) {
      say("scanner-message", answer.problem, "error");
      return;
    }
    $("scanner-token").textContent = answer.body.token;
    // The QR opens the door page signed in as this scanner (the token in the fragment, which stays on the phone).
    const qr = await qrImage(`${location.origin}/scan#token=${encodeURIComponent(answer.body.token)}`);
    $("scanner-qr").replaceChildren(...(qr ? [qr] : []));
    $("scanner-new").hidden = false;
    say("scanner-message", `Created ${answer.body.name}`, "ok");
    field("sc-name").value = "";
    field("sc-gate").value = "";
    loadScanners();
  });

  // ---- Verify ----
  $("verify").addEventListener("click", async () => {
    if (!current) return;
    $("verify-result").textContent = "Checking…";
    const answer = await api<{ ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }>(
      "GET",
      `/v1/events/${current.id}/verify`,
    );
    if (!answer.ok) {
      $("verify-result").textContent = answer.problem;
      return;
    }
    const failed = answer.body.checks.filter((c) => !c.ok).length;
    $("verify-result").textContent = answer.body.ok
      ? `All ${answer.body.checks.length} checks pass`
      : `${failed} of ${answer.body.checks.length} checks fail`;
    $("verify-checks").replaceChildren(
      ...answer.body.checks.map((c) =>
        el("li", { "data-ok": String(c.ok) }, `${c.ok ? "✓" : "✗"} ${c.name}${c.detail ? `: ${c.detail}` : ""}`),
      ),
    );
  });

  // ---- The audit log, a page at a time ----
  let auditNext: string | null = null;
  async function loadAudit(cursor: string | null): Promise<void> {
    const event = current;
    if (!event) return;
    const answer = await api<{ entries: AuditEntry[]; nextCursor: string | null }>(
      "GET",
      `/v1/events/${event.id}/audit?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    if (event !== current) return;
    if (!answer.ok) {
      say("audit-message", answer.problem, "error");
      return;
    }
    auditNext = answer.body.nextCursor;
    ($("audit-older") as HTMLButtonElement).disabled = !auditNext;
    const rows = answer.body.entries.map((a) =>
      el(
        "tr",
        {},
        el("td", {}, when(a.at)),
        el("td", {}, a.action),
        el("td", {}, `${a.actor.type}${a.actor.id ? ` ${a.actor.id}` : ""}`),
        el("td", {}, el("code", {}, `${a.subject.type} ${a.subject.id}`)),
        el("td", {}, el("code", {}, JSON.stringify(a.data ?? {}).slice(0, 160))),
      ),
    );
    ($("audit").querySelector("tbody") as HTMLElement).replaceChildren(...rows);
    say("audit-message", rows.length === 0 ? "No entries" : "");
  }
  $("audit-newest").addEventListener("click", () => loadAudit(null));
  $("audit-older").addEventListener("click", () => {
    if (auditNext) loadAudit(auditNext);
  });

  // ---- Webhook endpoints and their last deliveries ----
  async function loadEndpoints(): Promise<void> {
    const answer = await api<{ endpoints: Endpoint[] }>("GET", "/v1/webhook-endpoints");
    if (!answer.ok) {
      say("hook-message", answer.problem, "error");
      return;
    }
    const blocks = await Promise.all(
      answer.body.endpoints.map(async (ep) => {
        const list = await api<{ deliveries: Delivery[] }>("GET", `/v1/webhook-endpoints/${ep.id}/deliveries?limit=5`);
        const remove = el("button", { type: "button", class: "danger", "aria-label": `Delete ${ep.url}` }, "Delete");
        remove.addEventListener("click", async () => {
          const res = await api<null>("DELETE", `/v1/webhook-endpoints/${ep.id}`);
          say("hook-message", res.ok ? `Deleted ${ep.url}` : res.problem, res.ok ? "ok" : "error");
          loadEndpoints();
        });
        const reload = el("button", { type: "button", "aria-label": `Reload deliveries of ${ep.url}` }, "Reload");
        reload.addEventListener("click", () => loadEndpoints());
        const rows = (list.ok ? list.body.deliveries : []).map((d) => {
          const retry = el("button", { type: "button", "aria-label": `Retry delivery ${d.id}` }, "Retry");
          (retry as HTMLButtonElement).disabled = d.status !== "failed";
          retry.addEventListener("click", async () => {
            const res = await api<Delivery>("POST", `/v1/webhook-endpoints/${ep.id}/deliveries/${d.id}/retry`);
            say("hook-message", res.ok ? `Delivery ${d.id} queued again` : res.problem, res.ok ? "ok" : "error");
            loadEndpoints();
          });
          return el(
            "tr",
            { "data-delivery": d.id },
            el("td", {}, when(d.createdAt)),
            el("td", {}, d.type),
            el("td", { "data-field": "status" }, d.status),
            el("td", { class: "num" }, d.attempts),
            el("td", {}, d.lastError || (d.lastStatus === null ? "" : String(d.lastStatus))),
            el("td", {}, retry),
          );
        });
        return el(
          "div",
          { "data-endpoint": ep.id },
          el(
            "div",
            { class: "bar" },
            el(
              "h3",
              {},
              el("code", {}, ep.url),
              ep.description ? ` ${ep.description}` : "",
              ep.disabledAt ? ` (disabled ${when(ep.disabledAt)})` : "",
            ),
            el("div", { class: "row" }, reload, remove),
          ),
          rows.length === 0
            ? el("p", { class: "muted" }, list.ok ? "No deliveries yet" : list.problem)
            : el(
                "div",
                { class: "scroll" },
                el(
                  "table",
                  {},
                  el(
                    "thead",
                    {},
                    el(
                      "tr",
                      {},
                      el("th", {}, "Created"),
                      el("th", {}, "Type"),
                      el("th", {}, "Status"),
                      el("th", { class: "num" }, "Attempts"),
                      el("th", {}, "Last answer"),
                      el("th", {}, ""),
                    ),
                  ),
                  el("tbody", {}, ...rows),
                ),
              ),
        );
      }),
    );
    $("hooks").replaceChildren(
      ...(blocks.length
        ? blocks
        : [el("p", { class: "muted" }, "No endpoints: add one to get the events by webhook.")]),
    );
  }
  $("hook-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const description = field("hk-desc").value.trim();
    const answer = await api<Endpoint & { secret: string }>("POST", "/v1/webhook-endpoints", {
      url: field("hk-url").value.trim(),
      ...(description ? { description } : {}),
    });
    if (!answer.ok) {
      say("hook-message", answer.problem, "error");
      return;
    }
    $("hook-secret").textContent = answer.body.secret;
    $("hook-new").hidden = false;
    say("hook-message", `Added ${answer.body.url}`, "ok");
    field("hk-url").value = "";
    field("hk-desc").value = "";
    loadEndpoints();
  });

  document.addEventListener("visibilitychange", () => {
    // A hidden tab asks nothing; back in view, the numbers are fetched at once.
    if (document.hidden) clearTimeout(timer);
    else if (current) tick(generation);
  });

  screen();
}
