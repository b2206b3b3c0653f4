/** The organiser's order list and the attendee export. */
import { describe, expect, it } from "vitest";
import { newScanner, scan } from "./door";
import { deliver, stripeEvent } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";
import { checkedOutOrder, completedEvent, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

async function freeOrder(eventId: string, tierId: string, quantity: number, buyer: { email: string; name?: string }) {
  const reservation = (await reserve(eventId, [{ tierId, quantity }])).body;
  const res = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
    token: reservation.token,
    body: buyer,
  });
  expect(res.status).toBe(201);
  return res.body as { orderId: string; tickets: { id: string; code: string }[] };
}

describe("orders of an event", () => {
  it("pages newest first with their tickets, and filters by status", async () => {
    const event = await createEvent([
      { name: "Free", capacity: 20, price: 0 },
      { name: "Paid", capacity: 10 },
    ]);
    const [free, paidTier] = event.tiers.map((t) => t.id) as [string, string];
    const item = [{ tierId: paidTier, quantity: 1 }];
    /** An order that went to checkout and was not paid (its checkout page never visited). */
    const unpaid = async () => (await checkedOutOrder(stripe, event.id, item)).order.orderId as string;
    const paid = async () => {
      const { order, session } = await checkedOutOrder(stripe, event.id, item);
      expect((await deliver(completedEvent(session))).status).toBe(200);
      return order.orderId as string;
    };
    const ended = async (type: "checkout.session.expired" | "checkout.session.async_payment_failed") => {
      const { order, session } = await checkedOutOrder(stripe, event.id, item);
      expect((await deliver(stripeEvent(type, { ...session, status: "expired" }))).status).toBe(200);
      return order.orderId as string;
    };
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await freeOrder(event.id, free, i + 1, { email: `b${i}@example.com` }));
    const [free0, free1, free2] = made.map((o) => o.orderId) as [string, string, string];
    const pending1 = await unpaid();
    const card = await paid();
    const pending2 = await unpaid();
    const expired = await ended("checkout.session.expired");
    const canceled = await ended("checkout.session.async_payment_failed");
    // A reservation without a checkout is no order at all.
    expect((await reserve(event.id, item)).status).toBe(201);

    const list = async (query: string) => {
      const res = await api("GET", `/v1/events/${event.id}/orders?${query}`, { token: ADMIN_TOKEN });
      expect(res.status).toBe(200);
      return res.body as { orders: { id: string; status: string; tickets: unknown[] }[]; nextCursor: string | null };
    };
    const ids = (page: { orders: { id: string }[] }) => page.orders.map((o) => o.id);

    expect(ids(await list("limit=50"))).toEqual([canceled, expired, pending2, card, pending1, free2, free1, free0]);

    const page1 = await list("limit=2&status=paid");
    expect(ids(page1)).toEqual([card, free2]);
    expect(page1.orders[1]).toMatchObject({ status: "paid", email: "b2@example.com", eventId: event.id });
    expect(page1.orders[1]?.tickets).toHaveLength(3);
    expect(page1.orders[0]?.tickets).toHaveLength(1);
    const page2 = await list(`limit=2&status=paid&cursor=${page1.nextCursor}`);
    expect(ids(page2)).toEqual([free1, free0]);
    expect(page2.nextCursor).toBeNull();

    const pending = await list("status=pending_payment");
    expect(ids(pending)).toEqual([pending2, pending1]);
    expect(pending.orders.map((o) => o.status)).toEqual(["pending_payment", "pending_payment"]);
    expect(pending.nextCursor).toBeNull();
    expect(ids(await list("status=expired"))).toEqual([expired]);
    expect(ids(await list("status=canceled"))).toEqual([canceled]);

    expect(await list("status=refunded")).toEqual({ orders: [], nextCursor: null });
    expect((await api("GET", `/v1/events/${event.id}/orders?status=lost`, { token: ADMIN_TOKEN })).status).toBe(400);
    expect((await api("GET", `/v1/events/${event.id}/orders`)).status).toBe(401);
  });
});

it("a page of 200 orders comes whole (more than D1's 100 bound parameters)", async () => {
  const event = await createEvent([{ name: "Free", capacity: 300, price: 0 }]);
  const tierId = event.tiers[0]?.id as string;
  await Promise.all(
    Array.from({ length: 120 }, (_, i) => freeOrder(event.id, tierId, 1, { email: `g${i}@example.com` })),
  );
  const res = await api("GET", `/v1/events/${event.id}/orders?limit=200`, { token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  expect(res.body.orders).toHaveLength(120);
  expect(res.body.orders.every((o: { tickets: unknown[] }) => o.tickets.length === 1)).toBe(true);
});

describe("attendees.csv", () => {
  it("has one row per ticket, with check-in times, and defuses spreadsheet formulas", async () => {
    const event = await createEvent([{ name: "Floor, standing", capacity: 10, price: 0 }]);
    const tierId = event.tiers[0]?.id as string;
    const a = await freeOrder(event.id, tierId, 2, { email: "ada@example.com", name: 'Ada "the" Lovelace' });
    const b = await freeOrder(event.id, tierId, 1, { email: "eve@example.com", name: '=HYPERLINK("http://x")' });
    const door = await newScanner(event.id);
    const admitted = await scan(door.token, a.tickets[0]?.code as string);

    const res = await exports(event.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="attendees-${event.id}.csv"`);
    const lines = res.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe("order_id,email,name,tier,seat,ticket_id,status,checked_in_at");
    const expected = [
      ...a.tickets.map(
        (t, i) =>
          `${a.orderId},ada@example.com,"Ada ""the"" Lovelace","Floor, standing",,${t.id},${i === 0 ? "checked_in" : "valid"},${i === 0 ? admitted.body.checkedInAt : ""}`,
      ),
      `${b.orderId},eve@example.com,"'=HYPERLINK(""http://x"")","Floor, standing",,${b.tickets[0]?.id},valid,`,
    ];
    expect(lines.slice(1).sort()).toEqual(expected.sort());
  });
});

async function exports(eventId: string) {
  const { exports: worker } = await import("cloudflare:workers");
  const res = await worker.default.fetch(`http://boxoffice.test/v1/events/${eventId}/attendees.csv`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
