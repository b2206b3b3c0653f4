/**
 * What the suite's scenarios share: a fresh event per scenario, scanners and free tickets (the bench's
 * helpers), one buyer's purchase (reserve → checkout → Stripe's signed `checkout.session.completed`,
 * timed request by request), and the read-backs that prove the outcome: the paid orders with their
 * tickets, the tier's counters, the audit log, and the event's verify checks. Set-up and read-backs go
 * through the context's API client, off the clock; only purchases and scans are measured.
 */
import {
  type BenchEvent,
  CHECKOUT_BODY,
  type CheckoutAnswer,
  type PendingOrder,
  paidWebhook,
  pendingOrder,
  type Reservation,
  reservationBody,
} from "../lib/scenarios/buyers.ts";
import { issueTickets } from "../lib/scenarios/checkins.ts";
import type { ScenarioContext } from "../lib/scenarios/context.ts";
import type { Expected, Http, Metrics } from "./engine.ts";
import { exactly, type Threshold } from "./scenario.ts";

/** A fresh event with one tier (`price` 0: free, paid at checkout). */
export async function createEvent(
  ctx: ScenarioContext,
  name: string,
  tier: { price: number; capacity: number },
): Promise<BenchEvent> {
  const event = await ctx.api<{ id: string; tiers: { id: string }[] }>(
    "POST",
    "/v1/events",
    {
      name: `Load: ${name} ${new Date().toISOString()}`,
      startsAt: "2027-06-01T19:00:00Z",
      currency: "eur",
      maxTicketsPerOrder: 10,
      tiers: [{ name: "General admission", price: tier.price, capacity: tier.capacity, maxPerOrder: 10 }],
    },
    { token: ctx.adminToken, expect: 201 },
  );
  const created = event.tiers[0];
  if (!created) throw new Error("the event was created without its tier");
  return { id: event.id, tierId: created.id, ...tier };
}

/** `n` scanner tokens for the event, at gates "Gate 1", "Gate 2"... */
export async function addScanners(ctx: ScenarioContext, eventId: string, n: number): Promise<string[]> {
  const scanners = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      ctx.api<{ token: string }>(
        "POST",
        `/v1/events/${eventId}/scanners`,
        { name: `Load scanner ${i + 1}`, gate: `Gate ${i + 1}` },
        { token: ctx.adminToken, expect: 201 },
      ),
    ),
  );
  return scanners.map((s) => s.token);
}

/** `n` ticket codes of a free tier (free orders of 10, issued by the bench's helper). */
export async function freeTickets(ctx: ScenarioContext, event: BenchEvent, n: number): Promise<string[]> {
  const codes = await issueTickets(ctx, { id: event.id, tierId: event.tierId }, n);
  return codes.slice(0, n);
}

export type Purchase =
  | { kind: "paid"; order: PendingOrder }
  | { kind: "sold_out" }
  | { kind: "failed"; step: "reserve" | "checkout" | "webhook" };

/** What a reservation may answer when the tier can sell out: 201, or 409 with a sell-out's code. */
const RESERVE_OR_SOLD_OUT: readonly Expected[] = [201, "409 SOLD_OUT", "409 SEAT_UNAVAILABLE"];

/**
 * One buyer's purchase of one ticket, each step timed under its name: reserve (201; or, where the tier
 * `canSellOut`, 409 SOLD_OUT or SEAT_UNAVAILABLE; any other answer fails), check out (201, pending
 * payment), and Stripe's signed `checkout.session.completed` (200: paid).
 */
export async function buy(
  http: Http,
  metrics: Metrics,
  webhookSecret: string,
  event: BenchEvent,
  canSellOut: boolean,
): Promise<Purchase> {
  const r = await http.request<Reservation & { code?: string }>(
    "reserve",
    "POST",
    `/v1/events/${event.id}/reservations`,
    { raw: reservationBody(event), expect: canSellOut ? RESERVE_OR_SOLD_OUT : [201] },
  );
  const expected = canSellOut ? "reserve: 201, or 409 SOLD_OUT | SEAT_UNAVAILABLE" : "reserve: 201";
  if (!metrics.check(expected, r.ok, `${r.status} ${r.body?.code ?? ""}`)) return { kind: "failed", step: "reserve" };
  if (r.status === 409) return { kind: "sold_out" };
  const c = await http.request<CheckoutAnswer>("checkout", "POST", `/v1/reservations/${r.body.id}/checkout`, {
    raw: CHECKOUT_BODY,
    token: r.body.token,
    expect: [201],
  });
  const order = c.ok ? pendingOrder(c.body) : `status ${c.status}`;
  if (!metrics.check("checkout: 201 pending_payment", typeof order !== "string", String(order))) {
    return { kind: "failed", step: "checkout" };
  }
  const pending = order as PendingOrder;
  const { body, headers } = paidWebhook(webhookSecret, pending);
  const w = await http.request("webhook", "POST", "/v1/webhooks/stripe", { raw: body, headers, expect: [200] });
  if (!metrics.check("webhook: 200", w.ok, `status ${w.status}`)) return { kind: "failed", step: "webhook" };
  return { kind: "paid", order: pending };
}

/**
 * One scan at the door, timed as `checkin`: `admitted` (200 admitted), `refused` (409
 * ALREADY_CHECKED_IN, the ticket was in already) or `failed` (any other answer: a failed check).
 */
