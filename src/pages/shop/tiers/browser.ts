/**
 * The shop's tiers on screen: each tier with its price and what is left, a quantity picker for a
 * general-admission tier and a seat picker for a seated one, redrawn from each availability answer
 * (`GET /v1/events/:eventId/availability`) as seats are held and sold.
 *
 * It runs in the browser: the page's script (../browser.ts) gets `tierPicker`'s own source and calls it
 * once, so it stands alone like the script (see src/pages/scan/browser.ts): no imports, nothing from this
 * module's scope at run time. It is in this folder of its own because only files named `browser.ts` are
 * checked against the DOM (tsconfig.browser.json).
 */
import type { ShopWords } from "../words";

export interface ShopTier {
  id: string;
  name: string;
  price: number;
  kind: "general_admission" | "seated";
  seats?: string[];
  maxPerOrder: number;
  salesStartAt: string | null;
  extensionSeconds: number;
}

/** The members of the Event body (`GET /v1/events/:eventId`) the shop reads. */
export interface ShopEvent {
  id: string;
  currency: string;
  maxTicketsPerOrder: number;
  queue: { opensAt: string } | null;
  tiers: ShopTier[];
}

export interface TierAvailability {
  tierId: string;
  available: number;
  status: "on_sale" | "sold_out" | "not_started" | "ended";
  seats?: { label: string; status: "available" | "held" | "sold" }[];
}

/** A reservation item, as sent and as answered. */
export interface Item {
  tierId: string;
  quantity?: number;
  seats?: string[];
}

export type TierPicker = ReturnType<typeof tierPicker>;

