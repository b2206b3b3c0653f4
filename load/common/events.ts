/**
 * Events as the load harnesses set them up and read them back: one event with one tier, its scanners,
 * and every item of a paginated list (the audit log, the check-in list, the orders), all through the
 * context's API client, off the clock.
 */
import type { ScenarioContext } from "./context.ts";
import type { QueueSettings } from "./queue.ts";

/** An event with its one tier. */
export interface LoadEvent {
  id: string;
  tierId: string;
  capacity: number;
  price: number;
}

/**
 * A new event with one tier (`price` 0: free, paid at checkout), `perOrder` tickets an order at the
 * most, its holds lasting `holdSeconds` (the API's default when not given); with `options.queue`, it
 * sells through a drop queue (queue.ts). Its name ends with the time it was made: runs against one
 * service tell their events apart.
 */
export async function createEvent(
  ctx: Pick<ScenarioContext, "api" | "adminToken">,
  name: string,
  tier: { price: number; capacity: number; perOrder?: number; holdSeconds?: number },
  options: { queue?: QueueSettings } = {},
): Promise<LoadEvent> {
  const perOrder = tier.perOrder ?? 10;
  const event = await ctx.api<{ id: string; tiers: { id: string }[] }>(
    "POST",
    "/v1/events",
    {
      name: `${name} ${new Date().toISOString()}`,
      startsAt: "2030-06-01T19:00:00Z",
      currency: "eur",
      maxTicketsPerOrder: perOrder,
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      tiers: [
        {
          name: "General admission",
          price: tier.price,
          capacity: tier.capacity,
          maxPerOrder: perOrder,
          ...(tier.holdSeconds === undefined ? {} : { holdSeconds: tier.holdSeconds }),
        },
      ],
    },
    { token: ctx.adminToken, expect: 201 },
  );
  const created = event.tiers[0];
  if (!created) throw new Error(`the event "${name}" was created without its tier`);
  return { id: event.id, tierId: created.id, capacity: tier.capacity, price: tier.price };
}

/** `n` scanner tokens for the event, "Scanner 1", "Scanner 2"... at `gate(i)` ("Gate 1", "Gate 2"... by default). */
export async function addScanners(
  ctx: Pick<ScenarioContext, "api" | "adminToken">,
  eventId: string,
  n: number,
  gate: (i: number) => string = (i) => `Gate ${i + 1}`,
): Promise<string[]> {
  const scanners = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      ctx.api<{ token: string }>(
        "POST",
        `/v1/events/${eventId}/scanners`,
        { name: `Scanner ${i + 1}`, gate: gate(i) },
        { token: ctx.adminToken, expect: 201 },
      ),
    ),
  );
  return scanners.map((s) => s.token);
}

/**
 * Every item of a paginated organiser list (`limit` a page), the page's items under `key`; `headers`
 * go with every page (a client's address, for a list the service limits per client: the check-in list).
 */
export async function everyPage<K extends string, T>(
  ctx: ScenarioContext,
  path: string,
  filter: Record<string, string>,
  key: K,
  limit = 200,
  headers: Record<string, string> = {},
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...filter, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const page: Record<K, T[]> & { nextCursor: string | null } = await ctx.api("GET", `${path}?${query}`, undefined, {
      token: ctx.adminToken,
      headers,
    });
    items.push(...page[key]);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export interface AuditEntry {
  action: string;
  subject: { type: string; id: string };
}

/** Every entry of one action in the event's audit log (200 a page, the most the API gives). */
export function auditEntries(ctx: ScenarioContext, eventId: string, action: string): Promise<AuditEntry[]> {
  return everyPage(ctx, `/v1/events/${eventId}/audit`, { action }, "entries");
}
