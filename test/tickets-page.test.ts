/**
 * The buyer's tickets page (`GET /tickets/:orderId?t=<order token>`): what a buyer sees with the link
 * from checkout, and the one 404 page every other link gets.
 */
import { describe, expect, it } from "vitest";
import { newScanner, scan } from "./door";
import { deliver } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";
import { completedEvent, standingAndSeatA2, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

const ticketsPage = (orderId: string, token?: string) =>
  api<string>("GET", `/tickets/${orderId}${token === undefined ? "" : `?t=${encodeURIComponent(token)}`}`);

/** The page's tickets, in order: id, status, and what their card shows. */
function ticketCards(page: string) {
  return [...page.matchAll(/<li class="ticket" id="([^"]+)" data-status="([^"]+)"[^>]*>([\s\S]*?)<\/li>/g)].map(
    (m) => ({ id: m[1], status: m[2], card: m[3] as string, qrCodes: (m[3] as string).split("<svg").length - 1 }),
  );
}

/** The page without its per-response style nonce. */
const withoutNonce = (page: string) => page.replaceAll(/nonce="[^"]*"/g, 'nonce=""');

/** Two general-admission tickets and seat A2, paid through (fake) Stripe. */
async function paidOrder() {
  const {
    event,
    reservation,
    order: opened,
    session,
  } = await standingAndSeatA2(stripe, "Night of the page", "ada@example.com");
  expect((await deliver(completedEvent(session))).status).toBe(200);
  const order = (await api("GET", `/v1/orders/${opened.orderId}`, { token: opened.orderToken })).body;
  expect(order.status).toBe("paid");
  return { event, reservation, orderId: order.id as string, token: opened.orderToken as string, order };
}

describe("the tickets page", () => {
  it("shows a paid order's event and each ticket's QR code, tier, seat and status", async () => {
    const { orderId, token, order } = await paidOrder();
    const res = await ticketsPage(orderId, token);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(res.body).toContain("<h1>Night of the page</h1>");
    // 19:30 UTC is 21:30 in Paris in June.
    expect(res.body).toContain("Tuesday, 1 June 2027 at 21:30 (Europe/Paris)");

    const cards = ticketCards(res.body);
    const tickets = order.tickets as { id: string; seat?: string; code: string }[];
    expect(cards.map((c) => c.id)).toEqual(tickets.map((t) => t.id));
    expect(res.body.split("<svg").length - 1).toBe(3);
    for (const [i, ticket] of tickets.entries()) {
      const card = cards[i] as (typeof cards)[number];
      expect(card.qrCodes).toBe(1);
      expect(card.status).toBe("valid");
      expect(card.card).toContain(">valid</p>");
      expect(card.card).toContain(ticket.code);
      expect(card.card).toContain(ticket.seat ? "<h2>Balcony</h2>" : "<h2>Standing</h2>");
      expect(card.card).toContain(ticket.seat ? `Seat ${ticket.seat}` : "General admission");
    }
  });

  it("answers one and the same 404 page for every link that opens nothing", async () => {
    const { orderId, token, reservation } = await paidOrder();
    const other = await paidOrder();
    const links = [
      ticketsPage(orderId),
      ticketsPage(orderId, ""),
      ticketsPage(orderId, `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`),
      ticketsPage(orderId, "ordtok_not-a-real-token"),
      ticketsPage(orderId, other.token),
      ticketsPage(orderId, reservation.token),
      ticketsPage(orderId, ADMIN_TOKEN),
      ticketsPage("ord_0000000000000000000000", token),
      ticketsPage("nope", token),
      ticketsPage(`${orderId}x`, token),
    ];
    const answers = await Promise.all(links);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 404));
    const first = answers[0] as (typeof answers)[number];
    expect(first.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(first.headers.get("Cache-Control")).toBe("no-store");
    expect(first.body).toContain("No tickets here");
    expect(first.body).not.toContain(orderId);
    expect(first.body).not.toContain("<svg");
    expect(new Set(answers.map((a) => withoutNonce(a.body))).size).toBe(1);
  });

  it("marks a refunded ticket void, without a code to show, and a checked-in one as checked in", async () => {
    const { event, orderId, token, order } = await paidOrder();
    const [refunded, inside] = order.tickets as { id: string; code: string }[];
    const refund = await api("POST", `/v1/orders/${orderId}/refunds`, {
      token: ADMIN_TOKEN,
      body: { ticketIds: [refunded?.id] },
    });
    expect(refund.status).toBe(201);
    const scanner = await newScanner(event.id);
    expect((await scan(scanner.token, inside?.code as string)).status).toBe(200);

    const res = await ticketsPage(orderId, token);
    expect(res.status).toBe(200);
    const [voided, checkedIn, valid] = ticketCards(res.body);
    expect(voided).toMatchObject({ id: refunded?.id, status: "void", qrCodes: 0 });
    expect(voided?.card).toContain(">void</p>");
    expect(voided?.card).not.toContain(refunded?.code);
    expect(checkedIn).toMatchObject({ id: inside?.id, status: "checked_in", qrCodes: 1 });
    expect(checkedIn?.card).toContain(">checked in</p>");
    expect(valid).toMatchObject({ status: "valid", qrCodes: 1 });
    expect(res.body).toContain("Part of this order was refunded");
  });

  it("tells a buyer back from Stripe before the payment is confirmed to wait, and looks again", async () => {
    const event = await createEvent([{ capacity: 5, price: 2500 }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 1 }])).body;
    const opened = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "early@example.com" },
    });
    const res = await ticketsPage(opened.body.orderId, opened.body.orderToken);
    expect(res.status).toBe(200);
    expect(res.body).toContain("Your payment is being confirmed");
    expect(res.body).toContain('<meta http-equiv="refresh" content="5">');
    expect(res.body).not.toContain("<svg");
  });

  it("shows a free order's tickets, paid at checkout", async () => {
    const event = await createEvent([{ name: "Free entry", capacity: 5, price: 0 }]);
    const tierId = event.tiers[0]?.id as string;
    const reservation = (await reserve(event.id, [{ tierId, quantity: 2 }])).body;
    const free = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email: "free@example.com" },
    });
    expect(free.body.status).toBe("paid");
    const res = await ticketsPage(free.body.orderId, free.body.orderToken);
    expect(ticketCards(res.body).map((c) => [c.id, c.qrCodes])).toEqual(
      (free.body.tickets as { id: string }[]).map((t) => [t.id, 1]),
    );
    expect(res.body).toContain("<h2>Free entry</h2>");
  });

  it("is in the OpenAPI document as a page whose every refusal but the rate limit is its 404 page", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    const page = doc.paths["/tickets/{orderId}"].get;
    expect(page.tags).toEqual(["pages"]);
    expect(page.security).toEqual([{ orderLink: [] }]);
    expect(doc.components.securitySchemes.orderLink).toMatchObject({ type: "apiKey", in: "query", name: "t" });
    expect(Object.keys(page.responses).sort()).toEqual(["200", "404", "429", "500"]);
    expect(Object.keys(page.responses["404"].content)).toEqual(["text/html"]);
  });

  it("is where Stripe's default success page sends the buyer, asking for the order token", async () => {
    const { orderId } = await paidOrder();
    const res = await api<string>("GET", `/checkout/complete?order=${orderId}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain(`<form method="get" action="/tickets/${orderId}">`);
    expect(res.body).toContain('name="t"');
    const odd = await api<string>("GET", "/checkout/complete?order=%22%3E%3Cscript%3E");
    expect(odd.body).not.toContain("<form");
    expect(odd.body).not.toContain("<script>");
  });
});
