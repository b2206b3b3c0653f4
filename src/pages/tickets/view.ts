/**
 * The HTML of the buyer's tickets page, drawn from the API's own bodies (the Order that
 * `GET /v1/orders/:orderId` answers and the Event of `GET /v1/events/:eventId`), and of the one page
 * every link that opens no order gets. Every value is escaped by `html`; only the QR codes' SVG, which
 * lean-qr writes from the ticket code alone, goes in as markup.
 */
import { html, raw } from "hono/html";
import type { z } from "zod";
import { eventStartText } from "../../lib/time";
import type { Event, Order, Ticket } from "../../routes/bodies";
import { qrSvg } from "./qr";

type OrderBody = z.output<typeof Order>;
type EventBody = z.output<typeof Event>;
type TicketBody = z.output<typeof Ticket>;

/** How long a page waiting for its payment waits before it looks again. */
const PENDING_REFRESH_SECONDS = 5;

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:17px/1.45 system-ui,sans-serif;background:#f4f4f5;color:#17181c}
main{max-width:28rem;margin:0 auto;padding:1rem .75rem 2rem}
h1{font-size:1.45rem;line-height:1.2;margin:.25rem 0}
.when{margin:0 0 1rem;color:#3d4049}
.notice{background:#fff4d6;border-left:4px solid #e0a100;padding:.6rem .75rem;border-radius:.25rem}
ol{list-style:none;margin:0;padding:0;display:grid;gap:1rem}
.ticket{background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px #0002}
.qr svg{display:block;width:100%;max-width:20rem;height:auto;aspect-ratio:1/1;margin:0 auto}
.ticket h2{font-size:1.2rem;margin:.75rem 0 0}
.ticket p{margin:.15rem 0}
.status{display:inline-block;margin-top:.35rem!important;padding:.1rem .6rem;border-radius:1rem;font-weight:700;
text-transform:uppercase;letter-spacing:.03em;font-size:.9rem;background:#d8f3e0;color:#0a5c27}
[data-status=checked_in] .status{background:#dde7fb;color:#1d3f8f}
[data-status=void] .status{background:#fbdcdc;color:#8c1018}
.void-note{color:#8c1018}
details{margin-top:.5rem;font-size:.9rem}
code{overflow-wrap:anywhere;font-size:.8rem}
.fine{font-size:.9rem;color:#3d4049;margin-top:1.5rem}
`;

const STATUS_WORDS: Record<TicketBody["status"], string> = {
  valid: "valid",
  checked_in: "checked in",
  void: "void",
};

/** What an order that is not simply paid says above its tickets (or instead of them). */
const NOTICES: Partial<Record<OrderBody["status"], string>> = {
  pending_payment:
    "Your payment is being confirmed. Your tickets appear here as soon as it is: this page looks again by itself.",
  expired: "This order was not completed, so it has no tickets.",
  canceled: "This order was not completed, so it has no tickets.",
  refunded: "This order was refunded: its tickets are void and do not admit.",
  partially_refunded: "Part of this order was refunded: the tickets marked void do not admit.",
};

function frame(nonce: string, title: string, body: unknown, refreshSeconds?: number) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}">` : ""}
<title>${title}</title><style nonce="${nonce}">${raw(STYLE)}</style></head><body><main>${body}</main></body></html>`;
}

/** The event's start in its own time zone, as a person reads it. */
const startTime = (event: EventBody): string => eventStartText(event.startsAt, event.timezone);

function ticketItem(ticket: TicketBody, index: number, count: number, tierName: string) {
  const label = `Ticket ${index + 1} of ${count}`;
  // A void ticket does not admit (the door refuses it, TICKET_VOID): no code to hold up.
  const code =
    ticket.status === "void"
      ? html`<p class="void-note">Refunded or cancelled: this ticket no longer admits.</p>`
      : html`<div class="qr" role="img" aria-label="${label}: QR code">${raw(qrSvg(ticket.code))}</div>`;
  return html`<li class="ticket" id="${ticket.id}" data-status="${ticket.status}" aria-label="${label}">
${code}<h2>${tierName}</h2><p class="seat">${ticket.seat ? `Seat ${ticket.seat}` : "General admission"}</p>
<p class="status">${STATUS_WORDS[ticket.status]}</p>
${ticket.status === "void" ? "" : html`<details><summary>Ticket code</summary><code>${ticket.code}</code></details>`}
</li>`;
}

export function ticketsPage(nonce: string, order: OrderBody, event: EventBody) {
  const tierNames = new Map(event.tiers.map((t) => [t.id, t.name]));
  const notice = NOTICES[order.status];
  const items = order.tickets.map((t, i, all) => ticketItem(t, i, all.length, tierNames.get(t.tierId) ?? "Ticket"));
  const body = html`<h1>${event.name}</h1><p class="when"><time datetime="${event.startsAt}">${startTime(event)}</time></p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ""}
${items.length ? html`<ol aria-label="Your tickets">${items}</ol>` : ""}
${
  items.length
    ? html`<p class="fine">Show each code at the door, one per person. Anyone with this page's link can see these
tickets: keep it to yourself.</p>`
    : ""
}`;
  const refresh = order.status === "pending_payment" ? PENDING_REFRESH_SECONDS : undefined;
  return frame(nonce, `Tickets: ${event.name}`, body, refresh);
}

/** The one page for every link that opens nothing: it names no order and says nothing of why. */
export function noTicketsPage(nonce: string) {
  return frame(
    nonce,
    "No tickets here",
    html`<h1>No tickets here</h1><p>This link does not open a tickets page. The link to your tickets is the one
given at checkout, with your order's token in it: <code>/tickets/ord_…?t=ordtok_…</code>.</p>
<p>Check that the whole link was copied, or ask the shop where you bought your tickets for it again.</p>`,
  );
}
