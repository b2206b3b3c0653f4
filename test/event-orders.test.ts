/** The organiser's order list and the attendee export. */
import { describe, expect, it } from "vitest";
import { newScanner, scan } from "./door";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";

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
      { name: "Paid", capacity: 5 },
    ]);
    const [free, paidTier] = event.tiers.map((t) => t.id) as [string, string];
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await freeOrder(event.id, free, i + 1, { email: `b${i}@example.com` }));
    // An order waiting for its payment (its checkout page never visited).
    const pending = (await reserve(event.id, [{ tierId: paidTier, quantity: 1 }])).body;
    expect(pending.id).toBeDefined();

    const page1 = await api("GET", `/v1/events/${event.id}/orders?limit=2&status=paid`, { token: ADMIN_TOKEN });
    expect(page1.status).toBe(200);
    expect(page1.body.orders.map((o: { id: string }) => o.id)).toEqual([made[2]?.orderId, made[1]?.orderId]);
    expect(page1.body.orders[0].tickets).toHaveLength(3);
    expect(page1.body.orders[0]).toMatchObject({ status: "paid", email: "b2@example.com", eventId: event.id });
    const page2 = await api(
      "GET",
      `/v1/events/${event.id}/orders?limit=2&status=paid&cursor=${page1.body.nextCursor}`,
      {
        token: ADMIN_TOKEN,
      },
    );
    expect(page2.body.orders.map((o: { id: string }) => o.id)).toEqual([made[0]?.orderId]);
    expect(page2.body.nextCursor).toBeNull();

    const none = await api("GET", `/v1/events/${event.id}/orders?status=refunded`, { token: ADMIN_TOKEN });
    expect(none.body).toEqual({ orders: [], nextCursor: null });
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
