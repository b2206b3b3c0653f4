/**
 * What the shop page says: prices, times and waits, and every refusal the API can answer in words a
 * buyer understands. No DOM: the Worker's type checker sees it as well as the page's.
 *
 * It runs in the browser: src/pages/shop/view.ts passes `shopWords`'s own source to the page's script
 * (browser.ts), which calls it once. So it stands alone, like the script (see src/pages/scan/browser.ts):
 * no imports, nothing from this module's scope at run time.
 */

/** A problem details body (docs/api.md, "Errors") with the members the shop reads, and its HTTP status. */
export interface Problem {
  status: number;
  code?: string;
  detail?: string;
  tierId?: string;
  available?: number;
  seats?: string[];
  limit?: number;
  reason?: string;
  retryAfter?: number;
  reservationStatus?: string;
  orderStatus?: string;
  errors?: { path: string; message: string }[];
}

export type ShopWords = ReturnType<typeof shopWords>;

/** The words for an event sold in `currencyCode` (ISO 4217, any case), its tiers named by `tierName`. */
export function shopWords(currencyCode: string, tierName: (tierId: string | undefined) => string) {
  const currency = new Intl.NumberFormat(undefined, { style: "currency", currency: currencyCode.toUpperCase() });
  // Prices are in the currency's minor units: cents for EUR, whole yen for JPY.
  const minorDigits = currency.resolvedOptions().maximumFractionDigits ?? 2;
  const money = (minor: number) => currency.format(minor / 10 ** minorDigits);
  const price = (minor: number) => (minor === 0 ? "Free" : money(minor));
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const listed = (xs: string[]) => new Intl.ListFormat("en", { type: "conjunction" }).format(xs);
  const clock = (iso: string) =>
    new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  /** A moment of today as its time, any other with its day too. */
  const moment = (iso: string) => (new Date(iso).toDateString() === new Date().toDateString() ? clock(iso) : when(iso));
  const when = (iso: string) =>
    new Date(iso).toLocaleString([], {
      day: "numeric",
      month: "short",
      ...(new Date(iso).getFullYear() === new Date().getFullYear() ? {} : { year: "numeric" }),
      hour: "2-digit",
      minute: "2-digit",
    });

  function duration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return plural(s, "second");
    if (s < 3600) return plural(Math.round(s / 60), "minute");
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m ? `${plural(h, "hour")} ${plural(m, "minute")}` : plural(h, "hour");
  }

  /** `m:ss` (or `h:mm:ss`), as the hold's countdown shows it. */
  function countdown(seconds: number): string {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function seatsTaken(seats: string[] | undefined): string {
    if (!seats?.length) return "A seat you chose has just been taken: choose another.";
    return seats.length === 1
      ? `Seat ${seats[0]} is taken: someone else got it first. Choose another seat.`
      : `Seats ${listed(seats)} are taken: someone else got them first. Choose other seats.`;
  }

  const expired = "Your hold expired, so the tickets went back on sale.";

  /** A refusal of the API as a buyer reads it. */
  function problem(p: Problem): string {
    switch (p.code) {
      case "SOLD_OUT":
        return p.available
          ? `Only ${plural(p.available, `${tierName(p.tierId)} ticket`)} ${p.available === 1 ? "is" : "are"} left: choose fewer.`
          : `${tierName(p.tierId)} is sold out.`;
      case "SEAT_UNAVAILABLE":
        return seatsTaken(p.seats);
      case "TOO_MANY_TICKETS":
        return p.tierId
          ? `At most ${plural(p.limit ?? 0, `${tierName(p.tierId)} ticket`)} fit in one order: choose fewer.`
          : `At most ${plural(p.limit ?? 0, "ticket")} fit in one order: choose fewer.`;
      case "RATE_LIMITED":
        return p.reason === "holds"
          ? `You already hold as many tickets for this event as one buyer may at a time. Finish that purchase, or try again in ${duration(p.retryAfter ?? 60)}, when a hold ends.`
          : `Too many requests from your connection. Wait ${duration(p.retryAfter ?? 10)} and try again.`;
      case "SALES_CLOSED":
        return `${tierName(p.tierId)} is not on sale right now.`;
      case "RESERVATION_EXPIRED":
        return expired;
      case "RESERVATION_NOT_ACTIVE":
        return p.reservationStatus === "checkout" || p.orderStatus === "pending_payment"
          ? "Payment for these tickets has already started."
          : "This hold has ended: start again to choose tickets.";
      case "EXTENSION_LIMIT":
        return "No more time can be added to this hold.";
      case "DUPLICATE_RESERVATION":
        return "You already hold tickets for this event (perhaps in another tab): finish or cancel that purchase first.";
      case "ADMISSION_REQUIRED":
        return "This sale goes through a queue: you are joining it now.";
      case "ADMISSION_INVALID":
        return "Your turn in the queue is over: its time ran out or it was used up. Join the queue again to buy more.";
      case "BOT_CHECK_FAILED":
        return "The shop could not check that you are a person. Reload the page and try again.";
      case "NOT_FOUND":
        return "This event or hold no longer exists. Reload the page.";
      case "INVALID_INPUT": {
        const field = p.errors?.[0]?.path ?? "";
        if (field === "email") return "Enter a valid e-mail address.";
        if (field === "name") return "Check your name: at most 200 characters, and no special characters.";
        if (field === "amount" || field === "currency" || field.startsWith("items")) {
          return "The payment provider cannot take this amount: choose fewer or other tickets.";
        }
        return "The shop could not accept this request. Reload the page and try again.";
      }
      default:
        return p.status >= 500
          ? "Something went wrong on our side. Try again in a moment."
          : `The shop refused this (${p.status}${p.code ? ` ${p.code}` : ""}). Reload the page and try again.`;
    }
  }

  return {
    money,
    price,
    plural,
    listed,
    clock,
    when,
    moment,
    duration,
    countdown,
    seatsTaken,
    problem,
    expired,
    offline: "The shop cannot be reached: check your connection and try again.",
  };
}