/** Draws the event's tiers into `list`; `changed` runs whenever the buyer's choice changes. */
export function tierPicker(event: ShopEvent, w: ShopWords, list: HTMLElement, changed: () => void) {
  /** A seat this page was told is taken (a refusal) shows so for this long, until a snapshot can know it. */
  const TAKEN_MS = 3000;
  const tiers = new Map(event.tiers.map((t) => [t.id, t]));

  function node<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text = ""): HTMLElementTagNameMap[K] {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text) element.textContent = text;
    return element;
  }

  const tierItem = (id: string) => list.querySelector<HTMLElement>(`li[data-tier="${CSS.escape(id)}"]`);
  const quantityOf = (id: string) => document.getElementById(`qty-${id}`) as HTMLSelectElement | null;
  const seatBoxes = (id: string) => [
    ...list.querySelectorAll<HTMLInputElement>(`input[data-seat-of="${CSS.escape(id)}"]`),
  ];

  function quantityPicker(t: ShopTier): HTMLElement {
    const box = node("div", "qty");
    const label = node("label");
    label.htmlFor = `qty-${t.id}`;
    label.append(node("span", "sr", `${t.name}: `), "Tickets");
    const select = node("select");
    select.id = `qty-${t.id}`;
    // The API's own limits: the tier's per order, and the event's.
    const most = Math.min(t.maxPerOrder, event.maxTicketsPerOrder);
    for (let n = 0; n <= most; n++) select.append(new Option(String(n), String(n)));
    select.addEventListener("change", changed);
    box.append(label, select);
    return box;
  }

  /** Seats grouped into rows by their label's letters ("A1" is in row A), each seat a checkbox. */
  function seatPicker(t: ShopTier): HTMLElement {
    const set = node("fieldset", "seats");
    set.append(node("legend", "", `Choose seats: ${t.name}`));
    const rows = new Map<string, HTMLElement>();
    (t.seats ?? []).forEach((seat, i) => {
      const rowName = seat.replace(/\d+$/, "");
      let row = rows.get(rowName);
      if (!row) {
        const line = node("div", "seat-row");
        line.setAttribute("role", "group");
        line.setAttribute("aria-label", rowName ? `Row ${rowName}` : "Seats");
        row = node("div", "row-seats");
        const name = node("span", "row-name", rowName);
        name.setAttribute("aria-hidden", "true");
        line.append(name, row);
        rows.set(rowName, row);
        set.append(line);
      }
      const label = node("label", "seat");
      const box = node("input");
      box.type = "checkbox";
      box.id = `seat-${t.id}-${i}`;
      box.value = seat;
      box.dataset.seatOf = t.id;
      box.setAttribute("aria-label", `Seat ${seat}`);
      box.addEventListener("change", changed);
      label.dataset.status = "available";
      label.append(box, node("span", "", seat));
      row.append(label);
    });
    const key = node("p", "key");
    key.setAttribute("aria-hidden", "true");
    key.append(node("span", "", "free"), node("span", "k-held", "held"), node("span", "k-sold", "sold"));
    set.append(key);
    return set;
  }

  const items = event.tiers.map((t) => {
    const li = node("li", "tier");
    li.dataset.tier = t.id;
    const head = node("div", "tier-head");
    head.append(node("h3", "", t.name), node("p", "price", w.price(t.price)));
    const left = node("p", "left", "Checking availability…");
    left.id = `left-${t.id}`;
    li.append(head, left, t.kind === "seated" ? seatPicker(t) : quantityPicker(t));
    return li;
  });
  list.replaceChildren(...items);
  if (!items.length) list.append(node("li", "tier", "No tickets are on sale for this event yet."));

  function leftWords(a: TierAvailability, t: ShopTier): string {
    if (a.status === "sold_out" || (a.status === "on_sale" && a.available === 0)) return "Sold out";
    if (a.status === "not_started")
      return t.salesStartAt ? `On sale from ${w.when(t.salesStartAt)}` : "Not on sale yet";
    if (a.status === "ended") return "Sales have ended";
    return t.kind === "seated" ? `${w.plural(a.available, "seat")} free` : `${a.available} left`;
  }

  const takenUntil = new Map<string, number>();
  const seatKey = (tierId: string, seat: string) => `${tierId} ${seat}`;

  /** Shows a seat as `status`; a seat the buyer had chosen that is no longer free is unchosen. */
  function showSeat(box: HTMLInputElement, status: string, open: boolean): boolean {
    const label = box.parentElement as HTMLElement;
    label.dataset.status = status;
    box.setAttribute("aria-label", `Seat ${box.value}${status === "available" ? "" : `, ${status}`}`);
    box.disabled = status !== "available" || !open;
    if (!box.checked || !box.disabled) return false;
    box.checked = false;
    return status !== "available";
  }

  let last: TierAvailability[] | null = null;

  /** Draws an availability answer; returns the seats the buyer had chosen that someone else took. */
  function render(now: TierAvailability[]): string[] {
    last = now;
    const lost: string[] = [];
    for (const a of now) {
      const t = tiers.get(a.tierId);
      const li = tierItem(a.tierId);
      if (!t || !li) continue;
      li.dataset.status = a.status;
      li.dataset.available = String(a.available);
      (li.querySelector(".left") as HTMLElement).textContent = leftWords(a, t);
      const open = a.status === "on_sale";
      const select = quantityOf(t.id);
      if (select) {
        if (!open) select.value = "0";
        select.disabled = !open;
      }
      const seats = new Map((a.seats ?? []).map((s) => [s.label, s.status]));
      for (const box of seatBoxes(t.id)) {
        const told = (takenUntil.get(seatKey(t.id, box.value)) ?? 0) > Date.now();
        const reported = seats.get(box.value) ?? "available";
        if (showSeat(box, reported === "available" && told ? "held" : reported, open)) lost.push(box.value);
      }
    }
    changed();
    return lost;
  }

  /** Draws the last answer again once a seat a refusal named is no longer shown taken on its word alone. */
  function settle(): string[] {
    let lapsed = false;
    for (const [key, until] of takenUntil) {
      if (until > Date.now()) continue;
      takenUntil.delete(key);
      lapsed = true;
    }
    return lapsed && last ? render(last) : [];
  }

  /** Seats a refusal named as taken: shown so at once, before the next snapshot. */
  function markTaken(tierId: string, seats: string[]): void {
    for (const box of seatBoxes(tierId)) {
      if (!seats.includes(box.value)) continue;
      takenUntil.set(seatKey(tierId, box.value), Date.now() + TAKEN_MS);
      showSeat(box, "held", true);
    }
    changed();
  }

  /** The reservation items of the buyer's choice, in the event's tier order. */
  function chosen(): Item[] {
    const picked: Item[] = [];
    for (const t of event.tiers) {
      if (t.kind === "seated") {
        const seats = seatBoxes(t.id)
          .filter((b) => b.checked)
          .map((b) => b.value);
        if (seats.length) picked.push({ tierId: t.id, seats });
      } else {
        const quantity = Number(quantityOf(t.id)?.value ?? 0);
        if (quantity > 0) picked.push({ tierId: t.id, quantity });
      }
    }
    return picked;
  }

  function reset(): void {
    for (const t of event.tiers) {
      const select = quantityOf(t.id);
      if (select) select.value = "0";
      for (const box of seatBoxes(t.id)) box.checked = false;
    }
    changed();
  }

  const countOf = (picked: Item[]) => picked.reduce((n, i) => n + (i.seats?.length ?? i.quantity ?? 0), 0);
  /** What the items cost at the prices this page was served with (checkout charges the tier's price then). */
  const totalOf = (picked: Item[]) =>
    picked.reduce((sum, i) => sum + (tiers.get(i.tierId)?.price ?? 0) * (i.seats?.length ?? i.quantity ?? 0), 0);

  return { render, settle, markTaken, chosen, reset, countOf, totalOf };
}
