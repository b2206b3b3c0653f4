/**
 * The read-backs that prove a scenario's outcome, off the clock through the context's API client: the
 * paid orders with their tickets, the tier's counters, and the event's verify checks.
 */
import type { ScenarioContext } from "../common/context.ts";
import { everyPage, type LoadEvent } from "../common/events.ts";
import { exactly, type Threshold } from "./thresholds.ts";

export interface PaidOrder {
  id: string;
  status: string;
  tickets: { id: string; code: string; status: string }[];
}

/** Every paid order of the event with its tickets. */
export function paidOrders(ctx: ScenarioContext, eventId: string): Promise<PaidOrder[]> {
  return everyPage(ctx, `/v1/events/${eventId}/orders`, { status: "paid" }, "orders");
}

export interface TierStats {
  capacity: number;
  sold: number;
  held: number;
  available: number;
  checkedIn: number;
}

export interface QueueStats {
  waiting: number;
  admitted: number;
  passesUsed: number;
  admitPerMinute: number;
  oldestWaitSeconds: number;
}

export interface EventStats {
  tiers: (TierStats & { tierId: string })[];
  checkins: { admitted: number; duplicates: number; byGate: Record<string, unknown> };
  /** Null on an event that does not sell through a queue. */
  queue: QueueStats | null;
}

/** The event's stats and its (one) tier's counters. */
export async function eventStats(ctx: ScenarioContext, event: LoadEvent): Promise<EventStats & { tier: TierStats }> {
  const stats = await ctx.api<EventStats>("GET", `/v1/events/${event.id}/stats`, undefined, { token: ctx.adminToken });
  const tier = stats.tiers.find((t) => t.tierId === event.tierId);
  if (!tier) throw new Error(`the stats of ${event.id} have no tier ${event.tierId}`);
  return { ...stats, tier };
}

/** The counts that prove a sale: paid orders, their tickets, distinct codes, and how far past capacity. */
export async function saleFacts(ctx: ScenarioContext, event: LoadEvent) {
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
export async function checkSale(ctx: ScenarioContext, event: LoadEvent, paidByClients: Set<string>) {
  const { paidOrderIds, facts } = await saleFacts(ctx, event);
  const lost = [...paidByClients].filter((id) => !paidOrderIds.has(id)).length;
  const thresholds: Threshold[] = [
    exactly("tickets oversold", facts.oversold, 0),
    exactly("lost payments (webhook 200, order not paid)", lost, 0),
  ];
  return { facts: { ...facts, paidByClients: paidByClients.size, lostPayments: lost }, thresholds };
}

export interface Verify {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

/** The event's inventory invariants (`GET /v1/events/:id/verify`). */
export function verifyEvent(ctx: ScenarioContext, eventId: string): Promise<Verify> {
  return ctx.api<Verify>("GET", `/v1/events/${eventId}/verify`, undefined, { token: ctx.adminToken });
}

export interface TierAttempts {
  tierId: string;
  peakPerSecond: number;
  perSecond: { at: string; attempts: number }[];
}

/** Reservation attempts that reached the tier's object, per second, as the object counted them. */
export function tierAttempts(ctx: ScenarioContext, tierId: string): Promise<TierAttempts> {
  return ctx.api<TierAttempts>("GET", `/v1/tiers/${tierId}/attempts`, undefined, { token: ctx.adminToken });
}
