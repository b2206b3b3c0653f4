/**
 * The ticket e-mail's words (docs/api.md, "E-mail"): the event and its start, each ticket's tier and seat,
 * and the link to the buyer's tickets page, as a text part and an HTML part that say the same. The link is
 * the one secret in it: no ticket code (a code admits at the door), no other token. Every value from the
 * organiser or the buyer is escaped in the HTML part.
 */
import type { EventRow, OrderRow, TicketRow, TierRow } from "../../db/schema";
import { eventStartText } from "../../lib/time";

export interface TicketEmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface TicketEmailInput {
  order: OrderRow;
  event: EventRow;
  tiers: TierRow[];
  /** In the order's order (by ticket id), as the tickets page lists them. */
  tickets: TicketRow[];
  /** `<PUBLIC_ORIGIN>/tickets/<orderId>?t=<order token>`. */
  link: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

/** What an order that is not simply paid says above its tickets. */
const NOTICES: Partial<Record<OrderRow["status"], string>> = {
  refunded: "This order was refunded: its tickets are void and do not admit.",
  partially_refunded: "Part of this order was refunded: the tickets marked void do not admit.",
};

interface Line {
  tier: string;
  place: string;
  void: boolean;
}

function lines(input: TicketEmailInput): Line[] {
  const tierNames = new Map(input.tiers.map((t) => [t.id, t.name]));
  return input.tickets.map((t) => ({
    tier: tierNames.get(t.tierId) ?? "Ticket",
    place: t.seat ? `seat ${t.seat}` : "general admission",
    void: t.status === "void",
  }));
}

const count = (n: number) => (n === 1 ? "1 ticket" : `${n} tickets`);
const KEEP_IT =
  "Anyone with this link can see and use your tickets: keep it to yourself, and do not forward this e-mail.";

export function composeTicketEmail(input: TicketEmailInput): TicketEmailContent {
  const { order, event, link } = input;
  const when = eventStartText(event.startsAt, event.timezone);
  const items = lines(input);
  const notice = NOTICES[order.status];
  // Labels have no control characters (src/schemas/common.ts); the subject is one line whatever the name.
  const subject = `Your tickets for ${event.name}`.replace(/\s+/g, " ");

  const text = [
    `Your tickets for ${event.name}`,
    when,
    "",
    ...(notice ? [notice, ""] : []),
    `Order ${order.id}, ${count(items.length)}:`,
    ...items.map((l, i) => `  ${i + 1}. ${l.tier}, ${l.place}${l.void ? " (void: does not admit)" : ""}`),
    "",
    "Your tickets, with a QR code for each to show at the door:",
    link,
    "",
    KEEP_IT,
    "",
  ].join("\n");

  const rows = items
    .map(
      (l) =>
        `<li style="margin:.3rem 0"><strong>${escapeHtml(l.tier)}</strong>, ${escapeHtml(l.place)}` +
        `${l.void ? ' <span style="color:#8c1018">(void: does not admit)</span>' : ""}</li>`,
    )
    .join("\n");
  const href = escapeHtml(link);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f4f5;color:#17181c;font:16px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif">
<div style="max-width:32rem;margin:0 auto;padding:1.25rem 1rem;background:#ffffff">
<h1 style="font-size:1.4rem;line-height:1.2;margin:0 0 .25rem">Your tickets for ${escapeHtml(event.name)}</h1>
<p style="margin:0 0 1rem;color:#3d4049">${escapeHtml(when)}</p>
${notice ? `<p style="background:#fff4d6;border-left:4px solid #e0a100;padding:.5rem .75rem">${escapeHtml(notice)}</p>\n` : ""}<p style="margin:0">Order <code>${escapeHtml(order.id)}</code>, ${count(items.length)}:</p>
<ol style="margin:.5rem 0 1.25rem;padding-left:1.5rem">
${rows}
</ol>
<p style="margin:0 0 1.25rem"><a href="${href}" style="display:inline-block;background:#1d3f8f;color:#ffffff;text-decoration:none;font-weight:700;padding:.7rem 1.2rem;border-radius:.4rem">Show my tickets</a></p>
<p style="margin:0 0 .5rem;font-size:.9rem">A QR code for each ticket, to show at the door. If the button does not work, open this link:<br><a href="${href}" style="color:#1d3f8f;word-break:break-all">${href}</a></p>
<p style="margin:1rem 0 0;font-size:.85rem;color:#3d4049">${escapeHtml(KEEP_IT)}</p>
</div></body></html>
`;
  return { subject, text, html };
}
