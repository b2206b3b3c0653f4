/** Stats after a scripted day, and verify on a healthy event and on one corrupted behind the service's back. */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newScanner, scan } from "./door";
import { deliver } from "./fake-stripe";
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";
import { checkedOutOrder, completedEvent, lapse, useFakeStripe } from "./payments";

const stripe = useFakeStripe();

async function paid(eventId: string, items: { tierId: string; quantity: number }[]) {
  const { order, session } = await checkedOutOrder(stripe, eventId, items);
  expect((await deliver(completedEvent(session))).status).toBe(200);
  const read = await api("GET", `/v1/orders/${order.orderId}`, { token: ADMIN_TOKEN });
  expect(read.body.status).toBe("paid");
  return read.body as { id: string; tickets: { id: string; tierId: string; code: string }[] };
}

const verify = async (eventId: string) => {
  const res = await api("GET", `/v1/events/${eventId}/verify`, { token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  return res.body as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
};

it("stats after a scripted day equal the hand-computed numbers, and verify passes", async () => {
  const event = await createEvent([
    { name: "Floor", capacity: 10, price: 2000, holdSeconds: 60 },
    { name: "Box", capacity: 2, price: 5000, holdSeconds: 60 },
  ]);
  const [floor, box] = event.tiers.map((t) => t.id) as [string, string];

  // 1. A hold of 1 that lapses (60 s).
  expect((await reserve(event.id, [{ tierId: floor, quantity: 1 }])).status).toBe(201);
  await lapse([floor]);
  // 2. A hold of 1 released by the buyer.
  const released = (await reserve(event.id, [{ tierId: box, quantity: 1 }])).body;
  expect((await api("DELETE", `/v1/reservations/${released.id}`, { token: released.token })).status).toBe(200);
  // 3. Two paid orders: 2 × Floor; 3 × Floor + 1 × Box.
  const first = await paid(event.id, [{ tierId: floor, quantity: 2 }]);
  const second = await paid(event.id, [
    { tierId: floor, quantity: 3 },
    { tierId: box, quantity: 1 },
  ]);
  // 4. Three Box tickets asked for while 1 is left: refused.
  expect((await reserve(event.id, [{ tierId: box, quantity: 3 }])).body.code).toBe("SOLD_OUT");
  // 5. One Floor ticket of the second order refunded.
  const refundedTicket = second.tickets.find((t) => t.tierId === floor) as { id: string };
  const refund = await api("POST", `/v1/orders/${second.id}/refunds`, {
    token: ADMIN_TOKEN,
    body: { ticketIds: [refundedTicket.id] },
  });
  expect(refund.status).toBe(201);
  // 6. The doors: one Floor ticket admitted at the north gate (then scanned again), the Box one at the south.
  const north = await newScanner(event.id, { gate: "north" });
  const south = await newScanner(event.id, { gate: "south" });
  const floorTicket = first.tickets[0] as { code: string };
  expect((await scan(north.token, floorTicket.code)).status).toBe(200);
  expect((await scan(north.token, floorTicket.code)).status).toBe(409);
  const boxTicket = second.tickets.find((t) => t.tierId === box) as { code: string };
  expect((await scan(south.token, boxTicket.code)).status).toBe(200);

  const res = await api("GET", `/v1/events/${event.id}/stats`, { token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  const { reservations, ...rest } = res.body;
  expect(rest).toEqual({
    tiers: [
      {
        tierId: floor,
        name: "Floor",
        capacity: 10,
        sold: 4,
        held: 0,
        available: 6,
        checkedIn: 1,
        grossRevenue: 10_000,
        refundedAmount: 2000,
      },
      {
        tierId: box,
        name: "Box",
        capacity: 2,
        sold: 1,
        held: 0,
        available: 1,
        checkedIn: 1,
        grossRevenue: 5000,
        refundedAmount: 0,
      },
    ],
    utilization: 0.4167,
    checkins: { admitted: 2, duplicates: 1, byGate: { north: 1, south: 1 } },
    queue: null,
  });
  expect(reservations).toMatchObject({
    created: 4,
    completed: 2,
    expired: 1,
    released: 1,
    failedSoldOut: 1,
    expirationRate: 0.25,
    conversionRate: 0.5,
  });
  // The expired hold lasted its 60 s; the other three ended within moments.
  expect(reservations.averageHoldSeconds).toBeGreaterThanOrEqual(15);
  expect(reservations.averageHoldSeconds).toBeLessThan(16);

  const healthy = await verify(event.id);
  expect(healthy.checks.filter((c) => !c.ok)).toEqual([]);
  expect(healthy.ok).toBe(true);
  expect(healthy.checks.map((c) => c.name)).toEqual([
    "tier 'Floor': available >= 0",
    "tier 'Floor': held <= capacity",
    "tier 'Floor': sold <= capacity",
    "tier 'Floor': sold + held <= capacity",
    "tier 'Floor': active holds sum to the held count",
    "tier 'Floor': valid tickets in the database equal the sold count",
    "tier 'Box': available >= 0",
    "tier 'Box': held <= capacity",
    "tier 'Box': sold <= capacity",
    "tier 'Box': sold + held <= capacity",
    "tier 'Box': active holds sum to the held count",
    "tier 'Box': valid tickets in the database equal the sold count",
    "no duplicate ticket codes",
    "every paid order has exactly its tickets",
    "no ticket admitted twice without an exit between",
  ]);
});

it("verify fails, naming the check, when D1 is corrupted behind the service's back", async () => {
  const event = await createEvent([{ name: "Floor", capacity: 5, price: 2000 }]);
  const tierId = event.tiers[0]?.id as string;
  const order = await paid(event.id, [{ tierId, quantity: 2 }]);
  const door = await newScanner(event.id);
  expect((await scan(door.token, order.tickets[1]?.code as string)).status).toBe(200);
  expect((await verify(event.id)).ok).toBe(true);

  // A ticket row lost, and a second admission written without an exit.
  await env.DB.prepare("DELETE FROM tickets WHERE id = ?").bind(order.tickets[0]?.id).run();
  await env.DB.prepare(
    `INSERT INTO checkins (id, event_id, ticket_id, scanner_id, nonce, offline, direction, gate, scanned_at,
       recorded_at, position, result, conflict, first_checked_in_at, flagged)
     SELECT 'chk_forged', event_id, ticket_id, scanner_id, NULL, 0, 'in', gate, scanned_at + 1, recorded_at + 1, 0,
       'admitted', 0, NULL, 0 FROM checkins WHERE ticket_id = ?`,
  )
    .bind(order.tickets[1]?.id)
    .run();

  const broken = await verify(event.id);
  expect(broken.ok).toBe(false);
  expect(broken.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail])).toEqual([
    ["tier 'Floor': valid tickets in the database equal the sold count", "1 valid tickets in D1, sold 2"],
    ["every paid order has exactly its tickets", `orders with the wrong tickets: ${order.id}`],
    ["no ticket admitted twice without an exit between", `tickets: ${order.tickets[1]?.id}`],
  ]);
});

it("stats and verify are the organiser's", async () => {
  const event = await createEvent([{ capacity: 1 }]);
  for (const path of ["stats", "verify"]) {
    expect((await api("GET", `/v1/events/${event.id}/${path}`)).status).toBe(401);
    expect((await api("GET", `/v1/events/evt_0000000000000000000000/${path}`, { token: ADMIN_TOKEN })).status).toBe(
      404,
    );
  }
});

it("a reservation across tiers refused by both counts once in failedSoldOut", async () => {
  const event = await createEvent([
    { capacity: 1, price: 0 },
    { capacity: 1, price: 0 },
  ]);
  const [a, b] = event.tiers.map((t) => t.id) as [string, string];
  expect((await reserve(event.id, [{ tierId: a, quantity: 1 }])).status).toBe(201);
  expect((await reserve(event.id, [{ tierId: b, quantity: 1 }])).status).toBe(201);
  const refused = await reserve(event.id, [
    { tierId: a, quantity: 1 },
    { tierId: b, quantity: 1 },
  ]);
  expect(refused.body.code).toBe("SOLD_OUT");
  expect((await reserve(event.id, [{ tierId: b, quantity: 1 }])).body.code).toBe("SOLD_OUT");
  const stats = await api("GET", `/v1/events/${event.id}/stats`, { token: ADMIN_TOKEN });
  expect(stats.body.reservations.failedSoldOut).toBe(2);
});
