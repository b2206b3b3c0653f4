/**
 * What the suite's scenarios share: a fresh event per scenario, scanners and free tickets (the bench's
 * helpers), one buyer's purchase (reserve → checkout → Stripe's signed `checkout.session.completed`,
 * timed request by request), and the read-backs that prove the outcome: the paid orders with their
 * tickets, the tier's counters, the audit log, and the event's verify checks. Set-up and read-backs go
 * through the context's API client, off the clock; only purchases and scans are measured.
 */
import { randomInt } from "node:crypto";
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
import type { Http, Metrics } from "./engine.ts";

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

/**
 * One buyer's purchase of one ticket, each step timed under its name: reserve (201, or 409 SOLD_OUT),
 * check out (201, pending payment), and Stripe's signed `checkout.session.completed` (200: paid).
 */
export async function buy(http: Http, metrics: Metrics, webhookSecret: string, event: BenchEvent): Promise<Purchase> {
  const r = await http.request<Reservation & { code?: string }>(
    "reserve",
    "POST",
    `/v1/events/${event.id}/reservations`,
    { raw: reservationBody(event), expect: [201, 409] },
  );
  if (r.status === 409) {
    metrics.check("reserve: 201, or 409 SOLD_OUT", r.body?.code === "SOLD_OUT", `409 ${r.body?.code}`);
    return r.body?.code === "SOLD_OUT" ? { kind: "sold_out" } : { kind: "failed", step: "reserve" };
  }
  if (!metrics.check("reserve: 201, or 409 SOLD_OUT", r.ok, `status ${r.status}`)) {
    return { kind: "failed", step: "reserve" };
  }
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

/**
 * Every paid order of the event with its tickets (`GET …/orders?status=paid`, 100 a page: a page of
 * more than 100 orders answered 500 when this was written, its tickets query binding one parameter per
 * order, past D1's 100).
 */
export async function paidOrders(ctx: ScenarioContext, eventId: string): Promise<PaidOrder[]> {
  const orders: PaidOrder[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ status: "paid", limit: "100", ...(cursor ? { cursor } : {}) });
    const page: { orders: PaidOrder[]; nextCursor: string | null } = await ctx.api(
      "GET",
      `/v1/events/${eventId}/orders?${query}`,
      undefined,
      { token: ctx.adminToken },
    );
    orders.push(...page.orders);
    cursor = page.nextCursor;
  } while (cursor);
  return orders;
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

export interface AuditEntry {
  action: string;
  subject: { type: string; id: string };
}

/** Every entry of one action in the event's audit log (200 a page). */
export async function auditEntries(ctx: ScenarioContext, eventId: string, action: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ action, limit: "200", ...(cursor ? { cursor } : {}) });
    const page: { entries: AuditEntry[]; nextCursor: string | null } = await ctx.api(
      "GET",
      `/v1/events/${eventId}/audit?${query}`,
      undefined,
      { token: ctx.adminToken },
    );
    entries.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

export interface Verify {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

/** The event's inventory invariants (`GET /v1/events/:id/verify`). */
export function verifyEvent(ctx: ScenarioContext, eventId: string): Promise<Verify> {
  return ctx.api<Verify>("GET", `/v1/events/${eventId}/verify`, undefined, { token: ctx.adminToken });
}

/** A copy of `items` in random order (Fisher–Yates). */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