export async function scan(
  http: Http,
  metrics: Metrics,
  code: string,
  scannerToken: string,
): Promise<"admitted" | "refused" | "failed"> {
  const r = await http.request<{ result?: string; code?: string }>("checkin", "POST", "/v1/checkins", {
    body: { code },
    token: scannerToken,
    expect: [200, "409 ALREADY_CHECKED_IN"],
  });
  const admitted = r.status === 200 && r.body?.result === "admitted";
  const refused = r.ok && r.status === 409;
  metrics.check(
    "checkin: 200 admitted, or 409 ALREADY_CHECKED_IN",
    admitted || refused,
    `${r.status} ${r.body?.result ?? r.body?.code}`,
  );
  return admitted ? "admitted" : refused ? "refused" : "failed";
}

/** Pays `orders` with signed webhooks, off the clock, `concurrency` at a time (to seed an event). */
export async function payOrders(ctx: ScenarioContext, orders: PendingOrder[], concurrency = 16): Promise<void> {
  let next = 0;
  const payer = async () => {
    for (let i = next++; i < orders.length; i = next++) {
      const order = orders[i] as PendingOrder;
      const { body, headers } = paidWebhook(ctx.webhookSecret, order);
      await ctx.api("POST", "/v1/webhooks/stripe", undefined, { raw: body, headers, expect: 200 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, payer));
}

export interface PaidOrder {
  id: string;
  status: string;
  tickets: { id: string; code: string; status: string }[];
}

/** Every paid order of the event with its tickets. */
export function paidOrders(ctx: ScenarioContext, eventId: string): Promise<PaidOrder[]> {
  return everyPage(ctx, `/v1/events/${eventId}/orders`, { status: "paid" }, "orders");
}

/** Every item of a paginated list (200 a page, the most the API gives), the page's items under `key`. */
async function everyPage<K extends string, T>(
  ctx: ScenarioContext,
  path: string,
  filter: Record<string, string>,
  key: K,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...filter, limit: "200", ...(cursor ? { cursor } : {}) });
    const page: Record<K, T[]> & { nextCursor: string | null } = await ctx.api("GET", `${path}?${query}`, undefined, {
      token: ctx.adminToken,
    });
    items.push(...page[key]);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export interface TierStats {
  capacity: number;
  sold: number;
  held: number;
  available: number;
  checkedIn: number;
}

export interface EventStats {
  tiers: (TierStats & { tierId: string })[];
  checkins: { admitted: number; duplicates: number; byGate: Record<string, unknown> };
}

/** The event's stats and its (one) tier's counters. */
export async function eventStats(ctx: ScenarioContext, event: BenchEvent): Promise<EventStats & { tier: TierStats }> {
  const stats = await ctx.api<EventStats>("GET", `/v1/events/${event.id}/stats`, undefined, { token: ctx.adminToken });
  const tier = stats.tiers.find((t) => t.tierId === event.tierId);
  if (!tier) throw new Error(`the stats of ${event.id} have no tier ${event.tierId}`);
  return { ...stats, tier };
}

/** The counts that prove a sale: paid orders, their tickets, distinct codes, and how far past capacity. */
export async function saleFacts(ctx: ScenarioContext, event: BenchEvent) {
  const [orders, stats] = await Promise.all([paidOrders(ctx, event.id), eventStats(ctx, event)]);
  const tickets = orders.flatMap((o) => o.tickets);
  const live = tickets.filter((t) => t.status !== "void");
  return {
    paidOrderIds: new Set(orders.map((o) => o.id)),
    facts: {
      capacity: event.capacity,
      paidOrders: orders.length,
      ticketsOfPaidOrders: live.length,
      distinctTicketCodes: new Set(live.map((t) => t.code)).size,
      ordersWithoutExactlyOneTicket: orders.filter((o) => o.tickets.length !== 1).length,
      tier: stats.tier,
      oversold: Math.max(0, stats.tier.sold - event.capacity, live.length - event.capacity),
    },
  };
}

/**
 * A sale read back once its buyers are done: saleFacts, with the payments the buyers saw accepted
 * (webhook 200) that the service lost, and the two thresholds every sale must meet.
 */
export async function checkSale(ctx: ScenarioContext, event: BenchEvent, paidByClients: Set<string>) {
  const { paidOrderIds, facts } = await saleFacts(ctx, event);
  const lost = [...paidByClients].filter((id) => !paidOrderIds.has(id)).length;
  const thresholds: Threshold[] = [
    exactly("tickets oversold", facts.oversold, 0),
    exactly("lost payments (webhook 200, order not paid)", lost, 0),
  ];
  return { facts: { ...facts, paidByClients: paidByClients.size, lostPayments: lost }, thresholds };
}

export interface AuditEntry {
  action: string;
  subject: { type: string; id: string };
}

/** Every entry of one action in the event's audit log. */
export function auditEntries(ctx: ScenarioContext, eventId: string, action: string): Promise<AuditEntry[]> {
  return everyPage(ctx, `/v1/events/${eventId}/audit`, { action }, "entries");
}

export interface Verify {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

/** The event's inventory invariants (`GET /v1/events/:id/verify`). */
export function verifyEvent(ctx: ScenarioContext, eventId: string): Promise<Verify> {
  return ctx.api<Verify>("GET", `/v1/events/${eventId}/verify`, undefined, { token: ctx.adminToken });
}
